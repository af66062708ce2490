from decimal import Decimal

import pytest
from django.utils import translation

from branch_ops.money import Money, MoneyError, round_to_minor


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("1.234,56", "EUR", "it", 123456),
        ("1 234,56", "EUR", "it", 123456),
        ("1,234.56", "USD", "en", 123456),
        ("١٬٢٣٤٫٥٦", "AED", "ar", 123456),  # Arabic-Indic digits and separators
        ("1234.56", "AED", "ar", 123456),
        ("1,234.56", "CNY", "zh-hans", 123456),
        ("1234", "JPY", "en", 1234),
        ("1.234", "KWD", "en", 1234),
        ("0.5", "OMR", "en", 500),
        ("7", "EUR", "it", 700),
    ],
)
def test_parse_reads_what_a_person_types_in_their_language(text, currency, locale, minor):
    assert Money.parse(text, currency, locale=locale) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "locale", "code"),
    [
        ("1.005", "EUR", "en", "TOO_MANY_DECIMALS"),
        ("12.5", "JPY", "en", "TOO_MANY_DECIMALS"),
        ("1,2345", "KWD", "it", "TOO_MANY_DECIMALS"),
        ("12abc", "USD", "en", "INVALID_AMOUNT"),
        ("1,23", "USD", "en", "INVALID_AMOUNT"),
        ("1.2.3", "USD", "en", "INVALID_AMOUNT"),
        ("", "USD", "en", "INVALID_AMOUNT"),
        ("10", "XYZ", "en", "UNKNOWN_CURRENCY"),
        ("10", "usd", "en", "UNKNOWN_CURRENCY"),
    ],
)
def test_bad_amounts_are_refused_never_rounded(text, currency, locale, code):
    with pytest.raises(MoneyError) as err:
        Money.parse(text, currency, locale=locale)
    assert err.value.code == code
    assert err.value.status_code == 400


def test_a_float_is_a_bug_everywhere():
    with pytest.raises(TypeError):
        Money(10.5, "EUR")
    with pytest.raises(TypeError):
        Money.parse(10.5, "EUR")
    with pytest.raises(TypeError):
        Money.from_decimal(10.5, "EUR")
    with pytest.raises(TypeError):
        round_to_minor(0.125, "EUR")


def test_decimal_input_is_exact():
    assert Money.from_decimal(Decimal("10.10"), "EUR") == Money(1010, "EUR")
    assert Money.from_decimal(Decimal("10.100"), "EUR") == Money(1010, "EUR")
    with pytest.raises(MoneyError):
        Money.from_decimal(Decimal("10.101"), "EUR")


def test_computed_amounts_round_half_even_in_one_place():
    assert round_to_minor(Decimal("0.125"), "EUR") == 12
    assert round_to_minor(Decimal("0.135"), "EUR") == 14
    assert round_to_minor(Decimal("2.5"), "JPY") == 2
    assert round_to_minor(Decimal("1.2345"), "KWD") == 1234
    assert round_to_minor(Decimal("-0.125"), "EUR") == -12


def test_format_in_the_users_language_with_iso_decimals():
    assert Money(123456, "EUR").format("it") == "1.234,56\xa0€"
    assert Money(123456, "USD").format("en") == "$1,234.56"
    assert Money(1234, "JPY").format("en") == "¥1,234"
    assert "1.234" in Money(1234, "KWD").format("en")
    assert "1,234.56" in Money(123456, "AED").format("ar")
    assert Money(123456, "CNY").format("zh-hans") == "¥1,234.56"


def test_formatting_a_three_decimal_amount_does_not_change_how_amounts_are_read():
    """Babel shares one number pattern per locale; formatting once mutated it, and from then
    on a plain "20,000" typed at any screen was refused (found by the fresh-clone CI run)."""
    Money(1234, "KWD").format("en", with_currency=False)
    Money(1234, "JPY").format("en")
    assert Money.parse("20,000", "AED", locale="en").amount == 2_000_000
    assert Money.parse("20,000.50", "AED", locale="en").amount == 2_000_050


def test_amounts_of_different_decimals_formatted_in_turn_keep_their_own():
    """The patterns are parsed once per language and kept: one currency's decimals must
    never leak into the next amount's."""
    shown = [Money(amount, currency).format(language, with_currency=with_currency)
             for _round in range(2) for language in ("en", "it")
             for amount, currency, with_currency in ((1234567, "KWD", False), (1234, "JPY", False),
                                                     (123456, "AED", False), (1234, "JPY", True))]

    assert shown == ["1,234.567", "1,234", "1,234.56", "¥1,234", "1.234,567", "1.234", "1.234,56", "1.234\xa0JPY"] * 2


def test_arithmetic_refuses_mixing_currencies():
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(50, "USD")


def test_error_messages_are_translated():
    with translation.override("it"), pytest.raises(MoneyError) as err:
        Money.parse("1,005", "EUR", locale="it")
    assert err.value.message != "EUR amounts have at most 2 decimal places."
    assert "EUR" in err.value.message
