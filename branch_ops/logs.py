"""Structured logs: JSON lines carrying the request id, with personal data redacted.

The code never logs a PIN, a card number or a customer's name on purpose; the
:class:`RedactFilter` is the net under that rule. It rewrites each record's message (and
string extras) before any handler formats it: 12–19 digit runs that pass the Luhn check
become ``[PAN]``, ``pin=…``/``"pin": …`` values become ``[REDACTED]``, and the request
object Django's loggers attach (whose repr carries the query string, where a name or a
number can hide) is reduced to its method and route name.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from branch_ops.request_context import current_request_id

_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
_SECRET_KV = re.compile(r"""(?i)(["']?\b(?:pin|new_pin|pin_block|password|cvv|cvc|secret)\b["']?\s*[:=]\s*)"""
                        r"""("[^"]*"|'[^']*'|[^\s,&}]+)""")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def redact(text: str) -> str:
    def pan(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "[PAN]" if 12 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)

    return _SECRET_KV.sub(r"\1[REDACTED]", _DIGIT_RUN.sub(pan, text))


_CARD_RUN = re.compile(r"(?<![\dA-Za-z])(?:\d[ -]?){12,18}\d(?![\dA-Za-z])")


def mask_card_numbers(text: str) -> str:
    """Mask 13–19 digit runs (spaces or dashes allowed between digits) that pass the Luhn
    check: ``[PAN]``. Shorter runs (12-digit account numbers) are left alone."""
    def pan(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "[PAN]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)

    return _CARD_RUN.sub(pan, text) if any(c.isdigit() for c in text) else text


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the one the middleware or the worker set) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id() or "-"
        return True


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is
            return True
        record.msg, record.args = redact(message), None
        for key, value in list(vars(record).items()):
            if key in _STANDARD or value is None or isinstance(value, bool | int | float):
                continue
            if key == "request":  # Django's request loggers attach the request: its repr has the query string
                match = getattr(value, "resolver_match", None)
                value = f"{getattr(value, 'method', '')} {match.view_name if match else 'unmatched'}"
            setattr(record, key, redact(str(value)))
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)
