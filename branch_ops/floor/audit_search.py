"""Search of the branch's audit trail (django-filter), its CSV export (streamed), and
the hash-chain check on demand. Only the reader's own branch's events, ever."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from branch_ops.access import require_perm
from branch_ops.audit import ChainReport, audit_chain_verify
from branch_ops.filters import AuditEventFilter  # noqa: F401 - the floor's name for it
from branch_ops.models import AuditEvent
from branch_ops.roles import Perm


def audit_search(*, actor, params=None):
    """The filtered events of the actor's branch, newest first, and the bound filter (its
    form carries any invalid input)."""
    profile = require_perm(actor, Perm.VIEW_AUDIT)
    qs = AuditEvent.objects.filter(branch_id=profile.branch_id).select_related("actor").order_by("-seq")
    filterset = AuditEventFilter(params or {}, queryset=qs)
    return filterset


def audit_verify(*, actor) -> ChainReport:
    profile = require_perm(actor, Perm.VIEW_AUDIT)
    return audit_chain_verify(branch=profile.branch)


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = ["seq", "occurred_at", "actor", "actor_role", "action", "object_type", "object_id", "customer",
              "before", "after", "request_id", "hash"]


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv_rows(queryset) -> Iterator[str]:
    """The events as CSV lines, read in chunks from the database (for a streamed
    response: the export of a whole year does not sit in memory)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for e in queryset.values_list("seq", "occurred_at", "actor__username", "actor_role", "action", "object_type",
                                  "object_id", "customer_ref", "before", "after", "request_id",
                                  "hash").iterator(chunk_size=2000):
        row = list(e)
        row[1] = row[1].isoformat()
        row[8], row[9] = json.dumps(row[8], ensure_ascii=False, sort_keys=True), json.dumps(
            row[9], ensure_ascii=False, sort_keys=True)
        yield writer.writerow([_cell(v) for v in row])
