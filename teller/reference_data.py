"""Reference data of the cash window: the notes and coins (minor units) of the currencies
most branches hold. Loaded by migration 0002; the admin manages the rest."""

from __future__ import annotations

DENOMINATIONS = {
    "AED": ([100000, 50000, 20000, 10000, 5000, 2000, 1000, 500], [100, 50, 25]),
    "USD": ([10000, 5000, 2000, 1000, 500, 200, 100], [25, 10, 5, 1]),
    "EUR": ([50000, 20000, 10000, 5000, 2000, 1000, 500], [200, 100, 50, 20, 10, 5, 2, 1]),
    "GBP": ([5000, 2000, 1000, 500], [200, 100, 50, 20, 10, 5, 2, 1]),
    "SAR": ([50000, 20000, 10000, 5000, 1000, 500], [200, 100, 50, 25]),
}


def denominations_load(denomination_model, currency_model) -> None:
    """Create the missing denominations (never changes existing rows)."""
    existing = set(denomination_model.objects.values_list("currency_id", "value"))
    known = set(currency_model.objects.values_list("code", flat=True))
    denomination_model.objects.bulk_create([
        denomination_model(currency_id=code, value=value, kind=kind)
        for code, (notes, coins) in DENOMINATIONS.items() if code in known
        for kind, values in (("note", notes), ("coin", coins))
        for value in values if (code, value) not in existing
    ])
