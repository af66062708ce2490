"""Reference data the product ships with: ISO 4217 currencies with their minor units.
The currencies a Gulf and European branch network usually handles start active; the admin
switches others on. Loaded by migration 0003 (and again by tests after a table flush)."""

from __future__ import annotations

from babel.numbers import get_currency_name

from branch_ops.money import ISO_4217_MINOR_UNITS

ACTIVE = {"AED", "BHD", "CHF", "CNY", "EUR", "GBP", "JOD", "JPY", "KWD", "OMR", "QAR", "SAR", "USD"}


def currencies_load(currency_model) -> None:
    """Create the ISO currencies that are missing (never changes existing rows)."""
    existing = set(currency_model.objects.values_list("code", flat=True))
    currency_model.objects.bulk_create([
        currency_model(code=code, name=get_currency_name(code, locale="en"), minor_units=digits,
                       active=code in ACTIVE)
        for code, digits in sorted(ISO_4217_MINOR_UNITS.items()) if code not in existing
    ])
