"""The audit trail: one function writes an event, one verifies the chains.

Services call :func:`audit_event_write` inside their own transaction, so an event exists
if and only if the change it describes was committed. PostgreSQL numbers and hashes the
event (migration 0002); nothing here can rewrite history.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from branch_ops.ids import uuid7
from branch_ops.logs import mask_card_numbers
from branch_ops.models import AuditEvent, Branch
from branch_ops.request_context import current_request_id
from branch_ops.rows import NewRow, json_ready


def _jsonable(value: dict | None) -> dict:
    """``value`` as JSON, with any full card number in its strings masked: an audit event
    records what someone typed (a search, a note), and a person may type a PAN anywhere."""
    return _masked(json_ready(value or {}))


def _masked(item):
    """``item`` (plain JSON) with every string's card numbers masked. A module function, not
    one nested in its caller: a nested function that calls itself is a reference cycle (it
    holds its own closure cell), left for the garbage collector at every audit event."""
    if isinstance(item, str):
        return mask_card_numbers(item)
    if isinstance(item, list):
        return [_masked(i) for i in item]
    if isinstance(item, dict):
        return {k: _masked(v) for k, v in item.items()}
    return item


def audit_event_row(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    branch: Branch | None = None,
    before: dict | None = None,
    after: dict | None = None,
    customer_ref: str = "",
) -> NewRow:
    """The event that records that ``actor`` did ``action`` to ``obj`` (or
    ``object_type``/``object_id``), as the row to insert: the ledger writes it in its own
    posting statement (``ledger_post(with_rows=...)``); :func:`audit_event_build` gives it as
    an unsaved instance and :func:`audit_event_write` saves it.

    ``before``/``after`` hold only what changed. The actor's role and branch are taken from
    their staff profile; ``branch`` overrides the branch (e.g. a superuser acting on one).
    ``customer_ref`` may be a value the posting statement reads (``accounts.ledger.SqlValue``).
    PostgreSQL sets the chain's fields (``chain_key``, ``seq``, the hashes) and the time.
    """
    authenticated = actor is not None and actor.is_authenticated
    profile = getattr(actor, "staff", None) if authenticated else None
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(getattr(obj, "public_id", None) or getattr(obj, "code", None) or obj.pk)
    if branch is None and profile is not None:
        branch = profile.branch
    return NewRow(AuditEvent, {
        "public_id": uuid7(), "chain_key": 0, "seq": 0,
        "actor_id": actor.pk if authenticated else None,
        "actor_role": profile.role if profile is not None else ("superuser" if getattr(actor, "is_superuser", False) else ""),
        "branch_id": branch.pk if branch is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "customer_ref": customer_ref,
        "before": _jsonable(before),
        "after": _jsonable(after),
        "request_id": current_request_id(),
        "prev_hash": "", "hash": "",
    })


def audit_event_build(**kwargs) -> AuditEvent:
    """:func:`audit_event_row` as an unsaved :class:`AuditEvent`."""
    return audit_event_row(**kwargs).instance()


def audit_event_write(**kwargs) -> AuditEvent:
    """Record an event (the arguments of :func:`audit_event_build`) in the caller's
    transaction."""
    event = audit_event_build(**kwargs)
    event.save(force_insert=True)
    return event


#: A branch's audit trail is kept in this many hash chains ("lanes"): an event goes to lane
#: ``pg_backend_pid() % AUDIT_LANES`` of its branch, so concurrent writers of one branch seldom
#: wait for the same chain head (ADR 0008; the insert trigger of migration 0008 holds the same
#: numbers).
AUDIT_LANES = 64
LANE_SHIFT = 40


def branch_chain_keys(branch_id: int | None) -> list[int]:
    """The ``chain_key`` of every lane of a branch (``None``: events with no branch)."""
    return [(branch_id or 0) + (lane << LANE_SHIFT) for lane in range(AUDIT_LANES)]


@dataclass(frozen=True)
class ChainBreak:
    chain_key: int
    seq: int
    event_id: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    chains_checked: int
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


_VERIFY_SQL = """
WITH ev AS (
    SELECT id, chain_key, seq, prev_hash, hash,
           lag(hash) OVER w AS expected_prev,
           lag(seq) OVER w AS previous_seq,
           branch_ops_audit_digest(prev_hash, chain_key, seq, occurred_at, actor_id, actor_role,
               branch_id, action, object_type, object_id, customer_ref, before, after,
               request_id, public_id) AS recomputed
    FROM branch_ops_auditevent
    {where}
    WINDOW w AS (PARTITION BY chain_key ORDER BY seq)
)
SELECT chain_key, seq, id,
       CASE WHEN hash <> recomputed THEN 'content does not match its hash'
            WHEN coalesce(expected_prev, '') <> prev_hash THEN 'previous hash does not match'
            WHEN coalesce(previous_seq, 0) <> seq - 1 THEN 'missing events before this one'
       END AS problem
