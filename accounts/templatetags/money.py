"""``{% load money %}``: amounts in the language of the page.

``{{ line.balance|money }}`` formats a :class:`~branch_ops.money.Money`;
``{{ entry.amount|money:"AED" }}`` formats integer minor units of a currency.
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from branch_ops.money import Money

register = template.Library()


@register.filter
def money(value, currency: str | None = None) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        if currency is None:
            return str(value)
        value = Money(int(value), str(currency))
    return value.format(get_language() or "en")
