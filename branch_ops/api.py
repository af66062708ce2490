"""Platform API (``/api/v1/``): who am I, branches, staff, approvals, audit, events,
service accounts and tokens. One view per action; explicit input and output serializers."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from branch_ops import approvals, filters, idempotency, webhooks
from branch_ops.access import access_approval, access_branch, staff_profile
from branch_ops.audit import audit_chain_verify
from branch_ops.errors import ApplicationError
from branch_ops.models import ApiToken, Approval, AuditEvent, StaffProfile
from branch_ops.outbox import EVENT_SCHEMAS, events_feed
from branch_ops.permissions import IsActiveStaff, RecentAuthentication
from branch_ops.roles import ROLE_PERMISSIONS, Perm, Role
from branch_ops.selectors import webhook_deliveries, webhook_subscriptions
from branch_ops.services import api_token_issue, api_token_revoke, api_token_rotate, service_account_create

IDEMPOTENCY_PARAM = OpenApiParameter(
    name="Idempotency-Key", location=OpenApiParameter.HEADER, required=False, type=str,
    description="A unique value per operation (e.g. a UUID). Same key and body replay the stored "
                "response; same key with another body is a 409.",
)
IDEMPOTENCY_REQUIRED = OpenApiParameter(
    name="Idempotency-Key", location=OpenApiParameter.HEADER, required=True, type=str,
    description=IDEMPOTENCY_PARAM.description,
)


class Pagination(CursorPagination):
    """The one list convention (docs/api.md): ``?cursor=`` from the previous page's ``next``,
    ``?limit=`` 1..200 (default 50); the answer is ``{"next", "previous", "results"}``. A
    view names its order in ``cursor_ordering`` (unique, or ending with ``id``)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = "-id"
    invalid_cursor_message = "Invalid cursor"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ApplicationError(_("The cursor is not valid: use the `next` or `previous` link of a page."),
                                   code="INVALID_CURSOR", field="cursor") from None

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= self.max_page_size:
                raise ApplicationError(_("limit must be a whole number from 1 to %(max)s.") % {"max": self.max_page_size},
                                       code="INVALID_LIMIT", field="limit")
            return size
        return self.page_size


def filtered_queryset(filterset):
    """The queryset of a bound django-filter ``filterset``, or its first invalid value
    answered as 400 ``INVALID_FILTER`` (the one way the API refuses a filter)."""
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise ApplicationError(str(errors[0]), code="INVALID_FILTER", field=field)
    return filterset.qs


class FilterBackend(DjangoFilterBackend):
    """django-filter, with an invalid filter value answered as 400 ``INVALID_FILTER``."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        return queryset if filterset is None else filtered_queryset(filterset)


class CursorListApi(ListModelMixin, GenericAPIView):
    """GET of a list endpoint: ``get_queryset()`` (scoped by the access selectors), filtered by
    ``filterset_class`` (django-filter), cursor-paged by :class:`Pagination`, rendered with
    ``serializer_class``. drf-spectacular documents the filters, ``cursor``/``limit`` and the
    page shape from these attributes."""

    pagination_class = Pagination
    filter_backends = [FilterBackend]
    cursor_ordering: str | tuple = "-id"

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: the model is enough
            return self.filterset_class._meta.model.objects.none()
        return self.scoped_queryset()

    def scoped_queryset(self):
        """The caller's objects (through the access selectors); unfiltered, in any order."""
        raise NotImplementedError


def respond(outcome: idempotency.Outcome) -> Response:
    response = Response(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# --- me, branches, staff ---------------------------------------------------------------------------

class BranchOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField(source="currency_id")
    time_zone = serializers.CharField()
    address = serializers.CharField()
    country = serializers.CharField()


class MeApi(APIView):
    class MeOutput(serializers.Serializer):
        username = serializers.CharField()
        full_name = serializers.CharField()
        role = serializers.CharField()
        kind = serializers.CharField()
        branch = BranchOutput()
        permissions = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=MeOutput, summary="The caller: role, branch, permissions")
    def get(self, request):
        profile = staff_profile(request.user)
        data = {
            "username": request.user.get_username(),
            "full_name": request.user.get_full_name(),
            "role": profile.role,
            "kind": profile.kind,
            "branch": profile.branch,
            "permissions": sorted(p.value for p in ROLE_PERMISSIONS[Role(profile.role)]),
        }
        return Response(self.MeOutput(data).data)


