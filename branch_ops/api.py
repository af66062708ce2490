"""Platform API (``/api/v1/``): who am I, branches, staff, approvals, audit, events,
service accounts and tokens. One view per action; explicit input and output serializers."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from branch_ops import approvals, idempotency, webhooks
from branch_ops.access import access_approval, access_branch, staff_profile
from branch_ops.audit import audit_chain_verify
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
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = "-id"


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


class StaffListApi(APIView):
    required_perm = Perm.VIEW_STAFF

    class StaffMemberOutput(serializers.Serializer):
        username = serializers.CharField(source="user.username")
        full_name = serializers.CharField(source="user.get_full_name")
        role = serializers.CharField()
        kind = serializers.CharField()
        active = serializers.BooleanField(source="user.is_active")

    @extend_schema(responses=StaffMemberOutput(many=True), summary="Staff of your branch")
    def get(self, request):
        profile = staff_profile(request.user)
        qs = StaffProfile.objects.select_related("user").filter(branch=profile.branch).order_by("user__username")
        return Response(self.StaffMemberOutput(qs, many=True).data)


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


class ApprovalListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=[s.value for s in Approval.Status]),
                    OpenApiParameter("kind", str)],
        responses=ApprovalOutput(many=True),
        summary="Approvals of your branch (deciders see all; others their own requests)",
    )
    def get(self, request):
        profile = staff_profile(request.user)
        qs = Approval.objects.select_related("branch", "requested_by", "decided_by").filter(branch=profile.branch)
        if not (profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)):
            qs = qs.filter(requested_by=request.user)
        if status := request.query_params.get("status"):
            qs = qs.filter(status=status)
        if kind := request.query_params.get("kind"):
            qs = qs.filter(kind=kind)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ApprovalOutput(page, many=True).data)


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


class AuditEventListApi(APIView):
    required_perm = Perm.VIEW_AUDIT

    @extend_schema(
        parameters=[OpenApiParameter("action", str), OpenApiParameter("actor", str),
                    OpenApiParameter("object_id", str), OpenApiParameter("customer", str)],
        responses=AuditEventOutput(many=True), summary="Your branch's audit trail, newest first",
    )
    def get(self, request):
        profile = staff_profile(request.user)
        qs = AuditEvent.objects.select_related("actor").filter(branch=profile.branch)
        params = request.query_params
        if params.get("action"):
            qs = qs.filter(action__startswith=params["action"])
        if params.get("actor"):
            qs = qs.filter(actor__username=params["actor"])
        if params.get("object_id"):
            qs = qs.filter(object_id=params["object_id"])
        if params.get("customer"):
            qs = qs.filter(customer_ref=params["customer"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AuditEventOutput(page, many=True).data)


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


class ServiceAccountListCreateApi(APIView):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    permission_classes = [IsActiveStaff, RecentAuthentication]

    class ServiceAccountCreateInput(serializers.Serializer):
        username = serializers.CharField(max_length=61)
        role = serializers.ChoiceField(choices=[r.value for r in Role])
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)

    @extend_schema(responses=ServiceAccountOutput(many=True), summary="Service accounts of your branch")
    def get(self, request):
        profile = staff_profile(request.user)
        qs = StaffProfile.objects.select_related("user", "branch").filter(
            branch=profile.branch, kind=StaffProfile.Kind.SERVICE).order_by("user__username")
        return Response(ServiceAccountOutput(qs, many=True).data)

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


class TokenListIssueApi(APIView):
    required_perm = Perm.MANAGE_SERVICE_ACCOUNTS
    permission_classes = [IsActiveStaff, RecentAuthentication]

    class TokenIssueInput(serializers.Serializer):
        service_account = serializers.CharField(max_length=61)
        name = serializers.CharField(max_length=80)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        rate_limit = serializers.CharField(required=False, allow_blank=True, default="", max_length=20,
                                           help_text='requests per period, e.g. "120/min"; blank: the default')

    @extend_schema(responses=TokenOutput(many=True), summary="API tokens of your branch's service accounts (never the secret)")
    def get(self, request):
        profile = staff_profile(request.user)
        qs = ApiToken.objects.select_related("user").filter(user__staff__branch=profile.branch).order_by("-id")
        return Response(TokenOutput(qs, many=True).data)

    @extend_schema(request=TokenIssueInput, responses={201: inline_serializer("IssuedToken", {
        "token": TokenOutput(), "secret": serializers.CharField()})},
        summary="Issue a token; its secret is in this response only")
    def post(self, request):
        data = self.TokenIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = api_token_issue(actor=request.user, username=data.validated_data["service_account"],
                                     name=data.validated_data["name"],
                                     expires_at=data.validated_data["expires_at"],
                                     rate_limit=data.validated_data["rate_limit"])
        return Response({"token": TokenOutput(token).data, "secret": raw}, status=201)


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
        summary="Rotate a token: a new secret (shown once); the old token stops working at once")
    def post(self, request, token_id):
        token, raw = api_token_rotate(actor=request.user, token_id=token_id)
        return Response({"token": TokenOutput(token).data, "secret": raw, "replaces": str(token.replaces.public_id)},
                        status=201)


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


class WebhookListCreateApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    class WebhookCreateInput(serializers.Serializer):
        url = serializers.CharField(max_length=500)
        event_types = serializers.ListField(child=serializers.CharField(max_length=80), min_length=1)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    @extend_schema(responses=WebhookSubscriptionOutput(many=True), summary="Webhook subscriptions of your branch")
    def get(self, request):
        qs = webhook_subscriptions(branch=staff_profile(request.user).branch)
        return Response(WebhookSubscriptionOutput(qs, many=True).data)

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
        summary="New signing secret; the old one also signs until the grace period ends")
    def post(self, request, subscription_id):
        data = self.RotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, secret = webhooks.webhook_secret_rotate(
            actor=request.user, subscription_id=subscription_id, grace_seconds=data.validated_data["grace_seconds"])
        return Response({"subscription": WebhookSubscriptionOutput(subscription).data, "secret": secret})


class WebhookDeactivateApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(request=None, responses=WebhookSubscriptionOutput, summary="Stop delivering to this subscription")
    def post(self, request, subscription_id):
        return Response(WebhookSubscriptionOutput(webhooks.webhook_subscription_deactivate(
            actor=request.user, subscription_id=subscription_id)).data)


class WebhookDeliveryListApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=["pending", "delivered", "failed"])],
                   responses=WebhookDeliveryOutput(many=True),
                   summary="The delivery log of a subscription, newest first (cursor-paged)")
    def get(self, request, subscription_id):
        subscription = webhooks.access_webhook_subscription(user=request.user, public_id=subscription_id)
        qs = webhook_deliveries(subscription=subscription, status=request.query_params.get("status"))
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class WebhookRedeliverApi(APIView):
    required_perm = Perm.MANAGE_WEBHOOKS

    @extend_schema(request=None, responses=WebhookDeliveryOutput, summary="Send a delivery again")
    def post(self, request, delivery_id):
        delivery = webhooks.webhook_redeliver(actor=request.user, delivery_id=delivery_id)
        return Response(WebhookDeliveryOutput(delivery).data, status=202)
