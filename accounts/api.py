"""Accounts API (``/api/v1/customers/``, ``/api/v1/accounts/``, ``/api/v1/transfers/``).

Amounts are ``{"amount": <integer minor units>, "currency": "<ISO 4217>"}``: 1,234.56 AED
is ``{"amount": 123456, "currency": "AED"}``. Never a float."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import BankAccount, Customer
from branch_ops import idempotency
from branch_ops.api import IDEMPOTENCY_PARAM, IDEMPOTENCY_REQUIRED, ApprovalOutput, respond
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from branch_ops.roles import Perm


@extend_schema_field(OpenApiTypes.INT64)
class MinorUnitsField(serializers.Field):
    """A JSON integer of minor units; strings, floats and booleans are refused."""

    default_error_messages = {"invalid": "Give the amount as a whole number of minor units (e.g. 1050 for 10.50)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class MoneySerializer(serializers.Serializer):
    amount = MinorUnitsField(help_text="integer minor units (cents, fils, yen)")
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217 code")

    def validate(self, attrs):
        from branch_ops.money import MoneyError

        try:
            return Money(attrs["amount"], attrs["currency"])
        except MoneyError as exc:
            raise serializers.ValidationError({"currency": exc.message}) from None


def money_out(value: int, currency: str) -> dict:
    return {"amount": value, "currency": currency, "formatted": Money(value, currency).format(get_language() or "en")}


class MoneyOutput(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    formatted = serializers.CharField()


# --- customers -------------------------------------------------------------------------------------

class CustomerOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    number = serializers.CharField()
    full_name = serializers.CharField()
    latin_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    document_type = serializers.CharField()
    document_number = serializers.CharField()
    document_country = serializers.CharField()
    document_expiry = serializers.DateField(allow_null=True)
    address = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    preferred_language = serializers.CharField()
    risk_rating = serializers.CharField()
    politically_exposed = serializers.BooleanField()
    status = serializers.CharField()
    home_branch = serializers.CharField(source="home_branch.code")


class CustomerInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    latin_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    document_type = serializers.ChoiceField(choices=Customer.DocumentType.values, required=False, allow_blank=True)
    document_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    document_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    document_expiry = serializers.DateField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=10, required=False)
    risk_rating = serializers.ChoiceField(choices=Customer.Risk.values, required=False)
    politically_exposed = serializers.BooleanField(required=False)


CUSTOMER_EXAMPLE = OpenApiExample("A customer verified at the desk", request_only=True, value={
    "full_name": "فاطمة الزهراء", "latin_name": "Fatima Al Zahra", "date_of_birth": "1988-04-12",
    "document_type": "passport", "document_number": "P1234567", "document_country": "AE",
    "document_expiry": "2030-01-31", "phone": "+971501234567", "email": "fatima@example.com",
    "preferred_language": "ar",
})


class CustomerListCreateApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER
    required_perms_by_method = {"POST": Perm.MANAGE_CUSTOMER}

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True,
                                                description="name (any script, typo-tolerant), customer number, "
                                                            "account number, document number or phone")],
                   responses=CustomerOutput(many=True), summary="Search customers")
    def get(self, request):
        found = selectors.customer_search(actor=request.user, query=request.query_params.get("q", ""))
        return Response(CustomerOutput(found, many=True).data)

    @extend_schema(request=CustomerInput, responses={201: CustomerOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[CUSTOMER_EXAMPLE], summary="Register a customer")
    def post(self, request):
        data = CustomerInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="customer.create", data=data.validated_data, required=True,
            perform=lambda claim: services.customer_create(actor=request.user, data=data.validated_data,
                                                           idempotency_claim=claim),
            render=lambda customer: (201, CustomerOutput(customer).data),
        )
        return respond(outcome)


class AccountSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    product = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()
    balance = MoneyOutput()
    available = MoneyOutput()


class CustomerGlanceOutput(serializers.Serializer):
    customer = CustomerOutput()
    accounts = AccountSummaryOutput(many=True)


class CustomerDetailApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER
    required_perms_by_method = {"PATCH": Perm.MANAGE_CUSTOMER}

    @extend_schema(responses=CustomerGlanceOutput, summary="Customer at a glance (the look is audited)")
    def get(self, request, number: str):
        glance = selectors.customer_at_a_glance(actor=request.user, number=number)
        return Response({
            "customer": CustomerOutput(glance.customer).data,
            "accounts": [{
                "number": line.account.number, "product": line.account.product, "currency": line.account.currency_id,
                "status": line.account.status,
                "balance": money_out(line.balance.amount, line.balance.currency),
                "available": money_out(line.available.amount, line.available.currency),
            } for line in glance.accounts],
        })

    @extend_schema(request=CustomerInput(partial=True), responses=CustomerOutput,
                   summary="Update a customer's details (before/after audited)")
    def patch(self, request, number: str):
        data = CustomerInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(actor=request.user, number=number, data=data.validated_data)
        return Response(CustomerOutput(customer).data)


class SignatureOutput(serializers.Serializer):
    customer = serializers.CharField(source="customer.number")
    content_type = serializers.ChoiceField(choices=["image/png", "image/jpeg"])
    size = serializers.SerializerMethodField(help_text="bytes")
    captured_by = serializers.CharField(source="captured_by.username")

    def get_size(self, signature) -> int:
        return len(bytes(signature.image))


class CustomerSignatureApi(APIView):
    """The specimen signature: GET the image in force (the look is audited), POST a new one
    (base64 PNG or JPEG, at most 200 KB), the same service as the customer page's upload."""

    required_perm = Perm.VIEW_CUSTOMER
    required_perms_by_method = {"POST": Perm.MANAGE_CUSTOMER}

    class SignatureInput(serializers.Serializer):
        image = serializers.CharField(help_text="the PNG or JPEG image, base64-encoded (at most 200 KB decoded)",
                                      max_length=300_000)

        def validate_image(self, value):
            import base64
            import binascii

            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise serializers.ValidationError(_("Give the image base64-encoded.")) from None

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, (200, "image/jpeg"): OpenApiTypes.BINARY},
                   summary="The customer's specimen signature in force (404 NO_SIGNATURE when none)")
    def get(self, request, number: str):
        from django.http import HttpResponse

        from branch_ops.errors import NotFound

        signature = selectors.specimen_signature(actor=request.user, customer_number=number)
        if signature is None:
            raise NotFound(_("No specimen signature on file."), code="NO_SIGNATURE")
        response = HttpResponse(bytes(signature.image), content_type=signature.content_type)
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(request=SignatureInput, responses={201: SignatureOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("A PNG", request_only=True, value={"image": "iVBORw0KGgo...<base64>"})],
                   summary="Keep a new specimen signature for the customer (PNG or JPEG, 200 KB at most)")
    def post(self, request, number: str):
        data = self.SignatureInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = data.validated_data["image"]
        if len(image) > services.SIGNATURE_MAX_BYTES:
            raise ApplicationError(_("The image is too large (200 KB at most)."), code="INVALID_IMAGE", field="image")
        outcome = idempotency.run_idempotent(
            request, scope=f"customer.signature:{number}", data=request.data, required=False,
            perform=lambda claim: services.specimen_signature_capture(actor=request.user, customer_number=number,
                                                                      image=image, idempotency_claim=claim),
            render=lambda signature: (201, SignatureOutput(signature).data))
        return respond(outcome)


