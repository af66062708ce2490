"""Models of the `customer_service` app (built out by its own issue)."""
