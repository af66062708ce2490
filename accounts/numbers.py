"""Account and customer numbers. An account number is ten digits of serial plus two ISO
7064 MOD 97-10 check digits (the IBAN scheme), so a mistyped digit or a swap of two is
caught on input."""

from __future__ import annotations


def _check_digits(serial: str) -> str:
    return f"{98 - (int(serial) * 100) % 97:02d}"


def account_number_from_serial(serial: int) -> str:
    body = f"{serial:010d}"
    return body + _check_digits(body)


def account_number_is_valid(number: str) -> bool:
    number = (number or "").replace(" ", "")
    return len(number) == 12 and number.isdigit() and int(number) % 97 == 1