# --- accounts -------------------------------------------------------------------------------------

class AccountOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    number = serializers.CharField()
    customer = serializers.CharField(source="customer.number")
    customer_name = serializers.CharField(source="customer.full_name")
    product = serializers.CharField()
    currency = serializers.CharField(source="currency_id")
    branch = serializers.CharField(source="branch.code")
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()


class BalanceOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    balance = MoneyOutput()
    available = MoneyOutput()
    holds = MoneyOutput()
    overdraft_limit = MoneyOutput()
    version = serializers.IntegerField()


def _balance(account: BankAccount) -> dict:
    ledger, cur = account.ledger, account.currency_id
    return {
        "number": account.number, "status": account.status,
        "balance": money_out(ledger.balance, cur), "available": money_out(ledger.available, cur),
        "holds": money_out(ledger.pending_debits, cur), "overdraft_limit": money_out(ledger.overdraft_limit, cur),
        "version": ledger.version,
    }


class AccountOpenRequestApi(APIView):
    required_perm = Perm.MANAGE_CUSTOMER

    class AccountOpenRequestInput(serializers.Serializer):
        customer_number = serializers.CharField(max_length=20)
        product = serializers.ChoiceField(choices=BankAccount.Product.values)
        currency = serializers.CharField(max_length=3, min_length=3)
        overdraft_limit = MoneySerializer(required=False)
        joint_holders = serializers.ListField(child=serializers.CharField(max_length=20), required=False,
                                             max_length=4)
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(request=AccountOpenRequestInput, responses={201: AccountOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[OpenApiExample("Current account in AED", request_only=True, value={
                       "customer_number": "C0100001", "product": "current", "currency": "AED",
                       "overdraft_limit": {"amount": 500000, "currency": "AED"}, "reason": "salary account"})],
                   summary="Ask for an account to be opened (pending until a supervisor approves)")
    def post(self, request):
        data = self.AccountOpenRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="account.open_request", data=request.data, required=True,
            perform=lambda claim: services.account_open_request(actor=request.user, idempotency_claim=claim,
                                                                **data.validated_data),
            render=lambda account: (201, AccountOutput(account).data),
        )
        return respond(outcome)


class AccountDetailApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER

    @extend_schema(responses=AccountOutput, summary="One account by its number (check digits validated)")
    def get(self, request, number: str):
        return Response(AccountOutput(selectors.account_detail(actor=request.user, number=number)).data)


class AccountBalanceApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER

    @extend_schema(responses=BalanceOutput, summary="Balance, available balance, holds (O(1))")
    def get(self, request, number: str):
        return Response(_balance(selectors.account_detail(actor=request.user, number=number)))


class StatementOutput(serializers.Serializer):
    class Line(serializers.Serializer):
        posted_at = serializers.DateTimeField()
        description = serializers.CharField()
        kind = serializers.CharField()
        reference = serializers.CharField()
        debit = serializers.IntegerField()
        credit = serializers.IntegerField()
        balance = serializers.IntegerField()

    number = serializers.CharField()
    currency = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    opening_balance = serializers.IntegerField()
    closing_balance = serializers.IntegerField()
    lines = Line(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _date_param(request, name: str, default: dt.date) -> dt.date:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApplicationError(_("Give dates as YYYY-MM-DD."), code="INVALID_DATE", field=name) from None


class AccountStatementApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER

    @extend_schema(parameters=[OpenApiParameter("start", dt.date), OpenApiParameter("end", dt.date),
                               OpenApiParameter("after", str, description="next_cursor of the previous page"),
                               OpenApiParameter("limit", int, description="1..500, default 100")],
                   responses=StatementOutput, summary="Statement: opening balance, lines with running balance, closing")
    def get(self, request, number: str):
        account = selectors.account_detail(actor=request.user, number=number)
        end = _date_param(request, "end", branch_day(account.branch))  # the branch's today, as on the screen
        start = _date_param(request, "start", end - dt.timedelta(days=30))
        try:
            limit = min(max(int(request.query_params.get("limit", 100)), 1), 500)
        except ValueError:
            limit = 100
        st = selectors.account_statement(account=account, start=start, end=end,
                                         after=request.query_params.get("after"), limit=limit)
        return Response({
            "number": account.number, "currency": account.currency_id, "start": st.start, "end": st.end,
            "opening_balance": st.opening_balance, "closing_balance": st.closing_balance,
            "lines": [vars(line) for line in st.lines], "next_cursor": st.next_cursor,
        })


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class _AccountStatusRequestApi(APIView):
    required_perm = Perm.MANAGE_CUSTOMER
    service = None
    scope = ""

    def post(self, request, number: str):
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope=f"{self.scope}:{number}", data=data.validated_data, required=False,
            perform=lambda claim: type(self).service(actor=request.user, number=number,
                                                     reason=data.validated_data["reason"], idempotency_claim=claim),
            render=lambda approval: (201, ApprovalOutput(approval).data))
        return respond(outcome)


STATUS_REQUEST_EXAMPLE = [OpenApiExample("Police letter", request_only=True, value={"reason": "police letter 42/2026"})]


class AccountFreezeRequestApi(_AccountStatusRequestApi):
    service = staticmethod(services.account_freeze_request)
    scope = "account.freeze_request"

    @extend_schema(request=ReasonInput, responses={201: ApprovalOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=STATUS_REQUEST_EXAMPLE, summary="Ask a supervisor to freeze the account")
    def post(self, request, number: str):
        return super().post(request, number)


class AccountUnfreezeRequestApi(_AccountStatusRequestApi):
    service = staticmethod(services.account_unfreeze_request)
    scope = "account.unfreeze_request"

    @extend_schema(request=ReasonInput, responses={201: ApprovalOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Ask a supervisor to unfreeze the account")
    def post(self, request, number: str):
        return super().post(request, number)


class AccountCloseRequestApi(_AccountStatusRequestApi):
    service = staticmethod(services.account_close_request)
    scope = "account.close_request"

    @extend_schema(request=ReasonInput, responses={201: ApprovalOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Ask a supervisor to close the account (its balance must be zero)")
    def post(self, request, number: str):
        return super().post(request, number)


# --- transfers ------------------------------------------------------------------------------------

class TransferOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    posted_at = serializers.DateTimeField()
    description = serializers.CharField()
    from_account = serializers.CharField(source="metadata.from")
    to_account = serializers.CharField(source="metadata.to")
    amount = serializers.SerializerMethodField()

    def get_amount(self, tx) -> dict:
        return {"amount": tx.metadata["amount"], "currency": tx.metadata["currency"]}


class TransferCreateApi(APIView):
    required_perm = Perm.POST_TRANSFER

    class TransferInput(serializers.Serializer):
        from_account = serializers.CharField(max_length=34)
        to_account = serializers.CharField(max_length=34)
        amount = MoneySerializer()
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(request=TransferInput, responses={201: TransferOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[OpenApiExample("Rent", request_only=True, value={
                       "from_account": "000100000156", "to_account": "000100000253",
                       "amount": {"amount": 250000, "currency": "AED"}, "description": "rent March"})],
                   summary="Transfer between two customer accounts of the same currency")
    def post(self, request):
        data = self.TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="transfer", data=request.data, required=True,
            perform=lambda claim: services.transfer_post(actor=request.user, idempotency_claim=claim,
                                                         **data.validated_data),
            render=lambda tx: (201, TransferOutput(tx).data),
        )
        return respond(outcome)
