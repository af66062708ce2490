"""Models of the `teller` app (built out by its own issue)."""
