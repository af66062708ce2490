"""Queues and reads of the service desk."""

from __future__ import annotations

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


def statement_csv(*, actor, number: str) -> tuple[str, str]:
    """The statement a ``statement`` request asked for, as CSV (UTF-8 with BOM so that
    spreadsheet programs show Arabic and Chinese right): filename and text. Its totals are
    the ledger's: every line comes from ``accounts.selectors.account_statement``."""
    import csv
    import datetime as dt
    import io

    from accounts.selectors import account_statement

    request = request_detail(actor=actor, number=number)
    if request.kind != RequestKind.STATEMENT:
        raise NotFound(_("No such statement."), code="REQUEST_NOT_FOUND")
    start, end = dt.date.fromisoformat(request.data["start"]), dt.date.fromisoformat(request.data["end"])
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    account = request.account
    writer.writerow([_("Account"), account.number, account.currency_id, request.customer.full_name])
    first = account_statement(account=account, start=start, end=end, limit=500)
    writer.writerow([_("Opening balance"), "", "", "", str(Money(first.opening_balance, account.currency_id).to_decimal())])
    writer.writerow([_("Date"), _("Description"), _("Debit"), _("Credit"), _("Balance"), _("Reference")])
    page, debits, credits = first, 0, 0
    while True:
        for line in page.lines:
            debits += line.debit
            credits += line.credit
            writer.writerow([line.posted_at.isoformat(), line.description or line.kind,
                             str(Money(line.debit, account.currency_id).to_decimal()) if line.debit else "",
                             str(Money(line.credit, account.currency_id).to_decimal()) if line.credit else "",
                             str(Money(line.balance, account.currency_id).to_decimal()), line.reference])
        if not page.next_cursor:
            break
        page = account_statement(account=account, start=start, end=end, after=page.next_cursor, limit=500)
    writer.writerow([_("Totals"), "", str(Money(debits, account.currency_id).to_decimal()),
                     str(Money(credits, account.currency_id).to_decimal()),
                     str(Money(first.closing_balance, account.currency_id).to_decimal()), ""])
    return f"statement-{account.number}-{start}-{end}.csv", out.getvalue()


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
