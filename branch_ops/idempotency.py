"""``Idempotency-Key``: a retried request never does its work twice.

The API view builds a :class:`Claim` from the request (key, a hash of the body, and how to
render the response) and hands it to the service. The service calls :func:`begin` first
thing inside its transaction (this inserts the key's record: a concurrent retry blocks on
the unique key until the first commits, then is replayed) and :func:`finish` last (this
stores the rendered response), so the record, the work and the response commit together.

A service whose result is one immutable row written by one statement (a ledger posting) may
instead have that statement insert the record, complete, with :func:`record_rows`: the record
then names the result instead of holding its rendered response, and a replay renders the
response again from it. A transfer is thus one statement, with or without a key, where it
was two more round trips (the record's INSERT and its UPDATE).

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
from branch_ops.rows import NewRow

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
    recorded_with_result: bool = False  # record_rows() gave the record to the result's own statement


def begin(claim: Claim | None) -> None:
    if claim is None:
        return
    claim.record = IdempotencyRecord.objects.create(
        user=claim.user, key=claim.key, scope=claim.scope, request_hash=claim.request_hash
    )


def finish(claim: Claim | None, result) -> None:
    if claim is None or claim.record is None:
        return
    record = claim.record
    record.response_status, record.response_body = _rendered(claim.render, result)
    if hasattr(result, "_meta"):
        record.result_type = f"{result._meta.app_label}.{result._meta.model_name}"
        record.result_id = str(getattr(result, "public_id", None) or result.pk)
    record.save(update_fields=["response_status", "response_body", "result_type", "result_id"])


def record_rows(claim: Claim | None, result) -> list[NewRow]:
    """The claim's record (none without a claim), complete, as a row for the statement that
    writes ``result`` (``ledger_post(with_rows=...)``), in place of :func:`begin` and
    :func:`finish`. It names the result (its ``public_id``) and holds no response: a replay
    renders the response again from the result, so the claim's ``render`` must depend on the
    result alone, and the result must never change (a ledger transaction is append-only).
    A concurrent request with the same key waits on the unique key and is then replayed."""
    if claim is None:
        return []
    claim.recorded_with_result = True
    return [NewRow(IdempotencyRecord, {
        "user_id": claim.user.pk, "key": claim.key, "scope": claim.scope, "request_hash": claim.request_hash,
        "result_type": f"{result._meta.app_label}.{result._meta.model_name}", "result_id": str(result.public_id),
    })]


def _rendered(render: Callable[[object], tuple[int, dict]], result) -> tuple[int, dict]:
    status, body = render(result)
    return status, json.loads(json.dumps(body, default=str))


def _result_of(record: IdempotencyRecord):
    """The row a record written by :func:`record_rows` names."""
    from django.apps import apps

    return apps.get_model(record.result_type)._default_manager.get(public_id=record.result_id)


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


def _replay(record: IdempotencyRecord, claim_hash: str, render: Callable[[object], tuple[int, dict]]) -> Outcome:
    if record.request_hash != claim_hash:
        raise Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code="IDEMPOTENCY_KEY_REUSED",
        )
    if record.response_status is None:
        if record.result_id:  # written with its result (record_rows): render the response again
            return Outcome(*_rendered(render, _result_of(record)), True)
        raise Conflict(_("A request with this Idempotency-Key is still being processed."),  # pragma: no cover
                       code="IDEMPOTENCY_IN_PROGRESS")                                    # finish() commits with it
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
        return _replay(existing, digest, render)
    claim = Claim(user=request.user, key=key, scope=scope, request_hash=digest, render=render)
    try:
        result = perform(claim)
    except IntegrityError as exc:
        if "idempotency_user_key_unique" not in str(exc):
            raise
        # a concurrent request with the same key committed first: replay it
        existing = IdempotencyRecord.objects.get(user=request.user, key=key)
        return _replay(existing, digest, render)
    record = claim.record
    if record is None:
        if not claim.recorded_with_result:
            raise RuntimeError(f"{scope}: the service recorded neither begin()/finish() nor record_rows()")
        return Outcome(*_rendered(render, result), False)  # as a replay will render it
    return Outcome(record.response_status, record.response_body, False)