class BranchDetailApi(APIView):
    @extend_schema(responses=BranchOutput, summary="A branch (your own only)")
    def get(self, request, code: str):
        return Response(BranchOutput(access_branch(user=request.user, code=code)).data)


class StaffMemberOutput(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    role = serializers.CharField()
    kind = serializers.CharField()
    active = serializers.BooleanField(source="user.is_active")


class StaffListApi(CursorListApi):
    required_perm = Perm.VIEW_STAFF
    StaffMemberOutput = StaffMemberOutput
    serializer_class = StaffMemberOutput
    filterset_class = filters.StaffFilter
    cursor_ordering = "id"

    def scoped_queryset(self):
        return StaffProfile.objects.select_related("user").filter(branch=staff_profile(self.request.user).branch)

    @extend_schema(summary="Staff of your branch")
    def get(self, request):
        return super().get(request)


# --- approvals -------------------------------------------------------------------------------------

class ApprovalOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    kind_label = serializers.SerializerMethodField()
    branch = serializers.CharField(source="branch.code")
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    summary = serializers.JSONField()
    status = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    request_reason = serializers.CharField()
    decider_roles = serializers.ListField(child=serializers.CharField())
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()

    def get_kind_label(self, obj) -> str:
        try:
            return str(approvals.approval_kind_get(obj.kind).label)
        except LookupError:
            return obj.kind


def render_approval(approval) -> tuple[int, dict]:
    return 200, ApprovalOutput(approval).data


class ApprovalListApi(CursorListApi):
    serializer_class = ApprovalOutput
    filterset_class = filters.ApprovalFilter

    def scoped_queryset(self):
        profile = staff_profile(self.request.user)
        qs = Approval.objects.select_related("branch", "requested_by", "decided_by").filter(branch=profile.branch)
        if not (profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)):
            qs = qs.filter(requested_by=self.request.user)
        return qs

    @extend_schema(summary="Approvals of your branch (deciders see all; others their own requests)")
    def get(self, request):
        return super().get(request)


class ApprovalDetailApi(APIView):
    @extend_schema(responses=ApprovalOutput, summary="One approval")
    def get(self, request, approval_id):
        return Response(ApprovalOutput(access_approval(user=request.user, public_id=approval_id)).data)


class DecisionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class _ApprovalDecideApi(APIView):
    approve: bool

    def post(self, request, approval_id):
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request,
            scope=f"approval.decide:{approval_id}:{self.approve}",
            data=data.validated_data,
            required=False,
            perform=lambda claim: approvals.approval_decide(
                approval_id=approval_id, actor=request.user, approve=self.approve,
                reason=data.validated_data["reason"], idempotency_claim=claim),
            render=render_approval,
        )
        return respond(outcome)


class ApprovalApproveApi(_ApprovalDecideApi):
    approve = True

    @extend_schema(request=DecisionInput, responses=ApprovalOutput, parameters=[IDEMPOTENCY_PARAM],
                   summary="Approve (not your own request; your role must be allowed to decide its kind)")
    def post(self, request, approval_id):
        return super().post(request, approval_id)


class ApprovalRejectApi(_ApprovalDecideApi):
    approve = False

    @extend_schema(request=DecisionInput, responses=ApprovalOutput, parameters=[IDEMPOTENCY_PARAM],
                   summary="Reject, with a reason")
    def post(self, request, approval_id):
        return super().post(request, approval_id)


class ApprovalCancelApi(APIView):
    @extend_schema(request=DecisionInput, responses=ApprovalOutput, summary="Withdraw your own pending request")
    def post(self, request, approval_id):
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = approvals.approval_cancel(approval_id=approval_id, actor=request.user,
                                             reason=data.validated_data["reason"])
        return Response(ApprovalOutput(approval).data)


