"""Queues and reads of the service desk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branch_ops.access import require_perm, staff_profile
from branch_ops.errors import NotFound
from branch_ops.money import Money
from branch_ops.roles import Perm
from customer_service.models import OPEN_STATUSES, Card, ChequeBook, RequestKind, RequestStatus, ServiceRequest


class RequestFilter(django_filters.FilterSet):
    """The queue filters shared by the screens and the API."""

    kind = django_filters.ChoiceFilter(choices=RequestKind.choices)
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label=gettext_lazy("Mine only"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=gettext_lazy("Overdue only"))
    customer = django_filters.CharFilter(field_name="customer__number")
    open = django_filters.BooleanFilter(method="filter_open", label=gettext_lazy("Open only"))

    class Meta:
        model = ServiceRequest
        fields = ["kind", "status", "customer"]

    def filter_mine(self, qs, name, value):
        if value:
            user = self.request.user
            return qs.filter(Q(assigned_to=user) | Q(created_by=user))
        return qs

    def filter_overdue(self, qs, name, value):
        if value:
            return qs.filter(due_at__lt=timezone.now(), status__in=OPEN_STATUSES)
        return qs

    def filter_open(self, qs, name, value):
        if value:
            return qs.filter(status__in=OPEN_STATUSES)
        return qs


def request_queue(*, actor, params=None, request=None):
    """The branch's requests (overdue first), filtered; CSRs see the branch's open work too."""
    profile = require_perm(actor, Perm.CREATE_REQUEST)
    qs = (ServiceRequest.objects.filter(branch=profile.branch)
          .select_related("customer", "account", "assigned_to", "created_by").order_by("due_at", "id"))
    return RequestFilter(params or {}, queryset=qs, request=request).qs


def request_detail(*, actor, number: str) -> ServiceRequest:
    profile = require_perm(actor, Perm.CREATE_REQUEST)
    found = (ServiceRequest.objects.select_related("customer", "account", "assigned_to", "created_by", "branch")
             .prefetch_related("timeline__actor").filter(number=number, branch=profile.branch).first())
    if found is None:
        raise NotFound(_("No such request."), code="REQUEST_NOT_FOUND")
    return found


def customer_desk_view(*, actor, customer) -> dict:
    """What the desk adds to the customer at a glance: cards (masked), cheque books, open
    requests, recent inquiries."""
    staff_profile(actor)
    requests = list(ServiceRequest.objects.filter(customer=customer).select_related("account")
                    .order_by("-created_at")[:50])
    return {
        "cards": list(Card.objects.filter(customer=customer).select_related("account").order_by("-created_at")),
        "cheque_books": list(ChequeBook.objects.filter(account__customer=customer).select_related("account")
                             .order_by("-created_at")[:10]),
        "open_requests": [r for r in requests if r.status in OPEN_STATUSES],
        "inquiries": [r for r in requests if r.kind == RequestKind.INQUIRY][:10],
    }


@dataclass
class RequestStatement:
    """The whole statement a ``statement`` request asked for, read once from the ledger
    (``accounts.selectors.account_statement``, page by page) and shared by the screen, the
    printable page, the CSV and the PDF, so their totals are the ledger's."""

    request: ServiceRequest
    start: dt.date
    end: dt.date
    opening_balance: int
    closing_balance: int
    lines: list
    debits: int
    credits: int

    @property
    def account(self):
        return self.request.account

    @property
    def currency(self) -> str:
        return self.request.account.currency_id


def request_statement(*, actor, number: str) -> RequestStatement:
    from accounts.selectors import account_statement

    request = request_detail(actor=actor, number=number)
    if request.kind != RequestKind.STATEMENT:
        raise NotFound(_("No such statement."), code="REQUEST_NOT_FOUND")
    start, end = dt.date.fromisoformat(request.data["start"]), dt.date.fromisoformat(request.data["end"])
    page = first = account_statement(account=request.account, start=start, end=end, limit=500)
    lines = list(page.lines)
    while page.next_cursor:
        page = account_statement(account=request.account, start=start, end=end, after=page.next_cursor, limit=500)
        lines.extend(page.lines)
    return RequestStatement(request=request, start=start, end=end, opening_balance=first.opening_balance,
                            closing_balance=first.closing_balance, lines=lines,
                            debits=sum(line.debit for line in lines), credits=sum(line.credit for line in lines))


