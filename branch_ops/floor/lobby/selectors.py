"""Reads of the lobby queue: what the display, the counter panel and the kiosk show, and the
figures the branch board and the daily report use (``lobby_summary``, ``lobby_day_stats``).

Times are seconds. Waiting time is ``called_at - taken_at`` over every ticket called that
day (served or not: a no-show waited too, from the branch's point of view); service time is
``done_at - called_at`` over the tickets served (``done``). Medians and 90th percentiles are
PostgreSQL's ``percentile_cont`` (linear interpolation), computed in one query per call.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError
from branch_ops.floor.lobby.models import Counter, LobbyService, Ticket
from branch_ops.floor.lobby.reference_data import SERVICE_LABELS
from branch_ops.models import Branch

#: tickets the lobby display shows (most recently called first)
DISPLAY_TICKETS = 8

_STATS_SQL = """
SELECT s.code, s.letter, s.name,
       count(t.id) FILTER (WHERE t.status = 'waiting') AS waiting,
       max(extract(epoch FROM (%(now)s - t.taken_at))::float8) FILTER (WHERE t.status = 'waiting') AS longest_wait,
       count(t.id) AS taken,
       count(t.called_at) AS called,
       count(t.id) FILTER (WHERE t.status = 'done') AS served,
       count(t.id) FILTER (WHERE t.status = 'no_show') AS no_show,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.called_at - t.taken_at)::float8)
           FILTER (WHERE t.called_at IS NOT NULL) AS wait_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.called_at - t.taken_at)::float8)
           FILTER (WHERE t.called_at IS NOT NULL) AS wait_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.done_at - t.called_at)::float8)
           FILTER (WHERE t.status = 'done') AS service_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.done_at - t.called_at)::float8)
           FILTER (WHERE t.status = 'done') AS service_p90,
       GROUPING(s.code) AS is_total
FROM lobby_lobbyservice s
LEFT JOIN lobby_ticket t ON t.service_id = s.id AND t.branch_id = s.branch_id AND t.day = %(day)s
WHERE s.branch_id = %(branch)s
GROUP BY GROUPING SETS ((s.sort_order, s.letter, s.code, s.name), ())
ORDER BY is_total, s.sort_order, s.letter
"""
_FIELDS = ("waiting", "longest_wait_seconds", "taken", "called", "served", "no_show", "wait_median_seconds",
           "wait_p90_seconds", "service_median_seconds", "service_p90_seconds")


def service_label(service: LobbyService) -> str:
    """The service's name in the reader's language (data rows with a code of their own keep
    the name entered for them)."""
    label = SERVICE_LABELS.get(service.code)
    return str(label) if label is not None else service.name


def _stats(branch: Branch, day: dt.date, now: dt.datetime | None) -> dict:
    with connection.cursor() as cur:
        cur.execute(_STATS_SQL, {"now": now or timezone.now(), "day": day, "branch": branch.pk})
        rows = cur.fetchall()
    services, total = [], None
    for code, letter, name, *figures, is_total in rows:
        entry = dict(zip(_FIELDS, figures, strict=True))
        if now is None:
            entry["longest_wait_seconds"] = None  # a past day: nobody is waiting "now"
        if is_total:
            total = entry
        else:
            label = SERVICE_LABELS.get(code)
            services.append({"code": code, "letter": letter, "name": str(label) if label else name, **entry})
    return {"branch": branch.code, "day": day, "services": services, "total": total or dict.fromkeys(_FIELDS)}


def lobby_summary(branch: Branch, *, now: dt.datetime | None = None) -> dict:
    """The lobby now, per service and in total: who is waiting and for how long, and for
    today the served count and the median and 90th-percentile waiting and service times.
    ``{"branch", "day", "as_of", "services": [{"code", "letter", "name", "waiting",
    "longest_wait_seconds", "taken", "called", "served", "no_show", "wait_median_seconds",
    "wait_p90_seconds", "service_median_seconds", "service_p90_seconds"}], "total": {...}}``.
    One query (index ``lobby_ticket_day``)."""
    now = now or timezone.now()
    return {**_stats(branch, branch_day(branch, now), now), "as_of": now}


def lobby_day_stats(branch: Branch, day: dt.date) -> dict:
    """The same figures for any day up to today (for the daily report); ``waiting`` is what
    was left waiting, ``longest_wait_seconds`` is None. A future day is an error."""
    if day > branch_day(branch):
        raise ApplicationError(_("There are no figures for a day that has not come yet."), code="FUTURE_DAY",
                               field="day")
    return _stats(branch, day, None)


def lobby_called(branch: Branch, *, limit: int = DISPLAY_TICKETS) -> list[Ticket]:
    """What the lobby screen shows: today's tickets called or being served, the most
    recently (re)called first."""
    return list(Ticket.objects.filter(branch=branch, day=branch_day(branch),
                                      status__in=[Ticket.Status.CALLED, Ticket.Status.SERVING])
                .select_related("service", "counter").order_by("-last_called_at", "-id")[:limit])


def lobby_ticket_queryset(branch: Branch):
    """Today's tickets of the branch (unordered; the caller orders or pages them)."""
    return Ticket.objects.filter(branch=branch, day=branch_day(branch)).select_related(
        "service", "counter", "called_by", "priority_rule")


def lobby_tickets(branch: Branch, *, status: str | None = None, limit: int = 200) -> list[Ticket]:
    """Today's tickets of the branch in queue order (priority first, then oldest)."""
    qs = lobby_ticket_queryset(branch)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-priority", "taken_at", "id")[:limit])


def counter_of(user) -> Counter | None:
    return Counter.objects.filter(staff=user).select_related("branch").prefetch_related("services").first()


def counter_panel(user, branch: Branch) -> dict:
    """What the counter panel shows: the user's counter, its current ticket, how many wait
    for the counter's services, and the branch's free counters (to sign in at)."""
    counter = counter_of(user)
    current, waiting = None, []
    if counter is not None:
        current = (Ticket.objects.filter(counter=counter, status__in=[Ticket.Status.CALLED, Ticket.Status.SERVING])
                   .select_related("service").first())
        codes = {s.code for s in counter.services.all()}
        waiting = [s for s in lobby_summary(branch)["services"] if s["code"] in codes]
    free = list(Counter.objects.filter(branch=branch, active=True, staff__isnull=True).order_by("number"))
    return {"counter": counter, "current": current, "waiting": waiting, "free_counters": free}