# --- audit -----------------------------------------------------------------------------------------

class AuditEventOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    actor_role = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    customer_ref = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    request_id = serializers.CharField()
    hash = serializers.CharField()


class AuditEventListApi(CursorListApi):
    required_perm = Perm.VIEW_AUDIT
    serializer_class = AuditEventOutput
    filterset_class = filters.AuditEventFilter

    def scoped_queryset(self):
        return AuditEvent.objects.select_related("actor").filter(branch=staff_profile(self.request.user).branch)

    @extend_schema(summary="Your branch's audit trail, newest first")
    def get(self, request):
        return super().get(request)


class AuditVerificationApi(APIView):
    required_perm = Perm.VIEW_AUDIT

    class AuditVerificationOutput(serializers.Serializer):
        ok = serializers.BooleanField()
        events_checked = serializers.IntegerField()
        breaks = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses=AuditVerificationOutput, summary="Recompute your branch's audit hash chain")
    def get(self, request):
        report = audit_chain_verify(branch=staff_profile(request.user).branch)
        return Response({
            "ok": report.ok,
            "events_checked": report.events_checked,
            "breaks": [{"seq": b.seq, "problem": b.problem} for b in report.breaks],
        })


# --- events ----------------------------------------------------------------------------------------

class EventOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    type = serializers.CharField(source="event_type")
    created_at = serializers.DateTimeField()
    branch = serializers.CharField(source="branch.code", allow_null=True, default=None)
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    payload = serializers.JSONField()


def _component(event_type: str) -> str:
    return "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Event"


def _documented_events() -> list:
    """One schema per registered event type (its ``type`` a one-value enum, its payload the
    registered serializer), plus the generic event for types not documented yet."""
    documented = []
    for event_type, (payload, description) in sorted(EVENT_SCHEMAS.items()):
        attrs = {
            "type": serializers.ChoiceField(source="event_type", choices=[event_type]),
            "payload": payload(),
            "Meta": type("Meta", (), {"ref_name": _component(event_type)}),
            "__doc__": description or event_type,
        }
        documented.append(type(_component(event_type), (EventOutput,), attrs))
    return [*documented, EventOutput]


class EventFeedApi(APIView):
    required_perm = Perm.READ_EVENTS
    EventOutput = EventOutput

    class EventFeedOutput(serializers.Serializer):
        events = PolymorphicProxySerializer(component_name="FeedEvent", serializers=_documented_events,
                                            resource_type_field_name=None, many=True)
        next_cursor = serializers.CharField(allow_null=True)

    @extend_schema(
        parameters=[OpenApiParameter("after", str, description="cursor from the previous page's next_cursor"),
                    OpenApiParameter("limit", int, description="1..500, default 100")],
        responses=EventFeedOutput, summary="Events of your branch in a gap-free order",
    )
    def get(self, request):
        try:
            limit = min(max(int(request.query_params.get("limit", 100)), 1), 500)
        except ValueError:
            limit = 100
        events, cursor = events_feed(branch=staff_profile(request.user).branch,
                                     after=request.query_params.get("after"), limit=limit)
        return Response({"events": self.EventOutput(events, many=True).data, "next_cursor": cursor})


# --- service accounts and tokens ------------------------------------------------------------------

class ServiceAccountOutput(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    description = serializers.CharField(source="user.first_name")
    role = serializers.CharField()
    branch = serializers.CharField(source="branch.code")
    created_at = serializers.DateTimeField()


class ServiceAccountListCreateApi(CursorListApi):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    serializer_class = ServiceAccountOutput
    filterset_class = filters.ServiceAccountFilter
    cursor_ordering = "id"
    permission_classes = [IsActiveStaff, RecentAuthentication]

    class ServiceAccountCreateInput(serializers.Serializer):
        username = serializers.CharField(max_length=61)
        role = serializers.ChoiceField(choices=[r.value for r in Role])
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)

    def scoped_queryset(self):
        return StaffProfile.objects.select_related("user", "branch").filter(
            branch=staff_profile(self.request.user).branch, kind=StaffProfile.Kind.SERVICE)

    @extend_schema(summary="Service accounts of your branch")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=ServiceAccountCreateInput, responses={201: ServiceAccountOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   summary="Create an integration service account at your branch")
    def post(self, request):
        data = self.ServiceAccountCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="service_account.create", data=data.validated_data, required=True,
            perform=lambda claim: service_account_create(actor=request.user, idempotency_claim=claim,
                                                         **data.validated_data),
            render=lambda sa: (201, ServiceAccountOutput(sa).data),
        )
        return respond(outcome)


class TokenOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    owner = serializers.CharField(source="user.username")
    prefix = serializers.CharField()
    rate_limit = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class TokenListIssueApi(CursorListApi):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    serializer_class = TokenOutput
    filterset_class = filters.TokenFilter
    permission_classes = [IsActiveStaff, RecentAuthentication]

    class TokenIssueInput(serializers.Serializer):
        service_account = serializers.CharField(max_length=61)
        name = serializers.CharField(max_length=80)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        rate_limit = serializers.CharField(required=False, allow_blank=True, default="", max_length=20,
                                           help_text='requests per period, e.g. "120/min"; blank: the default')

    def scoped_queryset(self):
        return ApiToken.objects.select_related("user").filter(
            user__staff__branch=staff_profile(self.request.user).branch)

    @extend_schema(summary="API tokens of your branch's service accounts (never the secret)")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=TokenIssueInput, responses={201: inline_serializer("IssuedToken", {
        "token": TokenOutput(), "secret": serializers.CharField()})}, parameters=[IDEMPOTENCY_PARAM],
        examples=[OpenApiExample("Core banking", request_only=True, value={
            "service_account": "core.dxb", "name": "core banking", "rate_limit": "120/min"})],
        summary="Issue a token; its secret is in this response only (and in a replay of the same Idempotency-Key)")
    def post(self, request):
        data = self.TokenIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope="api_token.issue", data=request.data, required=False,
            perform=lambda claim: api_token_issue(actor=request.user, username=v["service_account"], name=v["name"],
                                                  expires_at=v["expires_at"], rate_limit=v["rate_limit"],
                                                  idempotency_claim=claim),
            render=lambda result: (201, {"token": TokenOutput(result[0]).data, "secret": result[1]}))
        return respond(outcome)


class TokenRevokeApi(APIView):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    permission_classes = [IsActiveStaff, RecentAuthentication]

    @extend_schema(request=None, responses=TokenOutput, summary="Revoke a token at once")
    def post(self, request, token_id):
        return Response(TokenOutput(api_token_revoke(actor=request.user, token_id=token_id)).data)




class TokenRotateApi(APIView):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    permission_classes = [IsActiveStaff, RecentAuthentication]

    @extend_schema(request=None, responses={201: inline_serializer("RotatedToken", {
        "token": TokenOutput(), "secret": serializers.CharField(), "replaces": serializers.UUIDField()})},
        parameters=[IDEMPOTENCY_PARAM],
        summary="Rotate a token: a new secret (shown once); the old token stops working at once")
    def post(self, request, token_id):
        outcome = idempotency.run_idempotent(
            request, scope=f"api_token.rotate:{token_id}", data={}, required=False,
            perform=lambda claim: api_token_rotate(actor=request.user, token_id=token_id, idempotency_claim=claim),
            render=lambda result: (201, {"token": TokenOutput(result[0]).data, "secret": result[1],
                                         "replaces": str(result[0].replaces.public_id)}))
        return respond(outcome)


# --- webhooks --------------------------------------------------------------------------------------

class WebhookSubscriptionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    branch = serializers.CharField(source="branch.code")
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    event_id = serializers.UUIDField(source="event.public_id")
    event_type = serializers.CharField(source="event.event_type")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_status_code = serializers.IntegerField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    log = serializers.SerializerMethodField()

    def get_log(self, obj) -> list[dict]:
        return [{"attempt": a.number, "started_at": a.started_at, "status_code": a.status_code,
                 "latency_ms": a.latency_ms, "error": a.error} for a in obj.attempt_log.all()]


