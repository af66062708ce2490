"""The floor's API: the inbox and a decision, the branch board, the audit search (+ CSV)
and the daily report (+ CSV). The same selectors and services as the screens."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from branch_ops import approvals, idempotency
from branch_ops.api import (
    IDEMPOTENCY_PARAM,
    ApprovalOutput,
    AuditEventOutput,
    CursorListApi,
    filtered_queryset,
    render_approval,
    respond,
)
from branch_ops.floor.audit_search import AuditEventFilter, audit_csv_rows, audit_search
from branch_ops.floor.board import branch_board
from branch_ops.floor.inbox import approval_inbox
from branch_ops.floor.report import daily_report, daily_report_csv
from branch_ops.roles import Perm

BRANCH_PARAM = OpenApiParameter(
    "branch", str, description="Branch code. Your own branch if omitted; another branch only for a head-office "
                               "reader (settings FLOOR_HEAD_OFFICE_USERNAMES), else 404 BRANCH_NOT_FOUND.")


# --- inbox -------------------------------------------------------------------------------------------

class FactOutput(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class HistoryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()


class CustomerRefOutput(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()


class ContextOutput(serializers.Serializer):
    customer = CustomerRefOutput(allow_null=True)
    facts = FactOutput(many=True)
    history = HistoryOutput(many=True)
    link = serializers.CharField()


class InboxItemOutput(serializers.Serializer):
    approval = ApprovalOutput()
    kind_label = serializers.CharField()
    context = ContextOutput()


class VaultTransferWaitingOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    drawer = serializers.CharField(source="session.drawer.code")
    direction = serializers.CharField()
    currency = serializers.CharField(source="currency_id")
    amount = serializers.IntegerField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()


class InboxOutput(serializers.Serializer):
    total = serializers.IntegerField()
    items = InboxItemOutput(many=True)
    vault_transfers = VaultTransferWaitingOutput(many=True)


class InboxApi(APIView):
    @extend_schema(responses=InboxOutput, summary="What waits for your decision, oldest first, with its context")
    def get(self, request):
        return Response(InboxOutput(approval_inbox(actor=request.user)).data)


class DecideInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class InboxDecideApi(APIView):
    @extend_schema(request=DecideInput, responses=ApprovalOutput, parameters=[IDEMPOTENCY_PARAM],
                   summary="Approve or reject an item of your inbox (a rejection needs a reason)")
    def post(self, request, approval_id):
        data = DecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        approve = data.validated_data["decision"] == "approve"
        outcome = idempotency.run_idempotent(
            request, scope=f"approval.decide:{approval_id}:{approve}", data=data.validated_data, required=False,
            perform=lambda claim: approvals.approval_decide(
                approval_id=approval_id, actor=request.user, approve=approve,
                reason=data.validated_data["reason"], idempotency_claim=claim),
            render=render_approval,
        )
        return respond(outcome)


# --- board -------------------------------------------------------------------------------------------

class CashLineOutput(serializers.Serializer):
    currency = serializers.CharField()
    cash = serializers.IntegerField(help_text="minor units")
    limit = serializers.IntegerField(allow_null=True, help_text="the drawer limit, minor units")
    over = serializers.BooleanField()


class DrawerOutput(serializers.Serializer):
    code = serializers.CharField()
    teller = serializers.CharField()
    status = serializers.CharField(help_text="open, closed, signed_off, or empty when never opened")
    business_date = serializers.DateField(allow_null=True)
    cash = CashLineOutput(many=True)
    over_limit = serializers.BooleanField()


class VaultLineOutput(serializers.Serializer):
    currency = serializers.CharField()
    cash = serializers.IntegerField()


class RequestKindOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    ages = serializers.ListField(child=serializers.IntegerField())


class RequestsOutput(serializers.Serializer):
    kinds = RequestKindOutput(many=True)
    age_labels = serializers.ListField(child=serializers.CharField())
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()


class ClockCountsOutput(serializers.Serializer):
    red = serializers.IntegerField()
    amber = serializers.IntegerField()
    green = serializers.IntegerField()


class NearestOutput(serializers.Serializer):
    number = serializers.CharField()
    colour = serializers.CharField()
    due_at = serializers.DateTimeField()
    clock = serializers.CharField()


class ComplaintsOutput(serializers.Serializer):
    counts = ClockCountsOutput()
    total = serializers.IntegerField()
    nearest = NearestOutput(many=True)


class VarianceOutput(serializers.Serializer):
    drawer = serializers.CharField()
    teller = serializers.CharField()
    currency = serializers.CharField()
    variance = serializers.IntegerField()


class AlertsOutput(serializers.Serializer):
    structuring = serializers.IntegerField(help_text="structuring alerts not yet reviewed")
    large_cash = serializers.IntegerField(help_text="large-cash reports of today")
    over_limit = serializers.SerializerMethodField()
    variances = VarianceOutput(many=True)
    total = serializers.IntegerField()

    def get_over_limit(self, obj) -> list[str]:
        return [d.code for d in obj["over_limit"]]


class BoardOutput(serializers.Serializer):
    branch = serializers.CharField(source="branch.code")
    now = serializers.DateTimeField()
    business_date = serializers.DateField()
    drawers = DrawerOutput(many=True)
    vault = VaultLineOutput(many=True)
    requests = RequestsOutput()
    complaints = ComplaintsOutput()
    alerts = AlertsOutput()
    approvals_waiting = serializers.IntegerField()
    lobby = serializers.JSONField(allow_null=True, help_text="the lobby queue: lobby_summary() per service and in total")


class BoardApi(APIView):
    required_perm = Perm.VIEW_BRANCH_QUEUES

    @extend_schema(parameters=[BRANCH_PARAM], responses=BoardOutput, summary="The branch board")
    def get(self, request):
        return Response(BoardOutput(branch_board(actor=request.user,
                                                 branch_code=request.query_params.get("branch"))).data)


# --- audit -------------------------------------------------------------------------------------------

AUDIT_PARAMS = [
    OpenApiParameter("actor", str, description="username"),
    OpenApiParameter("action", str, description="action prefix, e.g. approval."),
    OpenApiParameter("object_type", str), OpenApiParameter("object_id", str),
    OpenApiParameter("customer", str, description="customer number"),
    OpenApiParameter("since", OpenApiTypes.DATETIME), OpenApiParameter("until", OpenApiTypes.DATETIME),
]


def _filtered(request):
    return filtered_queryset(audit_search(actor=request.user, params=request.query_params))


class AuditSearchApi(CursorListApi):
    required_perm = Perm.VIEW_AUDIT
    filterset_class = AuditEventFilter
    serializer_class = AuditEventOutput

    def scoped_queryset(self):
        return audit_search(actor=self.request.user).queryset

    @extend_schema(summary="Search your branch's audit trail, newest first")
    def get(self, request):
        return super().get(request)


class AuditSearchCsvApi(APIView):
    required_perm = Perm.VIEW_AUDIT

    @extend_schema(parameters=AUDIT_PARAMS, responses={(200, "text/csv"): OpenApiTypes.STR},
                   summary="The same search as CSV (streamed)")
    def get(self, request):
        response = StreamingHttpResponse(audit_csv_rows(_filtered(request)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response


# --- report ------------------------------------------------------------------------------------------

class ReportCashOutput(serializers.Serializer):
    currency = serializers.CharField()
    vault = serializers.IntegerField()
    drawers = serializers.IntegerField()
    total = serializers.IntegerField()


class ReportOperationOutput(serializers.Serializer):
    teller = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.IntegerField()


class ReportTotalOutput(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.IntegerField()


class ReportVarianceOutput(serializers.Serializer):
    drawer = serializers.CharField()
    teller = serializers.CharField()
    currency = serializers.CharField()
    variance = serializers.IntegerField()
    status = serializers.CharField()


class ReportLargeCashOutput(serializers.Serializer):
    reference = serializers.CharField(source="operation.reference")
    customer = serializers.CharField(source="customer.number", allow_null=True, default=None)
    person_name = serializers.CharField()
    amount_branch_currency = serializers.IntegerField()


class ReportStructuringOutput(serializers.Serializer):
    customer = serializers.CharField(source="customer.number")
    total_branch_currency = serializers.IntegerField()


class ReportRequestsOutput(serializers.Serializer):
    opened = serializers.IntegerField()
    fulfilled = serializers.IntegerField()
    overdue = serializers.IntegerField()


class ReportComplaintsOutput(serializers.Serializer):
    opened = serializers.IntegerField()
    closed = serializers.IntegerField()
    breached = serializers.IntegerField()


class ReportOutput(serializers.Serializer):
    branch = serializers.CharField(source="branch.code")
    day = serializers.DateField()
    cash = ReportCashOutput(many=True)
    operations = ReportOperationOutput(many=True)
    totals = ReportTotalOutput(many=True)
    variances = ReportVarianceOutput(many=True)
    large_cash = ReportLargeCashOutput(many=True)
    structuring = ReportStructuringOutput(many=True)
    requests = ReportRequestsOutput()
    complaints = ReportComplaintsOutput()
    queue = serializers.JSONField(allow_null=True, help_text="the lobby queue of the day: lobby_day_stats()")


REPORT_PARAMS = [OpenApiParameter("day", dt.date, description="YYYY-MM-DD, today if omitted; a future day is "
                                                               "400 REPORT_DAY_IN_FUTURE"), BRANCH_PARAM]


class ReportApi(APIView):
    required_perm = Perm.VIEW_REPORTS

    @extend_schema(parameters=REPORT_PARAMS, responses=ReportOutput, summary="The daily branch report")
    def get(self, request):
        found = daily_report(actor=request.user, day=request.query_params.get("day"),
                             branch_code=request.query_params.get("branch"))
        return Response(ReportOutput(found).data)


class ReportCsvApi(APIView):
    required_perm = Perm.VIEW_REPORTS

    @extend_schema(parameters=REPORT_PARAMS, responses={(200, "text/csv"): OpenApiTypes.STR},
                   summary="The daily branch report as CSV")
    def get(self, request):
        found = daily_report(actor=request.user, day=request.query_params.get("day"),
                             branch_code=request.query_params.get("branch"))
        response = HttpResponse(daily_report_csv(found), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="branch-{found.branch.code}-{found.day}.csv"'
        return response


