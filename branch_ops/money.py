"""Money: integer minor units plus an ISO 4217 code. Never a float.

``Money`` is immutable. It is built from minor units (``Money(12345, "EUR")``), from a
``Decimal`` in major units (``Money.from_decimal(Decimal("123.45"), "EUR")``) or from what a
person typed in their language (``Money.parse("1.234,56", "EUR", locale="it")``), and it
formats itself for display in a language (``m.format("ar")``).

Input with more decimals than the currency has is an error, never silently rounded. Amounts
that are *computed* (exchange, interest, fees) are rounded in exactly one place,
:func:`round_to_minor`, with the named rule :data:`ROUNDING` (half-even, "banker's rounding").
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, NumberPattern, parse_decimal, parse_pattern
from django.utils.translation import gettext as _

from branch_ops.errors import ApplicationError

_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")

#: The one rounding rule for computed amounts.
ROUNDING = ROUND_HALF_EVEN

# ISO 4217 active codes and their minor units (exponent). Codes with no minor unit
# in the ISO table (precious metals, XDR, XXX...) are not money we move at a window.
_THREE = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_ZERO = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
    "VND", "VUV", "XAF", "XOF", "XPF",
}
_FOUR = {"CLF", "UYW"}
_TWO = {
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
    "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG",
    "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU",
    "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
}
ISO_4217_MINOR_UNITS: dict[str, int] = {
    **{c: 2 for c in _TWO},
    **{c: 0 for c in _ZERO},
    **{c: 3 for c in _THREE},
    **{c: 4 for c in _FOUR},
}


class MoneyError(ApplicationError):
    """Bad money input: unknown currency, malformed amount, too many decimals."""

    status_code = 400


def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency`` per ISO 4217; unknown code is an error."""
    try:
        return ISO_4217_MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise MoneyError(
            _("Unknown currency “%(code)s”.") % {"code": currency},
            code="UNKNOWN_CURRENCY",
            field="currency",
        ) from None


def round_to_minor(value: Decimal, currency: str) -> int:
    """Round a *computed* major-unit amount to whole minor units with :data:`ROUNDING`."""
    if not isinstance(value, Decimal):
        raise TypeError("round_to_minor takes a Decimal")
    exp = minor_units(currency)
    return int((value * (Decimal(10) ** exp)).to_integral_value(rounding=ROUNDING))


def _normalise_digits(text: str) -> str:
    """Map any Unicode decimal digit (Arabic-Indic, Eastern Arabic, full-width...) to ASCII
    and Arabic decimal/group separators to the Latin ones that Babel's ``ar`` locale uses."""
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.decimal(ch)))
                continue
            except ValueError:
                pass
        if ch == "\u066b":  # ARABIC DECIMAL SEPARATOR
            out.append(".")
        elif ch == "\u066c":  # ARABIC THOUSANDS SEPARATOR
            out.append(",")
        elif ch in "\u00a0\u202f\u2009 '\u2019":  # spaces and apostrophes used as groupers
            continue
        elif ch in "\u200e\u200f\u061c":  # direction marks
            continue
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency in integer minor units (cents, fils, yen)."""

    amount: int
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units (never a float)")
        minor_units(self.currency)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion of a major-unit ``Decimal``; too many decimals is an error."""
        if not isinstance(value, Decimal):
            raise TypeError("Money.from_decimal takes a Decimal (never a float)")
        if not value.is_finite():
            raise MoneyError(_("Enter a valid amount."), code="INVALID_AMOUNT", field="amount")
        exp = minor_units(currency)
        scaled = value * (Decimal(10) ** exp)
        if scaled != scaled.to_integral_value():
            if exp == 0:
                raise MoneyError(
                    _("%(code)s amounts are whole numbers, without decimals.") % {"code": currency},
                    code="TOO_MANY_DECIMALS",
                    field="amount",
                )
            raise MoneyError(
                _("%(code)s amounts have at most %(digits)s decimal places.")
                % {"code": currency, "digits": exp},
                code="TOO_MANY_DECIMALS",
                field="amount",
            )
        return cls(int(scaled), currency)

    @classmethod
    def parse(cls, text: str | Decimal | int, currency: str, *, locale: str = "en") -> Money:
        """Parse what a person typed, in the conventions of ``locale`` (``1.234,56`` in
        Italian, Arabic-Indic digits in Arabic); raise :class:`MoneyError` with a clear,
        translated message on anything else."""
        minor_units(currency)
        if isinstance(text, bool) or isinstance(text, float):
            raise TypeError("Money.parse never takes a float")
        if isinstance(text, int):
            return cls.from_decimal(Decimal(text), currency)
        if isinstance(text, Decimal):
            return cls.from_decimal(text, currency)
        raw = _normalise_digits(str(text).strip())
        if not raw:
            raise MoneyError(_("Enter an amount."), code="INVALID_AMOUNT", field="amount")
        try:
            value = parse_decimal(raw, locale=_babel_locale(locale), strict=True)
        except (NumberFormatError, InvalidOperation, ValueError):
            raise MoneyError(
                _("“%(text)s” is not a valid amount.") % {"text": str(text)[:40]},
                code="INVALID_AMOUNT",
                field="amount",
            ) from None
        return cls.from_decimal(value, currency)

    # --- arithmetic (same currency only) -------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError("cannot combine amounts of different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    # --- output -----------------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        exp = minor_units(self.currency)
        return Decimal(self.amount).scaleb(-exp)

    def format(self, locale: str = "en", *, with_currency: bool = True) -> str:
        """Format for display in ``locale`` with exactly the currency's ISO decimals."""
        loc = _babel_locale(locale)
        exp = minor_units(self.currency)
        pattern = _number_pattern(locale, exp, with_currency)
        text = pattern.apply(
            self.to_decimal(), loc, currency=self.currency if with_currency else None, currency_digits=False
        )
        # CLDR's currency spacing (Babel does not apply it): "AED1,234.56" -> "AED 1,234.56"
        return _LETTER_DIGIT.sub("\u00a0", text)

    def as_dict(self) -> dict:
        """The API shape of an amount."""
        return {"amount": self.amount, "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"


@functools.lru_cache(maxsize=64)
def _number_pattern(language: str, digits: int, with_currency: bool) -> NumberPattern:
    """The currency (or plain number) pattern of ``language`` with exactly ``digits``
    decimals, parsed once per language (a page formats many amounts). A copy: Babel hands
    out the locale's own cached pattern, which parsing also reads; nobody changes this one
    (``NumberPattern.apply`` only reads it)."""
    loc = _babel_locale(language)
    pattern = copy.copy(parse_pattern(loc.currency_formats["standard"] if with_currency else loc.decimal_formats[None]))
    pattern.frac_prec = (digits, digits)
    return pattern


@functools.lru_cache(maxsize=64)
def _babel_locale(language: str) -> Locale:
    """Babel locale for a Django language code (``zh-hans`` -> ``zh_Hans``); built once per
    code (with the locale data it loads)."""
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")
