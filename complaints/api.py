"""Complaints API (``/api/v1/complaints/``): the same services as the screens."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import MoneySerializer
from branch_ops import idempotency
from branch_ops.api import IDEMPOTENCY_PARAM, IDEMPOTENCY_REQUIRED, CursorListApi, respond
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError
from branch_ops.roles import Perm
from complaints import selectors, services
from complaints.models import Complaint


class DeadlineOutput(serializers.Serializer):
    kind = serializers.CharField()
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    colour = serializers.SerializerMethodField()

    def get_colour(self, deadline) -> str:
        return services.clock_colour(deadline, deadline.complaint.regime)


class ComplaintOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    complainant_name = serializers.CharField()
    customer = serializers.CharField(source="customer.number", allow_null=True, default=None)
    channel = serializers.CharField()
    category = serializers.CharField(source="category.code")
    regime = serializers.CharField(source="regime.code")
    owner = serializers.CharField(source="owner.username")
    received_at = serializers.DateTimeField()
    amount_disputed = serializers.IntegerField()
    currency = serializers.CharField(source="currency_id", allow_null=True)
    escalated = serializers.BooleanField()
    extended = serializers.BooleanField()
    decision = serializers.CharField()
    redress_paid = serializers.IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    satisfaction = serializers.IntegerField(allow_null=True)
    deadlines = DeadlineOutput(many=True)


class ComplaintListCreateApi(CursorListApi):
    required_perm = Perm.LOG_COMPLAINT
    serializer_class = ComplaintOutput
    filterset_class = selectors.ComplaintFilter
    cursor_ordering = ("received_at", "id")

    class ComplaintInput(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Complaint.Channel.values)
        category = serializers.CharField(max_length=40)
        description = serializers.CharField()
        customer_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
        complainant_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        complainant_contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        account_number = serializers.CharField(max_length=34, required=False, allow_blank=True, default="")
        transaction_ref = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        amount_disputed = MoneySerializer(required=False)

    def scoped_queryset(self):
        return selectors.complaint_queue(actor=self.request.user)

    @extend_schema(summary="Complaints of the branch, oldest first (a supervisor sees all, others their own)")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=ComplaintInput, responses={201: ComplaintOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[OpenApiExample("Charged twice", request_only=True, value={
                       "channel": "branch", "category": "accounts.charges", "description": "Charged twice",
                       "customer_number": "C0000101", "account_number": "000100000114",
                       "amount_disputed": {"amount": 1000, "currency": "AED"}})],
                   summary="Log a complaint (its receiver owns it)")
    def post(self, request):
        data = self.ComplaintInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="complaint.log", data=request.data, required=True,
            perform=lambda claim: services.complaint_log(actor=request.user, idempotency_claim=claim,
                                                         **data.validated_data),
            render=lambda c: (201, ComplaintOutput(c).data))
        return respond(outcome)


class ComplaintDetailApi(APIView):
    required_perm = Perm.LOG_COMPLAINT

    @extend_schema(responses=ComplaintOutput, summary="One complaint with its clocks")
    def get(self, request, number: str):
        return Response(ComplaintOutput(selectors.complaint_detail(actor=request.user, number=number)).data)


class LetterOutput(serializers.Serializer):
    complaint = serializers.CharField()
    language = serializers.CharField()
    text = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True, help_text="when it was sent (acknowledged); null: a preview")


class ComplaintLetterApi(APIView):
    required_perm = Perm.LOG_COMPLAINT

    @extend_schema(responses=LetterOutput,
                   summary="The acknowledgement letter: as sent, or as it would be sent now (the letter screen)")
    def get(self, request, number: str):
        complaint = selectors.complaint_detail(actor=request.user, number=number)
        letter = selectors.complaint_letter(complaint)
        return Response(LetterOutput(letter).data)


class ComplaintActionInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    to = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.CharField(required=False, allow_blank=True, default="")
    final_response = serializers.CharField(required=False, allow_blank=True, default="")
    satisfaction = serializers.IntegerField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    amount = MoneySerializer(required=False)
    transaction_ref = serializers.CharField(required=False, allow_blank=True, default="")


class ComplaintActionApi(APIView):
    required_perm = Perm.LOG_COMPLAINT
    action = ""

    def post(self, request, number: str):
        data = ComplaintActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        v, u = data.validated_data, request.user
        if self.action == "redress" and v.get("amount") is None:
            raise ApplicationError(_("Give the amount."), code="AMOUNT_REQUIRED", field="amount")
        if self.action in IDEMPOTENT_ACTIONS:  # a note is a new entry; redress moves money
            outcome = idempotency.run_idempotent(
                request, scope=f"complaint.{self.action}:{number}", data=request.data, required=False,
                perform=lambda claim: (
                    services.complaint_note(actor=u, number=number, text=v["text"],
                                            transaction_ref=v["transaction_ref"], idempotency_claim=claim)
                    if self.action == "note" else
                    services.complaint_redress(actor=u, number=number, amount=v["amount"], reason=v["reason"],
                                               idempotency_claim=claim)),
                render=lambda c: (200, ComplaintOutput(selectors.complaint_detail(actor=u, number=number)).data))
            return respond(outcome)
        calls = {
            "acknowledge": lambda: services.complaint_acknowledge(actor=u, number=number),
            "handover": lambda: services.complaint_handover(actor=u, number=number, to_username=v["to"],
                                                            reason=v["reason"]),
            "escalate": lambda: services.complaint_escalate(actor=u, number=number, reason=v["reason"]),
            "extend": lambda: services.complaint_extend(actor=u, number=number, reason=v["reason"]),
            "decide": lambda: services.complaint_decide(actor=u, number=number, decision=v["decision"],
                                                        reason=v["reason"]),
            "close": lambda: services.complaint_close(actor=u, number=number, final_response=v["final_response"]),
            "follow-up": lambda: services.complaint_follow_up(actor=u, number=number,
                                                              satisfaction=v.get("satisfaction"),
                                                              comment=v["comment"]),
            "reopen": lambda: services.complaint_reopen(actor=u, number=number, reason=v["reason"]),
        }
        calls[self.action]()
        return Response(ComplaintOutput(selectors.complaint_detail(actor=u, number=number)).data)


ACTIONS = ("acknowledge", "handover", "note", "escalate", "extend", "decide", "redress", "close", "follow-up",
           "reopen")


IDEMPOTENT_ACTIONS = ("note", "redress")
ACTION_SUMMARIES = {
    "acknowledge": "Acknowledge the complaint (its acknowledgement clock stops)",
    "handover": "Hand the complaint to a colleague (to: username, reason)",
    "note": "Add a note to the investigation (text, optionally transaction_ref)",
    "escalate": "Escalate (reason)", "extend": "Extend the deadline where the regime allows it (reason)",
    "decide": "Decide: upheld, partly or rejected (decision, reason)",
    "redress": "Pay redress into the complainant's account (amount, reason); over the threshold it waits for a "
               "supervisor (202-like: the complaint shows the pending approval)",
    "close": "Close with the final response (final_response)",
    "follow-up": "Record the customer's satisfaction after closing (satisfaction 1..5, comment)",
    "reopen": "Reopen a recently closed complaint (reason)",
}
ACTION_EXAMPLES = {
    "note": {"text": "Called the customer; statement sent.", "transaction_ref": ""},
    "redress": {"amount": {"amount": 1000, "currency": "AED"}, "reason": "fee refunded"},
    "decide": {"decision": "upheld", "reason": "charged twice"},
    "close": {"final_response": "We refunded the fee."},
}


def action_view(name: str):
    def post(self, request, number: str):
        return ComplaintActionApi.post(self, request, number)

    examples = ([OpenApiExample(name, request_only=True, value=ACTION_EXAMPLES[name])]
                if name in ACTION_EXAMPLES else [])
    post = extend_schema(request=ComplaintActionInput, responses=ComplaintOutput, summary=ACTION_SUMMARIES[name],
                         parameters=[IDEMPOTENCY_PARAM] if name in IDEMPOTENT_ACTIONS else [],
                         examples=examples)(post)
    return type(f"Complaint{name.title().replace('-', '')}Api", (ComplaintActionApi,),
                {"action": name, "post": post}).as_view()


class ComplaintReportOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    received = serializers.IntegerField()
    closed = serializers.IntegerField()
    upheld = serializers.IntegerField()
    upheld_rate = serializers.FloatField(allow_null=True, help_text="upheld / closed, 0..1 (a ratio, not money)")
    median_days_to_close = serializers.FloatField(allow_null=True)
    p90_days_to_close = serializers.FloatField(allow_null=True)
    breaches = serializers.IntegerField()
    redress_paid = serializers.IntegerField(help_text="minor units of the branch currency")
    by_category = serializers.DictField(child=serializers.DictField())
    by_staff = serializers.DictField(child=serializers.DictField())


class ComplaintReportApi(APIView):
    required_perm = Perm.VIEW_REPORTS

    @extend_schema(parameters=[OpenApiParameter("start", dt.date, description="YYYY-MM-DD, 30 days ago if omitted"),
                               OpenApiParameter("end", dt.date, description="YYYY-MM-DD, today if omitted; not "
                                                                            "before start (400 INVALID_PERIOD)"),
                               OpenApiParameter("download", str, enum=["csv"], description="csv: a file instead of JSON")],
                   responses={(200, "application/json"): ComplaintReportOutput, (200, "text/csv"): OpenApiTypes.STR},
                   summary="Complaint figures of the branch for a period")
    def get(self, request):
        profile = getattr(request.user, "staff", None)
        today = branch_day(profile.branch) if profile is not None else timezone.localdate()
        dates = {}
        for name, default in (("start", today - dt.timedelta(days=30)), ("end", today)):
            try:
                dates[name] = dt.date.fromisoformat(request.query_params.get(name) or str(default))
            except ValueError:
                raise ApplicationError(_("Give dates as YYYY-MM-DD."), code="INVALID_DATE", field=name) from None
        start, end = dates["start"], dates["end"]
        if start > end:
            raise ApplicationError(_("The period ends before it starts."), code="INVALID_PERIOD", field="end")
        report = selectors.complaint_report(actor=request.user, start=start, end=end)
        if request.query_params.get("download") == "csv":
            response = HttpResponse(selectors.complaint_report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="complaints-{start}-{end}.csv"'
            return response
        return Response(ComplaintReportOutput(vars(report)).data)