def statement_csv(*, actor, number: str) -> tuple[str, str]:
    """The statement a ``statement`` request asked for, as CSV (UTF-8 with BOM so that
    spreadsheet programs show Arabic and Chinese right): filename and text."""
    import csv
    import io

    st = request_statement(actor=actor, number=number)
    account, cur = st.account, st.currency

    def amount(value: int) -> str:
        return str(Money(value, cur).to_decimal())

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Account"), account.number, cur, st.request.customer.full_name])
    writer.writerow([_("Opening balance"), "", "", "", amount(st.opening_balance)])
    writer.writerow([_("Date"), _("Description"), _("Debit"), _("Credit"), _("Balance"), _("Reference")])
    for line in st.lines:
        writer.writerow([line.posted_at.isoformat(), line.description or line.kind,
                         amount(line.debit) if line.debit else "", amount(line.credit) if line.credit else "",
                         amount(line.balance), line.reference])
    writer.writerow([_("Totals"), "", amount(st.debits), amount(st.credits), amount(st.closing_balance), ""])
    return f"statement-{account.number}-{st.start}-{st.end}.csv", out.getvalue()


def eligible_offers(*, actor, customer) -> list:
    """Active offers whose rule fits what the customer does not yet have."""
    from accounts.models import BankAccount
    from customer_service.models import ProductOffer

    staff_profile(actor)
    accounts = list(BankAccount.objects.filter(customer=customer).exclude(status="closed").select_related("ledger"))
    products = {a.product for a in accounts}
    fitting = []
    for offer in ProductOffer.objects.filter(active=True).order_by("code"):
        rule = offer.conditions or {}
        if rule.get("lacks_product") and rule["lacks_product"] in products:
            continue
        if rule.get("has_product") and rule["has_product"] not in products:
            continue
        if "min_balance" in rule:
            currency = rule.get("currency")
            best = max((a.ledger.balance for a in accounts if not currency or a.currency_id == currency), default=0)
            if best < int(rule["min_balance"]):
                continue
        if rule.get("lacks_card") and Card.objects.filter(customer=customer, status__in=["ordered", "active"]).exists():
            continue
        fitting.append(offer)
    return fitting


# --- what a decider sees beside a request approval (ApprovalKind.describe) --------------------------

