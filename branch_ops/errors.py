"""One application error type. Services raise it; the API turns it into an RFC 7807
problem document and the screens show its (translated) message.

Each error carries a stable ``code`` that clients branch on (``INSUFFICIENT_FUNDS``,
``APPROVAL_ALREADY_DECIDED``...), a human message in the user's language, an HTTP status
and, when one input is at fault, the name of that field.
"""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400
    default_code = "INVALID"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        status_code: int | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.field = field
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra or {}


class NotFound(ApplicationError):
    """Also what a foreign-branch object looks like: it does not exist for you."""

    status_code = 404
    default_code = "NOT_FOUND"


class Forbidden(ApplicationError):
    status_code = 403
    default_code = "FORBIDDEN"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "CONFLICT"
