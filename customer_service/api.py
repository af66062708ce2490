"""Service-desk API (``/api/v1/service-requests/``): the same services as the desk screens."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from branch_ops import idempotency
from branch_ops.api import IDEMPOTENCY_PARAM, IDEMPOTENCY_REQUIRED, CursorListApi, respond
from branch_ops.roles import Perm
from customer_service import selectors, services
from customer_service.models import RequestKind


class TransitionOutput(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField(source="actor.username")
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class RequestOutput(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    customer = serializers.CharField(source="customer.number")
    account = serializers.CharField(source="account.number", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username")
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True, default=None)
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()


class RequestDetailOutput(RequestOutput):
    timeline = TransitionOutput(many=True)


class RequestListCreateApi(CursorListApi):
    required_perm = Perm.CREATE_REQUEST
    serializer_class = RequestOutput
    filterset_class = selectors.RequestFilter
    cursor_ordering = ("due_at", "id")

    class RequestCreateInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=RequestKind.values)
        customer_number = serializers.CharField(
            max_length=20, required=False, allow_blank=True, default="",
            help_text="Empty only for an account opening whose data carries `new_customer`.")
        account_number = serializers.CharField(max_length=34, required=False, allow_blank=True)
        data = serializers.DictField(required=False, default=dict)
        submit = serializers.BooleanField(required=False, default=True)

    def scoped_queryset(self):
        return selectors.request_queue(actor=self.request.user)

    @extend_schema(summary="The branch's request queue, the earliest due first")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=RequestCreateInput, responses={201: RequestOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[
                       OpenApiExample("Block a lost card", request_only=True, value={
                           "kind": "card_block", "customer_number": "C0000101", "account_number": "000100000114",
                           "data": {"card": "<card id>", "reason": "lost"}}),
                       OpenApiExample("Order a cheque book", request_only=True, value={
                           "kind": "cheque_book", "customer_number": "C0000101", "account_number": "000100000114",
                           "data": {"leaves": 25}}),
                       OpenApiExample("Open an account (existing customer, deposit by transfer)", request_only=True,
                                      value={"kind": "account_open", "customer_number": "C0000101", "data": {
                                          "identity_verified": True, "document_seen": "passport P1234567",
                                          "product": "savings", "currency": "AED",
                                          "signature": "<base64 PNG or JPEG; omit to use the one on file>",
                                          "initial_deposit": {"amount": 100000, "source": "transfer",
                                                              "from_account": "000100000114"}}}),
                       OpenApiExample("Open an account for a new customer (cash deposit)", request_only=True,
                                      value={"kind": "account_open", "customer_number": "", "data": {
                                          "new_customer": {"full_name": "سارة الهاشمي", "latin_name": "Sara Al Hashemi",
                                                           "document_type": "passport", "document_number": "X998877",
                                                           "document_country": "AE", "date_of_birth": "1990-04-01"},
                                          "identity_verified": True, "document_seen": "passport X998877",
                                          "product": "current", "currency": "AED", "signature": "<base64 PNG>",
                                          "initial_deposit": {"amount": 50000, "source": "cash"}}}),
                       OpenApiExample("Close an account, moving its balance", request_only=True, value={
                           "kind": "account_close", "customer_number": "C0000101", "account_number": "000100000114",
                           "data": {"transfer_to": "000100000122", "reason": "moving abroad"}})],
                   summary="Take a request (submitted at once unless submit=false)")
    def post(self, request):
        data = self.RequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope="service_request.create", data=request.data, required=True,
            perform=lambda claim: services.request_create(
                actor=request.user, kind=v["kind"], customer_number=v["customer_number"],
                account_number=v.get("account_number") or None, data=v["data"], submit=v["submit"],
                idempotency_claim=claim),
            render=lambda sr: (201, RequestOutput(sr).data),
        )
        return respond(outcome)


class RequestDetailApi(APIView):
    required_perm = Perm.CREATE_REQUEST

    @extend_schema(responses=RequestDetailOutput, summary="One request with its timeline")
    def get(self, request, number: str):
        return Response(RequestDetailOutput(selectors.request_detail(actor=request.user, number=number)).data)


class RequestActionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    data = serializers.DictField(required=False, default=dict)
    document = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)


class RequestActionApi(APIView):
    """``submit``, ``claim``, ``start``, ``fulfil``, ``cancel``, ``advance-cheque-book``."""

    required_perm = Perm.CREATE_REQUEST
    action = ""

    def post(self, request, number: str):
        data = RequestActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        v, user = data.validated_data, request.user
        if self.action == "fulfil":  # it may move money (a closing, an initial deposit) or issue a card
            outcome = idempotency.run_idempotent(
                request, scope=f"service_request.fulfil:{number}", data=request.data, required=False,
                perform=lambda claim: services.request_fulfil(actor=user, number=number, note=v["note"],
                                                              data=v["data"], idempotency_claim=claim),
                render=lambda sr: (200, RequestDetailOutput(selectors.request_detail(actor=user, number=number)).data))
            return respond(outcome)
        if self.action == "submit":
            services.request_submit(actor=user, number=number)
        elif self.action == "claim":
            services.request_claim(actor=user, number=number)
        elif self.action == "start":
            services.request_start(actor=user, number=number)
        elif self.action == "fulfil":
            services.request_fulfil(actor=user, number=number, note=v["note"], data=v["data"])
        elif self.action == "cancel":
            services.request_cancel(actor=user, number=number, reason=v["reason"])
        elif self.action == "advance-cheque-book":
            services.cheque_book_advance(actor=user, number=number, document=v["document"])
        return Response(RequestDetailOutput(selectors.request_detail(actor=user, number=number)).data)


REQUEST_ACTION_SUMMARIES = {
    "submit": "Submit a draft request", "claim": "Take a request from the queue (it becomes yours)",
    "start": "Start working on your request",
    "fulfil": "Complete your request (a closing moves the balance and closes the account; a card is issued)",
    "cancel": "Cancel a request, with a reason",
    "advance-cheque-book": "Move a cheque book on (ordered, printed, delivered: the request completes)",
}


def action_view(name: str):
    def post(self, request, number: str):
        return RequestActionApi.post(self, request, number)

    post = extend_schema(request=RequestActionInput, responses=RequestDetailOutput,
                         parameters=[IDEMPOTENCY_PARAM] if name == "fulfil" else [],
                         summary=REQUEST_ACTION_SUMMARIES[name])(post)
    return type(f"Request{name.title().replace('-', '')}Api", (RequestActionApi,),
                {"action": name, "post": post}).as_view()


class StatementCsvApi(APIView):
    required_perm = Perm.CREATE_REQUEST

    @extend_schema(responses={(200, "text/csv"): str}, summary="The statement a statement request asked for, as CSV")
    def get(self, request, number: str):
        from django.http import HttpResponse

        filename, text = selectors.statement_csv(actor=request.user, number=number)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class StatementPdfApi(APIView):
    required_perm = Perm.CREATE_REQUEST

    @extend_schema(responses={(200, "application/pdf"): bytes},
                   summary="The statement a statement request asked for, as PDF (Arabic and Chinese shaped)")
    def get(self, request, number: str):
        from django.http import HttpResponse

        from customer_service.statement_pdf import statement_pdf

        statement = selectors.request_statement(actor=request.user, number=number)
        response = HttpResponse(statement_pdf(statement, locale=request.LANGUAGE_CODE), content_type="application/pdf")
        response["Content-Disposition"] = (f'attachment; filename="statement-{statement.account.number}-'
                                           f'{statement.start}-{statement.end}.pdf"')
        return response


class OfferOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    pitch = serializers.CharField()


class OfferOutcomeOutput(serializers.Serializer):
    customer = serializers.CharField(source="customer.number")
    offer = serializers.CharField(source="offer.code")
    outcome = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")


class CustomerOffersApi(APIView):
    required_perm = Perm.CREATE_REQUEST

    class OfferOutcomeInput(serializers.Serializer):
        offer = serializers.CharField(max_length=40)
        outcome = serializers.ChoiceField(choices=["offered", "accepted", "declined"])

    @extend_schema(responses=OfferOutput(many=True), summary="Offers that fit what the customer does not yet have")
    def get(self, request, number: str):
        from django.utils.translation import gettext as _

        from accounts.models import Customer
        from branch_ops.errors import NotFound

        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND")
        return Response(OfferOutput(selectors.eligible_offers(actor=request.user, customer=customer), many=True).data)

    @extend_schema(request=OfferOutcomeInput, responses={201: OfferOutcomeOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Accepted", request_only=True,
                                            value={"offer": "savings_plus", "outcome": "accepted"})],
                   summary="Record an offer's outcome")
    def post(self, request, number: str):
        data = self.OfferOutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope=f"offer.record:{number}", data=data.validated_data, required=False,
            perform=lambda claim: services.offer_record(
                actor=request.user, customer_number=number, offer_code=data.validated_data["offer"],
                outcome=data.validated_data["outcome"], idempotency_claim=claim),
            render=lambda record: (201, OfferOutcomeOutput(record).data))
        return respond(outcome)
