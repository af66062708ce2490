"""Reads of complaints: the branch's queue (what each role may see), one complaint with
its clocks, and the report for a period."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import django_filters
from django.db.models import Q
from django.utils.translation import gettext as _

from branch_ops.access import require_perm
from branch_ops.business_days import branch_calendar
from branch_ops.errors import NotFound
from branch_ops.roles import Perm
from complaints.models import Complaint, Deadline


class ComplaintFilter(django_filters.FilterSet):
    """The filters of the complaint list (API)."""

    status = django_filters.ChoiceFilter(choices=Complaint.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Complaint.Channel.choices)
    customer = django_filters.CharFilter(field_name="customer__number")
    owner = django_filters.CharFilter(field_name="owner__username")
    escalated = django_filters.BooleanFilter()

    class Meta:
        model = Complaint
        fields = ["status", "channel", "customer", "owner", "escalated"]


def complaint_queue(*, actor, status: str | None = None):
    """A supervisor sees every complaint of the branch; others the ones they own."""
    profile = require_perm(actor, Perm.LOG_COMPLAINT)
    qs = (Complaint.objects.filter(branch=profile.branch).select_related("customer", "owner", "category", "regime")
          .prefetch_related("deadlines").order_by("received_at"))
    if not profile.has(Perm.SUPERVISE_COMPLAINTS):
        qs = qs.filter(Q(owner=actor) | Q(received_by=actor))
    if status:
        qs = qs.filter(status=status)
    return qs


def complaint_detail(*, actor, number: str) -> Complaint:
    found = complaint_queue(actor=actor).filter(number=number).prefetch_related("entries__actor").first()
    if found is None:
        raise NotFound(_("No such complaint."), code="COMPLAINT_NOT_FOUND")
    return found


def complaint_letter(complaint: Complaint) -> dict:
    """The acknowledgement letter as it was sent; before that, as it would be sent now."""
    from django.conf import settings

    from complaints.services import acknowledgement_letter

    sent = next((e for e in complaint.entries.all() if e.kind == "acknowledged" and e.text), None)
    return {"complaint": complaint.number, "language": complaint.language or settings.LANGUAGE_CODE,
            "text": sent.text if sent else acknowledgement_letter(complaint),
            "sent_at": sent.at if sent else None, "sent": sent}


@dataclass
class ComplaintReport:
    start: dt.date
    end: dt.date
    received: int = 0
    closed: int = 0
    upheld: int = 0
    upheld_rate: float | None = None
    median_days_to_close: float | None = None
    p90_days_to_close: float | None = None
    breaches: int = 0
    redress_paid: int = 0
    by_category: dict = field(default_factory=dict)
    by_staff: dict = field(default_factory=dict)


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 2)


def complaint_report(*, actor, start: dt.date, end: dt.date) -> ComplaintReport:
    """Received and closed in [start, end] (branch days): counts, upheld rate, median and
    90th percentile days to close, breaches, redress paid, by category and by owner."""
    profile = require_perm(actor, Perm.VIEW_REPORTS)
    calendar = branch_calendar(profile.branch)
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=calendar.zone)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=calendar.zone)
    received = list(Complaint.objects.filter(branch=profile.branch, received_at__gte=lo, received_at__lt=hi)
                    .select_related("category", "owner"))
    closed = list(Complaint.objects.filter(branch=profile.branch, closed_at__gte=lo, closed_at__lt=hi)
                  .select_related("category", "owner"))
    days = [(c.closed_at - c.received_at).total_seconds() / 86400 for c in closed]
    report = ComplaintReport(start=start, end=end, received=len(received), closed=len(closed))
    report.upheld = sum(1 for c in closed if c.decision in ("upheld", "partly_upheld"))
    report.upheld_rate = round(report.upheld / len(closed), 4) if closed else None
    report.median_days_to_close = round(statistics.median(days), 2) if days else None
    report.p90_days_to_close = _percentile(days, 0.9)
    report.breaches = Deadline.objects.filter(complaint__branch=profile.branch, breached_at__gte=lo,
                                              breached_at__lt=hi).count()
    report.redress_paid = sum(c.redress_paid for c in closed)
    cats: dict[str, Counter] = defaultdict(Counter)
    staff: dict[str, Counter] = defaultdict(Counter)
    for c in received:
        cats[c.category.code]["received"] += 1
        staff[c.owner.get_username()]["received"] += 1
    for c in closed:
        cats[c.category.code]["closed"] += 1
        staff[c.owner.get_username()]["closed"] += 1
        if c.decision in ("upheld", "partly_upheld"):
            cats[c.category.code]["upheld"] += 1
            staff[c.owner.get_username()]["upheld"] += 1
    report.by_category = {k: dict(v) for k, v in sorted(cats.items())}
    report.by_staff = {k: dict(v) for k, v in sorted(staff.items())}
    return report


def complaint_report_csv(report: ComplaintReport) -> str:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["start", "end", "received", "closed", "upheld", "upheld_rate", "median_days_to_close",
                "p90_days_to_close", "breaches", "redress_paid_minor"])
    w.writerow([report.start, report.end, report.received, report.closed, report.upheld, report.upheld_rate,
                report.median_days_to_close, report.p90_days_to_close, report.breaches, report.redress_paid])
    w.writerow([])
    w.writerow(["group", "key", "received", "closed", "upheld"])
    for group, rows in (("category", report.by_category), ("staff", report.by_staff)):
        for key, counts in rows.items():
            w.writerow([group, key, counts.get("received", 0), counts.get("closed", 0), counts.get("upheld", 0)])
    return out.getvalue()


# --- what a supervisor sees beside a redress approval (ApprovalKind.describe) ----------------------

def approval_describe_complaints(approvals) -> dict[int, dict]:
    """Context of a redress approval: the complaint, its decision and amounts, its clocks,
    its timeline. A constant number of queries for the batch."""
    from django.urls import reverse
    from django.utils.translation import get_language

    from branch_ops.money import Money
    from complaints.models import ComplaintEntry

    lang = get_language() or "en"
    complaints = {str(c.public_id): c for c in Complaint.objects.filter(
        public_id__in=[a.subject_id for a in approvals]).select_related("customer", "category", "owner", "account")}
    entries: dict[int, list[dict]] = {}
    # rows, not model instances (an entry, its data and its actor's whole user row each)
    for complaint_id, kind, text, username, at in (
            ComplaintEntry.objects.filter(complaint__in=complaints.values()).order_by("complaint_id", "at", "id")
            .values_list("complaint_id", "kind", "text", "actor__username", "at")):
        entries.setdefault(complaint_id, []).append(
            {"at": at, "text": f"{kind} · {username or '—'}" + (f" · {text[:80]}" if text else "")})
    # labels and choice names once per batch, not once per item (gettext is not free, and
    # get_FOO_display() translates every choice of the field on each call)
    label = {"complaint": _("Complaint"), "status": _("Status"), "decision": _("Decision"),
             "decision_reason": _("Decision reason"), "owner": _("Owner"), "disputed": _("Amount in dispute"),
             "paid": _("Redress already paid")}
    statuses = {k: str(v) for k, v in Complaint.Status.choices}
    decisions = {k: str(v) for k, v in Complaint.Decision.choices}
    out: dict[int, dict] = {}
    for approval in approvals:
        complaint = complaints.get(approval.subject_id)
        if complaint is None:
            continue
        cur = complaint.currency_id or approval.summary.get("currency")
        facts = [{"label": label["complaint"], "value": f"{complaint.number} · {complaint.category.name}"},
                 {"label": label["status"], "value": statuses.get(complaint.status, complaint.status)},
                 {"label": label["decision"], "value": decisions.get(complaint.decision, complaint.decision) or "—"},
                 {"label": label["decision_reason"], "value": complaint.decision_reason or "—"},
                 {"label": label["owner"], "value": complaint.owner.get_username()}]
        if cur:
            facts += [{"label": label["disputed"], "value": Money(complaint.amount_disputed, cur).format(lang)},
                      {"label": label["paid"], "value": Money(complaint.redress_paid, cur).format(lang)}]
        customer = complaint.customer
        out[approval.pk] = {
            "customer": {"number": customer.number, "name": customer.full_name} if customer else
            {"number": "", "name": complaint.complainant_name},
            "facts": facts, "history": entries.get(complaint.pk, [])[-8:],
            "link": reverse("complaint-detail", args=[complaint.number]),
        }
    return out


# --- the branch board and the daily report read these (branch_ops.floor) ---------------------------

def complaint_clock_summary(branch, *, now=None) -> dict:
    """Open complaints of the branch by the colour of their most urgent running clock
    (red, amber, green), with the complaints nearest their deadline first. Two queries."""
    from django.utils import timezone

    from complaints.services import clock_colour

    now = now or timezone.now()
    rank = {"red": 0, "amber": 1, "green": 2}
    counts = {"red": 0, "amber": 0, "green": 0}
    worst: list[tuple] = []
    running = (Deadline.objects.filter(complaint__branch=branch, met_at__isnull=True)
               .exclude(complaint__status=Complaint.Status.CLOSED)
               .select_related("complaint__regime").order_by("complaint_id", "due_at"))
    seen: set[int] = set()
    for deadline in running:
        if deadline.complaint_id in seen:
            continue  # the first running clock (earliest due) is the most urgent
        seen.add(deadline.complaint_id)
        colour = clock_colour(deadline, deadline.complaint.regime, now)
        if colour in counts:
            counts[colour] += 1
            worst.append((rank[colour], deadline.due_at, deadline.complaint.number, colour, deadline.kind))
    worst.sort()
    return {"counts": counts, "total": sum(counts.values()),
            "nearest": [{"number": n, "colour": c, "due_at": d, "clock": k} for _r, d, n, c, k in worst[:5]]}


def complaint_day_stats(branch, *, start, end) -> dict:
    """Complaints received and closed in [start, end), and clocks breached in it."""
    return {
        "opened": Complaint.objects.filter(branch=branch, received_at__gte=start, received_at__lt=end).count(),
        "closed": Complaint.objects.filter(branch=branch, closed_at__gte=start, closed_at__lt=end).count(),
        "breached": Deadline.objects.filter(complaint__branch=branch, breached_at__gte=start,
                                            breached_at__lt=end).count(),
    }
