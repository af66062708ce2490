"""The list filters of the platform's API (django-filter): one ``FilterSet`` per list, so the
filters are validated in one way (400 ``INVALID_FILTER``) and documented in the OpenAPI
document from the filter itself. See docs/api.md, "Lists"."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from branch_ops.models import ApiToken, Approval, AuditEvent, StaffProfile, WebhookDelivery, WebhookSubscription
from branch_ops.roles import Role


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC before it reaches PostgreSQL (which refuses
    an offset over 15:59, e.g. ``+19:40``); one that cannot be UTC is a field error."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("This date and time is out of range."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StaffFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=[(r.value, r.value) for r in Role])
    kind = django_filters.ChoiceFilter(choices=StaffProfile.Kind.choices)
    active = django_filters.BooleanFilter(field_name="user__is_active")

    class Meta:
        model = StaffProfile
        fields = ["role", "kind", "active"]


class ServiceAccountFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=[(r.value, r.value) for r in Role])

    class Meta:
        model = StaffProfile
        fields = ["role"]


class ApprovalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Approval.Status.choices)
    kind = django_filters.CharFilter(max_length=40)

    class Meta:
        model = Approval
        fields = ["status", "kind"]


class AuditEventFilter(django_filters.FilterSet):
    """The filters of the audit search (screen and API)."""

    actor = django_filters.CharFilter(field_name="actor__username", label=_("Person (username)"))
    action = django_filters.CharFilter(field_name="action", lookup_expr="startswith", label=_("Action starts with"))
    object_type = django_filters.CharFilter(field_name="object_type", label=_("Object type"))
    object_id = django_filters.CharFilter(field_name="object_id", label=_("Object id"))
    customer = django_filters.CharFilter(field_name="customer_ref", label=_("Customer number"))
    since = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=_("From"))
    until = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label=_("Until"))

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id", "customer", "since", "until"]


class TokenFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="user__username", label=_("Owner (username)"))
    revoked = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ApiToken
        fields = ["owner", "revoked"]


class WebhookSubscriptionFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter()

    class Meta:
        model = WebhookSubscription
        fields = ["active"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["status"]
