"""The daily branch report for one day of the branch's calendar (today allowed, never a
future day): cash position, operations by teller and kind, variances, large cash and
alerts, requests, complaints. Every figure comes from the apps' selectors, the cash
position from the ledger entries themselves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError
from branch_ops.floor.scope import floor_branch
from branch_ops.models import Branch
from branch_ops.roles import Perm
from complaints.selectors import complaint_day_stats
from customer_service.selectors import request_day_stats
from teller.selectors import cash_alerts_of_day, cash_position_at, operations_of_day, sessions_of_day


@dataclass
class DailyReport:
    branch: Branch
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    cash: list[dict]                # [{"currency", "vault", "drawers", "total"}]
    operations: list[dict]          # [{"teller", "kind", "currency", "status", "count", "amount"}]
    totals: list[dict]              # posted only: [{"kind", "currency", "count", "amount"}]
    by_teller: list[dict]           # posted only: [{"teller", "count"}]
    variances: list[dict]           # [{"drawer", "teller", "currency", "variance", "status"}]
    large_cash: list = field(default_factory=list)
    structuring: list = field(default_factory=list)
    requests: dict = field(default_factory=dict)
    complaints: dict = field(default_factory=dict)
    queue: dict | None = None       # lobby_day_stats(): waits and service times


def report_day(value, branch: Branch) -> dt.date:
    """Parse a day (``YYYY-MM-DD``; empty means today) and refuse a future one."""
    today = branch_day(branch)
    if value in (None, ""):
        return today
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ApplicationError(_("Give the day as YYYY-MM-DD."), code="INVALID_DATE", field="day") from None
    if day > today:
        raise ApplicationError(_("A report can only be made for today or a past day."),
                               code="REPORT_DAY_IN_FUTURE", field="day")
    return day


def queue_day_tile(branch, day) -> dict | None:
    """The lobby's queue waits (median, 90th percentile) and service times of the day."""
    from branch_ops.floor.lobby.selectors import lobby_day_stats

    return lobby_day_stats(branch, day)


def daily_report(*, actor, day=None, branch_code: str | None = None) -> DailyReport:
    branch = floor_branch(user=actor, perm=Perm.VIEW_REPORTS, code=branch_code)
    day = report_day(day, branch)
    zone = zoneinfo.ZoneInfo(branch.time_zone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    position = cash_position_at(branch, min(end, timezone.now() + dt.timedelta(seconds=1)))
    cash = [{"currency": cur, "vault": p.get("vault", 0), "drawers": p.get("drawers", 0),
             "total": p.get("vault", 0) + p.get("drawers", 0)} for cur, p in position.items()]
    operations = [{"teller": r["created_by__username"], "kind": r["kind"], "currency": r["currency_id"],
                   "status": r["status"], "count": r["count"], "amount": r["amount"],
                   "kind_label": r["kind_label"], "status_label": r["status_label"]}
                  for r in operations_of_day(branch, start=start, end=end)]
    labels = {r["kind"]: r["kind_label"] for r in operations}
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    tellers: dict[str, int] = defaultdict(int)
    for row in operations:
        if row["status"] == "posted":
            totals[(row["kind"], row["currency"])][0] += row["count"]
            totals[(row["kind"], row["currency"])][1] += row["amount"]
            tellers[row["teller"]] += row["count"]
    variances = [{"drawer": s.drawer.code, "teller": s.teller.get_username(), "currency": cur,
                  "variance": int(v), "status": s.status}
                 for s in sessions_of_day(branch, day=day) for cur, v in sorted((s.variance or {}).items())]
    alerts = cash_alerts_of_day(branch, day=day)
    return DailyReport(
        branch=branch, day=day, start=start, end=end, cash=cash, operations=operations,
        totals=[{"kind": k, "kind_label": labels.get(k, k), "currency": c, "count": n, "amount": a}
                for (k, c), (n, a) in sorted(totals.items())],
        by_teller=[{"teller": t, "count": n} for t, n in sorted(tellers.items())],
        variances=variances, large_cash=alerts["large_cash"], structuring=alerts["structuring"],
        requests=request_day_stats(branch, start=start, end=end),
        complaints=complaint_day_stats(branch, start=start, end=end),
        queue=queue_day_tile(branch, day),
    )


def daily_report_csv(report: DailyReport) -> str:
    """The report as CSV (amounts in minor units with their currency): one section a block."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["branch", report.branch.code, "day", report.day.isoformat()])
    w.writerow([])
    w.writerow(["cash_position", "currency", "vault_minor", "drawers_minor", "total_minor"])
    for c in report.cash:
        w.writerow(["cash_position", c["currency"], c["vault"], c["drawers"], c["total"]])
    w.writerow([])
    w.writerow(["operations", "teller", "kind", "currency", "status", "count", "amount_minor"])
    for o in report.operations:
        w.writerow(["operations", o["teller"], o["kind"], o["currency"], o["status"], o["count"], o["amount"]])
    w.writerow([])
    w.writerow(["totals_posted", "kind", "currency", "count", "amount_minor"])
    for t in report.totals:
        w.writerow(["totals_posted", t["kind"], t["currency"], t["count"], t["amount"]])
    w.writerow([])
    w.writerow(["variances", "drawer", "teller", "currency", "variance_minor", "session_status"])
    for v in report.variances:
        w.writerow(["variances", v["drawer"], v["teller"], v["currency"], v["variance"], v["status"]])
    w.writerow([])
    w.writerow(["large_cash", "reference", "customer", "amount_branch_currency_minor"])
    for r in report.large_cash:
        w.writerow(["large_cash", r.operation.reference, r.customer.number if r.customer_id else r.person_name,
                    r.amount_branch_currency])
    w.writerow(["structuring", "customer", "total_branch_currency_minor"])
    for a in report.structuring:
        w.writerow(["structuring", a.customer.number, a.total_branch_currency])
    w.writerow([])
    w.writerow(["requests", "opened", "fulfilled", "overdue"])
    w.writerow(["requests", report.requests["opened"], report.requests["fulfilled"], report.requests["overdue"]])
    w.writerow(["complaints", "opened", "closed", "breached"])
    w.writerow(["complaints", report.complaints["opened"], report.complaints["closed"],
                report.complaints["breached"]])
    if report.queue:
        w.writerow([])
        w.writerow(["queue", "service", "taken", "served", "no_show", "left_waiting", "wait_median_s", "wait_p90_s",
                    "service_median_s", "service_p90_s"])
        for row in [*report.queue["services"], {**report.queue["total"], "code": "total"}]:
            w.writerow(["queue", row.get("code"), row.get("taken"), row.get("served"), row.get("no_show"),
                        row.get("waiting"), row.get("wait_median_seconds"), row.get("wait_p90_seconds"),
                        row.get("service_median_seconds"), row.get("service_p90_seconds")])
    return out.getvalue()
