"""The event outbox: services publish events in their own transaction; core-banking
clients read them from ``GET /api/v1/events/?after=<cursor>``.

Ordering: every event carries the id of the transaction that wrote it (``txid``, set by a
trigger). The feed returns only events of transactions older than the oldest one still
running (``pg_snapshot_xmin``), ordered by ``(txid, id)``. So once a client has read past
a position, no event can ever appear before it: a cursor never skips an event, even when
transactions commit in another order than they started.
"""

from __future__ import annotations

import base64
import binascii

from django.db import connection
from django.utils.translation import gettext as _

from branch_ops.errors import ApplicationError
from branch_ops.ids import uuid7
from branch_ops.models import Branch, OutboxEvent
from branch_ops.rows import NewRow, json_ready

#: event type -> (payload serializer class, description): registered by the app that emits
#: the event (in its ``AppConfig.ready``) so that the feed's OpenAPI schema documents it
#: without ``branch_ops`` importing any app
EVENT_SCHEMAS: dict[str, tuple[type, str]] = {}


def event_schema_register(event_type: str, payload_serializer: type, description: str = "") -> None:
    """Document the payload of ``event_type`` in the event feed's schema (once per type)."""
    known = EVENT_SCHEMAS.get(event_type)
    if known is not None and known[0] is not payload_serializer:
        raise ValueError(f"event type {event_type!r} is already documented by {known[0].__name__}")
    EVENT_SCHEMAS[event_type] = (payload_serializer, description)


def event_row(*, event_type: str, aggregate, payload: dict, branch: Branch | None = None,
              aggregate_type: str = "", aggregate_id: str = "") -> NewRow:
    """One event for core banking, as the row to insert (the ledger writes it in its own
    posting statement; :func:`event_build` and :func:`event_publish` give or save it as an
    instance). PostgreSQL sets ``txid`` and the time."""

    if aggregate is not None:
        aggregate_type = aggregate_type or f"{aggregate._meta.app_label}.{aggregate._meta.model_name}"
        aggregate_id = aggregate_id or str(getattr(aggregate, "public_id", None) or aggregate.pk)
    return NewRow(OutboxEvent, {
        "public_id": uuid7(), "txid": 0,
        "event_type": event_type,
        "branch_id": branch.pk if branch is not None else None,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "payload": json_ready(payload),
    })


def event_build(**kwargs) -> OutboxEvent:
    """:func:`event_row` as an unsaved :class:`OutboxEvent` (see :func:`event_publish`)."""
    return event_row(**kwargs).instance()


def event_publish(**kwargs) -> OutboxEvent:
    """Write one event for core banking (the arguments of :func:`event_build`) in the
    caller's transaction."""
    event = event_build(**kwargs)
    event.save(force_insert=True)
    return event


def event_document(event: OutboxEvent) -> dict:
    """An event as the feed and webhooks send it (JSON-ready)."""
    return {
        "id": str(event.public_id),
        "type": event.event_type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "branch": event.branch.code if event.branch_id else None,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "payload": event.payload,
    }


def encode_cursor(txid: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{txid}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        txid, event_id = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        return int(txid), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApplicationError(_("The cursor is not valid."), code="INVALID_CURSOR", field="after") from None


def _horizon() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        (horizon,) = cur.fetchone()
    return horizon


def feed_end(*, branch: Branch | None) -> str | None:
    """The cursor of the newest event readable now: reading from it returns only events
    committed later (or still in flight). ``None`` if the feed is empty."""
    qs = OutboxEvent.objects.filter(txid__lt=_horizon())
    if branch is not None:
        qs = qs.filter(branch=branch)
    last = qs.order_by("-txid", "-id").values_list("txid", "id").first()
    return encode_cursor(*last) if last else None


def feed_lag_seconds() -> float:
    """Age of the oldest event the feed cannot hand out yet (its transaction, or an older
    one, is still open); 0 when every committed event is readable."""
    with connection.cursor() as cur:
        cur.execute("""SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM branch_ops_outboxevent
                       WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint""")
        return float(cur.fetchone()[0])


def events_feed(*, branch: Branch | None, after: str | None, limit: int = 100) -> tuple[list[OutboxEvent], str | None]:
    """Events after ``after`` (a cursor from a previous page), oldest first, at most
    ``limit``; returns them and the cursor to pass next time (``after`` itself if nothing
    new). ``branch=None`` reads every branch (superusers)."""
    qs = OutboxEvent.objects.filter(txid__lt=_horizon()).select_related("branch")
    if branch is not None:
        qs = qs.filter(branch=branch)
    if after:
        txid, event_id = decode_cursor(after)
        from django.db.models import Q

        qs = qs.filter(Q(txid__gt=txid) | Q(txid=txid, id__gt=event_id))
    events = list(qs.order_by("txid", "id")[:limit])
    next_cursor = encode_cursor(events[-1].txid, events[-1].id) if events else after
    return events, next_cursor
