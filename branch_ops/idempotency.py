"""``Idempotency-Key``: a retried request never does its work twice.

The API view builds a :class:`Claim` from the request (key, a hash of the body, and how to
render the response) and hands it to the service. The service calls :func:`begin` first
thing inside its transaction (this inserts the key's record: a concurrent retry blocks on
the unique key until the first commits, then is replayed) and :func:`finish` last (this
stores the rendered response), so the record, the work and the response commit together.

:func:`run_idempotent` is the API side: replay a stored response for the same key and
body, answer 409 for the same key with another body, else run the service.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError
from django.utils.translation import gettext as _

from branch_ops.errors import ApplicationError, Conflict
from branch_ops.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass
class Claim:
    user: object
    key: str
    scope: str
    request_hash: str
    render: Callable[[object], tuple[int, dict]]
    record: IdempotencyRecord | None = field(default=None)


def begin(claim: Claim | None) -> None:
    if claim is None:
        return
    claim.record = IdempotencyRecord.objects.create(
        user=claim.user, key=claim.key, scope=claim.scope, request_hash=claim.request_hash
    )


def finish(claim: Claim | None, result) -> None:
    if claim is None or claim.record is None:
        return
    status, body = claim.render(result)
    record = claim.record
    record.response_status = status
    record.response_body = json.loads(json.dumps(body, default=str))
    if hasattr(result, "_meta"):
        record.result_type = f"{result._meta.app_label}.{result._meta.model_name}"
        record.result_id = str(getattr(result, "public_id", None) or result.pk)
    record.save(update_fields=["response_status", "response_body", "result_type", "result_id"])


def request_hash(scope: str, data) -> str:
    canonical = json.dumps({"scope": scope, "body": data}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_from_request(request, *, required: bool) -> str | None:
    key = request.headers.get(HEADER)
    if key is None or key == "":
        if required:
            raise ApplicationError(
                _("This request needs an Idempotency-Key header (a unique value per operation, e.g. a UUID)."),
                code="IDEMPOTENCY_KEY_REQUIRED",
                status_code=400,
            )
        return None
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApplicationError(
            _("The Idempotency-Key must be at most 255 printable characters."),
            code="IDEMPOTENCY_KEY_INVALID",
            status_code=400,
        )
    return key


@dataclass
class Outcome:
    status: int
    body: dict
    replayed: bool


def _replay(record: IdempotencyRecord, claim_hash: str) -> Outcome:
    if record.request_hash != claim_hash:
        raise Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code="IDEMPOTENCY_KEY_REUSED",
        )
    if record.response_status is None:  # pragma: no cover - finish() runs in the same transaction
        raise Conflict(_("A request with this Idempotency-Key is still being processed."), code="IDEMPOTENCY_IN_PROGRESS")
    return Outcome(record.response_status, record.response_body, True)


def run_idempotent(
    request,
    *,
    scope: str,
    data,
    required: bool,
    perform: Callable[[Claim | None], object],
    render: Callable[[object], tuple[int, dict]],
    key: str | None = None,
) -> Outcome:
    """Run ``perform(claim)`` at most once per (user, key); render its result. The key
    comes from the ``Idempotency-Key`` header, or from ``key`` (a screen's form carries
    its key in a hidden field)."""
    key = key if key else key_from_request(request, required=required)
    if key is None:
        status, body = render(perform(None))
        return Outcome(status, body, False)
    digest = request_hash(scope, data)
    existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if existing is not None:
        return _replay(existing, digest)
    claim = Claim(user=request.user, key=key, scope=scope, request_hash=digest, render=render)
    try:
        perform(claim)
    except IntegrityError as exc:
        if "idempotency_user_key_unique" not in str(exc):
            raise
        # a concurrent request with the same key committed first: replay it
        existing = IdempotencyRecord.objects.get(user=request.user, key=key)
        return _replay(existing, digest)
    record = claim.record
    return Outcome(record.response_status, record.response_body, False)
