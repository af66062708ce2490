"""Queues and reads of the service desk."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops.access import require_perm, staff_profile
from branch_ops.errors import NotFound
from branch_ops.roles import Perm
from customer_service.models import OPEN_STATUSES, Card, ChequeBook, RequestKind, RequestStatus, ServiceRequest


class RequestFilter(django_filters.FilterSet):
    """The queue filters shared by the screens and the API."""

    kind = django_filters.ChoiceFilter(choices=RequestKind.choices)
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Mine only"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue only"))
    customer = django_filters.CharFilter(field_name="customer__number")
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open only"))

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