FROM ev
WHERE hash <> recomputed OR coalesce(expected_prev, '') <> prev_hash
   OR coalesce(previous_seq, 0) <> seq - 1
ORDER BY chain_key, seq
LIMIT 1000
"""


def audit_chain_verify(*, branch: Branch | None = None) -> ChainReport:
    """Recompute every hash of every chain (or one branch's) and report each break:
    an edited event, a deleted event, a re-ordered chain. Also checks that each chain's
    head (last sequence number and hash) matches its last event, so deleting the newest
    events is caught too."""
    where, params = "", []
    if branch is not None:
        where, params = "WHERE chain_key = ANY(%s)", [branch_chain_keys(branch.pk)]
    with connection.cursor() as cur:
        cur.execute(_VERIFY_SQL.format(where=where), params)
        breaks = [ChainBreak(chain_key=r[0], seq=r[1], event_id=r[2], problem=r[3]) for r in cur.fetchall()]
        cur.execute(
            f"""SELECT h.chain_key, h.last_seq, coalesce(max_ev.seq, 0), h.last_hash, coalesce(max_ev.hash, '')
                FROM branch_ops_auditchainhead h
                LEFT JOIN LATERAL (SELECT seq, hash FROM branch_ops_auditevent e
                                   WHERE e.chain_key = h.chain_key ORDER BY seq DESC LIMIT 1) max_ev ON true
                {"WHERE h.chain_key = ANY(%s)" if branch is not None else ""}""",
            params,
        )
        heads = cur.fetchall()
        for key, last_seq, seq, last_hash, ev_hash in heads:
            if last_seq != seq or last_hash != ev_hash:
                breaks.append(ChainBreak(key, last_seq, 0, "newest events are missing"))
        cur.execute(
            f"SELECT count(*) FROM branch_ops_auditevent {'WHERE chain_key = ANY(%s)' if branch is not None else ''}",
            params,
        )
        (count,) = cur.fetchone()
    return ChainReport(events_checked=count, chains_checked=len(heads), breaks=breaks)


def audit_history(*, object_type: str, object_ids, per_object: int = 6) -> dict[str, list[dict]]:
    """The last ``per_object`` audit events of each object, oldest first, as
    ``{"at", "text"}`` (for an approval's context): one query for the whole batch."""
    ids = [str(i) for i in object_ids]
    history: dict[str, list[dict]] = {i: [] for i in ids}
    if not ids:
        return history
    rows = (AuditEvent.objects.filter(object_type=object_type, object_id__in=ids)
            .values_list("object_id", "occurred_at", "action", "actor__username")
            .order_by("object_id", "-occurred_at", "-id"))
    for object_id, at, action, username in rows:
        if len(history[object_id]) < per_object:
            history[object_id].append({"at": at, "text": f"{action} · {username or '—'}"})
    return {k: list(reversed(v)) for k, v in history.items()}
