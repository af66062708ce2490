"""Every API error is one JSON shape: an RFC 7807 problem document.

    {"type": "urn:branch-ops:problem:insufficient-funds", "title": "Bad request",
     "status": 400, "detail": "<translated message>", "code": "INSUFFICIENT_FUNDS",
     "errors": [{"field": "amount", "message": "...", "code": "..."}], "request_id": "..."}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from branch_ops.errors import ApplicationError
from branch_ops.request_context import current_request_id

CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)

#: a lost or refused database connection: the request may be sent again as it was
DATABASE_ERRORS = (OperationalError, InterfaceError)


def _titles():
    return {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        415: _("Unsupported media type"),
        422: _("Unprocessable request"),
        423: _("Locked"),
        429: _("Too many requests"),
        500: _("Server error"),
        503: _("Service unavailable"),
    }


def problem(status: int, code: str, detail: str, errors: list | None = None, **extra) -> dict:
    body = {
        "type": f"urn:branch-ops:problem:{code.lower().replace('_', '-')}",
        "title": str(_titles().get(status, _("Error"))),
        "status": status,
        "detail": str(detail),
        "code": code,
        "errors": errors or [],
        "request_id": current_request_id(),
    }
    body.update(extra)
    return body


def _flatten(detail, prefix="") -> list[dict]:
    """DRF's nested ValidationError detail -> a flat list of field errors."""
    out = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out.extend(_flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix)))
    elif isinstance(detail, list):
        for i, item in enumerate(detail):
            if isinstance(item, dict | list) and not isinstance(item, drf.ErrorDetail):
                out.extend(_flatten(item, f"{prefix}[{i}]"))
            else:
                out.extend(_flatten(item, prefix))
    else:
        out.append({"field": prefix or None, "message": str(detail), "code": getattr(detail, "code", "invalid")})
    return out


_DRF_CODES = {
    drf.NotAuthenticated: "NOT_AUTHENTICATED",
    drf.AuthenticationFailed: "AUTHENTICATION_FAILED",
    drf.PermissionDenied: "ROLE_NOT_ALLOWED",
    drf.NotFound: "NOT_FOUND",
    drf.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    drf.NotAcceptable: "NOT_ACCEPTABLE",
    drf.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    drf.Throttled: "RATE_LIMITED",
    drf.ParseError: "MALFORMED_REQUEST",
}


def database_unavailable(exc) -> tuple[dict, dict]:
    """503 and ``Retry-After`` for a database that cannot be reached or whose connection
    dropped mid-request (a restart, a killed backend, a failover). Whether the work committed
    is unknown to this process, so the answer says so and tells the client to send the same
    request with the same ``Idempotency-Key``: it replays what committed, or does it once."""
    logger.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).strip().splitlines()[:1])
    body = problem(503, "DATABASE_UNAVAILABLE", _(
        "The database could not be reached or the connection to it was lost, so it is not known whether this "
        "request was carried out. Send it again with the same Idempotency-Key: it is never carried out twice."))
    return body, {"Retry-After": "1"}


def problem_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: map every error to a problem document."""
    if isinstance(exc, DATABASE_ERRORS):
        body, headers = database_unavailable(exc)
        return Response(body, status=503, content_type=CONTENT_TYPE, headers=headers)
    if isinstance(exc, ApplicationError):
        errors = [{"field": exc.field, "message": exc.message, "code": exc.code}] if exc.field else []
        body = problem(exc.status_code, exc.code, exc.message, errors, **exc.extra)
        return Response(body, status=exc.status_code, content_type=CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        errors = _flatten(exc.detail)
        body = problem(400, "VALIDATION_FAILED", _("Some fields are not valid."), errors)
        return Response(body, status=400, content_type=CONTENT_TYPE)
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "ERROR")
        detail = exc.detail if isinstance(exc.detail, str) else _("The request failed.")
        if isinstance(exc, drf.PermissionDenied) and str(detail) == str(drf.PermissionDenied.default_detail):
            detail = _("Your role does not allow this.")
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        response = Response(problem(exc.status_code, code, str(detail)), status=exc.status_code,
                            content_type=CONTENT_TYPE, headers=headers)
        return response
    return None  # let Django's 500 handler deal with it (it returns a problem for /api/)


def api_problem_response(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(problem(status, code, detail), status=status, content_type=CONTENT_TYPE)
