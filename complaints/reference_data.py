"""Reference data of complaints: regimes (their deadlines) and categories. Loaded by
migration 0002; the admin edits them."""

from __future__ import annotations

REGIMES = [
    # code, name, ack, summary, final weeks, final business days, extended business days
    ("standard", "Standard (8 weeks)", 1, 3, 8, None, None),
    ("payment_services", "Payment services (15 business days, 35 exceptionally)", 1, 3, None, 15, 35),
]
CATEGORIES = [
    ("accounts", "Accounts", None, False),
    ("accounts.charges", "Charges and fees", "accounts", False),
    ("accounts.service", "Service at the branch", "accounts", False),
    ("cards", "Cards", None, True),
    ("cards.disputed", "Disputed card payment", "cards", True),
    ("payments", "Payments and transfers", None, True),
    ("payments.delayed", "Delayed or missing payment", "payments", True),
    ("cash", "Cash at the window", None, False),
    ("cash.shortfall", "Cash received short", "cash", False),
    ("loans", "Loans", None, False),
]


def complaints_reference_load(Regime, Category) -> None:  # noqa: N803 - model classes
    for code, name, ack, summary, weeks, days, extended in REGIMES:
        Regime.objects.get_or_create(code=code, defaults={
            "name": name, "ack_business_days": ack, "summary_business_days": summary, "final_weeks": weeks,
            "final_business_days": days, "extended_final_business_days": extended})
    for code, name, parent, psd in CATEGORIES:
        Category.objects.get_or_create(code=code, defaults={
            "name": name, "parent": Category.objects.get(code=parent) if parent else None, "payment_services": psd})