def approval_describe_requests(approvals) -> dict[int, dict]:
    """Context of a routine or four-eyes request approval: the request, its customer and
    account (balances now), its data, its timeline. A constant number of queries."""
    from django.urls import reverse
    from django.utils.translation import get_language

    from accounts.models import BankAccount
    from customer_service.models import RequestTransition

    lang = get_language() or "en"
    requests = {str(r.public_id): r for r in ServiceRequest.objects.filter(
        public_id__in=[a.subject_id for a in approvals]).select_related("customer", "account__ledger")}
    timeline: dict[int, list[dict]] = {}
    # rows, not model instances (a transition and its actor's whole user row each): the inbox
    # shows 25 approvals, each with its request's timeline
    for request_id, from_status, to_status, username, reason, at in (
            RequestTransition.objects.filter(request__in=requests.values())
            .order_by("request_id", "at", "id")
            .values_list("request_id", "from_status", "to_status", "actor__username", "reason", "at")):
        timeline.setdefault(request_id, []).append(
            {"at": at, "text": f"{from_status or '—'} → {to_status} · {username}" + (f" · {reason}" if reason else "")})
    label = {"request": _("Request"), "status": _("Status"), "due": _("Due"), "account": _("Account"),
             "balance": _("Balance")}
    kinds = {k: str(v) for k, v in RequestKind.choices}
    statuses = {k: str(v) for k, v in RequestStatus.choices}
    account_statuses = {k: str(v) for k, v in BankAccount.Status.choices}
    out: dict[int, dict] = {}
    for approval in approvals:
        request = requests.get(approval.subject_id)
        if request is None:
            continue
        facts = [{"label": label["request"], "value": f"{request.number} · {kinds.get(request.kind, request.kind)}"},
                 {"label": label["status"], "value": statuses.get(request.status, request.status)},
                 {"label": label["due"], "value": request.due_at.isoformat(timespec="minutes")}]
        if request.account_id:
            ledger, cur = request.account.ledger, request.account.currency_id
            facts += [{"label": label["account"],
                       "value": f"{request.account.number} · {account_statuses.get(request.account.status)}"},
                      {"label": label["balance"], "value": Money(ledger.balance, cur).format(lang)}]
        facts += [{"label": str(k), "value": str(v)} for k, v in sorted((request.data or {}).items())
                  if not isinstance(v, dict | list)]
        out[approval.pk] = {"customer": {"number": request.customer.number, "name": request.customer.full_name},
                            "facts": facts, "history": timeline.get(request.pk, [])[-8:],
                            "link": reverse("request-detail", args=[request.number])}
    return out


# --- the branch board and the daily report read these (branch_ops.floor) ---------------------------

#: age buckets of open requests on the board, in hours: (upper bound, label)
AGE_BUCKETS = [(4, gettext_lazy("< 4 h")), (24, gettext_lazy("4–24 h")), (72, gettext_lazy("1–3 days")),
               (None, gettext_lazy("> 3 days"))]


def request_queue_summary(branch, *, now=None) -> dict:
    """Open requests of the branch by kind and age (hours since created), and how many
    are overdue: one aggregate query."""
    from datetime import timedelta

    from django.db.models import Count, Q

    now = now or timezone.now()
    buckets, lower = {}, None
    for i, (upper, _label) in enumerate(AGE_BUCKETS):
        cond = Q()
        if upper is not None:
            cond &= Q(created_at__gt=now - timedelta(hours=upper))
        if lower is not None:
            cond &= Q(created_at__lte=now - timedelta(hours=lower))
        buckets[f"age{i}"] = Count("id", filter=cond)
        lower = upper
    rows = (ServiceRequest.objects.filter(branch=branch, status__in=OPEN_STATUSES).values("kind")
            .annotate(total=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)), **buckets).order_by("kind"))
    labels = dict(RequestKind.choices)
    kinds = [{"kind": r["kind"], "label": labels.get(r["kind"], r["kind"]), "total": r["total"],
              "overdue": r["overdue"], "ages": [r[f"age{i}"] for i in range(len(AGE_BUCKETS))]} for r in rows]
    return {"kinds": kinds, "age_labels": [label for _u, label in AGE_BUCKETS],
            "total": sum(k["total"] for k in kinds), "overdue": sum(k["overdue"] for k in kinds)}


def request_day_stats(branch, *, start, end) -> dict:
    """Requests opened in [start, end), fulfilled in it (by their timeline), and overdue at
    its end (due before ``end`` and not fulfilled, rejected or cancelled by then)."""
    from django.db.models import Exists, OuterRef

    from customer_service.models import RequestTransition

    closed_by_end = RequestTransition.objects.filter(request=OuterRef("pk"), at__lt=end,
                                                     to_status__in=["fulfilled", "rejected", "cancelled"])
    base = ServiceRequest.objects.filter(branch=branch)
    return {
        "opened": base.filter(created_at__gte=start, created_at__lt=end).count(),
        "fulfilled": RequestTransition.objects.filter(request__branch=branch, to_status="fulfilled", at__gte=start,
                                                      at__lt=end).count(),
        "overdue": base.filter(due_at__lt=end, created_at__lt=end).exclude(Exists(closed_by_end)).count(),
    }
