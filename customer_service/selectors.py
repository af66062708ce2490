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
