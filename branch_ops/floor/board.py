"""The branch board: drawers, vault, request queues, complaint clocks, alerts and the
lobby, in one read composed of the apps' selectors. Its query count does not grow with
the branch's data (see ``bench/floor_bench.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from branch_ops.business_days import branch_day
from branch_ops.floor.inbox import inbox_queryset
from branch_ops.floor.scope import floor_branch
from branch_ops.models import Branch
from branch_ops.roles import Perm
from complaints.selectors import complaint_clock_summary
from customer_service.selectors import request_queue_summary
from teller.selectors import DrawerLine, branch_drawers, cash_alert_counts, sessions_of_day, vault_position


@dataclass
class Board:
    branch: Branch
    now: object
    business_date: object
    drawers: list[DrawerLine]
    vault: list[dict]
    requests: dict
    complaints: dict
    alerts: dict
    approvals_waiting: int
    lobby: dict | None  # lobby_summary(): waiting, longest wait, today's waits per service


def lobby_tile(branch, *, now) -> dict | None:
    """The lobby queue tile: who waits and for how long, per service (one query)."""
    from branch_ops.floor.lobby.selectors import lobby_summary

    return lobby_summary(branch, now=now)


def branch_board(*, actor, branch_code: str | None = None, now=None) -> Board:
    """Everything the board shows, for the actor's branch (or, for a head-office reader,
    the branch named)."""
    branch = floor_branch(user=actor, perm=Perm.VIEW_BRANCH_QUEUES, code=branch_code)
    now = now or timezone.now()
    today = branch_day(branch, now)
    drawers = branch_drawers(branch)
    variances = [{"drawer": s.drawer.code, "teller": s.teller.get_username(), "currency": cur, "variance": int(v)}
                 for s in sessions_of_day(branch, day=today) for cur, v in sorted((s.variance or {}).items())
                 if int(v) != 0]
    counts = cash_alert_counts(branch, day=today)
    alerts = {
        "structuring": counts["structuring"],
        "large_cash": counts["large_cash"],
        "over_limit": [d for d in drawers if d.over_limit],
        "variances": variances,
    }
    alerts["total"] = (alerts["structuring"] + alerts["large_cash"] + len(alerts["over_limit"])
                       + len(alerts["variances"]))
    profile = actor.staff
    waiting = inbox_queryset(profile, actor).count() if profile.branch_id == branch.pk else 0
    return Board(branch=branch, now=now, business_date=today, drawers=drawers, vault=vault_position(branch),
                 requests=request_queue_summary(branch, now=now), complaints=complaint_clock_summary(branch, now=now),
                 alerts=alerts, approvals_waiting=waiting, lobby=lobby_tile(branch, now=now))