class WebhookListCreateApi(CursorListApi):
    required_perm = Perm.MANAGE_WEBHOOKS
    serializer_class = WebhookSubscriptionOutput
    filterset_class = filters.WebhookSubscriptionFilter

    class WebhookCreateInput(serializers.Serializer):
        url = serializers.CharField(max_length=500)
        event_types = serializers.ListField(child=serializers.CharField(max_length=80), min_length=1)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def scoped_queryset(self):
        return webhook_subscriptions(branch=staff_profile(self.request.user).branch)

    @extend_schema(summary="Webhook subscriptions of your branch")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=WebhookCreateInput, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Core banking, account events", request_only=True, value={
                       "url": "https://core.bank.example/branch-ops/events",
                       "event_types": ["account.opened", "account.closed", "approval.approved"],
                       "description": "core banking"})],
                   responses={201: inline_serializer("CreatedWebhook", {
                       "subscription": WebhookSubscriptionOutput(), "secret": serializers.CharField()})},
                   summary="Subscribe a URL (http/https) to your branch's events; the signing secret is in "
                           "this response only")
    def post(self, request):
        data = self.WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="webhook.create", data=data.validated_data, required=False,
            perform=lambda claim: webhooks.webhook_subscription_create(actor=request.user, idempotency_claim=claim,
                                                                       **data.validated_data),
            render=lambda result: (201, {"subscription": WebhookSubscriptionOutput(result[0]).data,
                                         "secret": result[1]}),
        )
        return respond(outcome)


class WebhookDetailApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(responses=WebhookSubscriptionOutput, summary="One webhook subscription")
    def get(self, request, subscription_id):
        return Response(WebhookSubscriptionOutput(
            webhooks.access_webhook_subscription(user=request.user, public_id=subscription_id)).data)


class WebhookRotateApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    class RotateInput(serializers.Serializer):
        grace_seconds = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)

    @extend_schema(request=RotateInput, responses=inline_serializer("RotatedWebhookSecret", {
        "subscription": WebhookSubscriptionOutput(), "secret": serializers.CharField()}),
        parameters=[IDEMPOTENCY_PARAM],
        summary="New signing secret; the old one also signs until the grace period ends")
    def post(self, request, subscription_id):
        data = self.RotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope=f"webhook.rotate:{subscription_id}", data=data.validated_data, required=False,
            perform=lambda claim: webhooks.webhook_secret_rotate(
                actor=request.user, subscription_id=subscription_id,
                grace_seconds=data.validated_data["grace_seconds"], idempotency_claim=claim),
            render=lambda result: (200, {"subscription": WebhookSubscriptionOutput(result[0]).data,
                                         "secret": result[1]}))
        return respond(outcome)


class WebhookDeactivateApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(request=None, responses=WebhookSubscriptionOutput, summary="Stop delivering to this subscription")
    def post(self, request, subscription_id):
        return Response(WebhookSubscriptionOutput(webhooks.webhook_subscription_deactivate(
            actor=request.user, subscription_id=subscription_id)).data)


class WebhookDeliveryListApi(CursorListApi):
    required_perm = Perm.MANAGE_WEBHOOKS
    serializer_class = WebhookDeliveryOutput
    filterset_class = filters.WebhookDeliveryFilter

    def scoped_queryset(self):
        subscription = webhooks.access_webhook_subscription(user=self.request.user,
                                                            public_id=self.kwargs["subscription_id"])
        return webhook_deliveries(subscription=subscription)

    @extend_schema(summary="The delivery log of a subscription, newest first")
    def get(self, request, subscription_id):
        return super().get(request, subscription_id=subscription_id)


class WebhookRedeliverApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(request=None, responses=WebhookDeliveryOutput, summary="Send a delivery again")
    def post(self, request, delivery_id):
        delivery = webhooks.webhook_redeliver(actor=request.user, delivery_id=delivery_id)
        return Response(WebhookDeliveryOutput(delivery).data, status=202)
