"""Models of the `complaints` app (built out by its own issue)."""
