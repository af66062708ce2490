"""Teller API (``/api/v1/teller/``): the drawer session, vault transfers, cash deposits and
withdrawals, the journal. The same services as the teller window.

Denominations are ``{"<value in minor units>": <quantity>}``: two 500 AED notes and one 100
AED note are ``{"50000": 2, "10000": 1}``."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import MoneySerializer
from branch_ops import idempotency
from branch_ops.api import IDEMPOTENCY_PARAM, IDEMPOTENCY_REQUIRED, ApprovalOutput, CursorListApi, respond
from branch_ops.roles import Perm
from teller import selectors, services
from teller.models import CashOperation, VaultTransfer

DenominationsField = serializers.DictField(child=serializers.IntegerField(min_value=0), allow_empty=True)


class CountsInput(serializers.Serializer):
    counts = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField(min_value=0)),
                                   help_text='{"AED": {"50000": 10, "10000": 20}}: per currency, notes by value')


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    drawer = serializers.CharField(source="drawer.code")
    branch = serializers.CharField(source="drawer.branch.code")
    business_date = serializers.DateField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    open_difference = serializers.JSONField()
    variance = serializers.JSONField(help_text="shown once the closing count is in (blind close)")


class CashPositionOutput(serializers.Serializer):
    currency = serializers.CharField()
    cash = serializers.IntegerField()
    holdings = serializers.DictField(child=serializers.IntegerField())


class SessionDetailOutput(serializers.Serializer):
    session = SessionOutput()
    cash = CashPositionOutput(many=True)


def _session_body(session) -> dict:
    return {"session": SessionOutput(session).data, "cash": selectors.drawer_position(session)}


class SessionApi(APIView):
    required_perm = Perm.OPERATE_DRAWER

    @extend_schema(responses=SessionDetailOutput, summary="My open drawer session and its cash per currency")
    def get(self, request):
        return Response(_session_body(selectors.my_open_session(actor=request.user)))


class SessionOpenApi(APIView):
    required_perm = Perm.OPERATE_DRAWER

    @extend_schema(request=CountsInput, responses={201: SessionOutput}, summary="Open my drawer with a count",
                   parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Count", request_only=True,
                                            value={"counts": {"AED": {"50000": 10, "10000": 20}}})])
    def post(self, request):
        data = CountsInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="drawer.open", data=request.data, required=False,
            perform=lambda claim: services.drawer_session_open(actor=request.user, counts=data.validated_data["counts"],
                                                               idempotency_claim=claim),
            render=lambda session: (201, SessionOutput(session).data))
        return respond(outcome)


class SessionCloseApi(APIView):
    required_perm = Perm.OPERATE_DRAWER

    @extend_schema(request=CountsInput, responses=SessionOutput, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Count", request_only=True,
                                            value={"counts": {"AED": {"50000": 10, "10000": 20}}})],
                   summary="Blind close: send the count; the variance (posted to cash over/short) comes back only then")
    def post(self, request):
        data = CountsInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="drawer.close", data=request.data, required=False,
            perform=lambda claim: services.drawer_session_close(actor=request.user, counts=data.validated_data["counts"],
                                                                idempotency_claim=claim),
            render=lambda session: (200, SessionOutput(session).data))
        return respond(outcome)


class VaultTransferOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    direction = serializers.CharField()
    currency = serializers.CharField(source="currency_id")
    amount = serializers.IntegerField()
    denominations = serializers.JSONField()
    status = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    confirmed_by = serializers.CharField(source="confirmed_by.username", allow_null=True, default=None)


class VaultTransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=VaultTransfer.Status.choices)
    direction = django_filters.ChoiceFilter(choices=VaultTransfer.Direction.choices)
    currency = django_filters.CharFilter(field_name="currency_id", max_length=3)

    class Meta:
        model = VaultTransfer
        fields = ["status", "direction", "currency"]


class VaultTransferRequestApi(CursorListApi):
    """GET: a teller sees their drawer's transfers; the vault custodian (``confirm_vault``)
    every transfer of the branch (``?status=requested``: what waits for them). POST: a
    teller asks for cash."""

    required_perms_by_method = {"POST": Perm.OPERATE_DRAWER}
    serializer_class = VaultTransferOutput
    filterset_class = VaultTransferFilter

    def scoped_queryset(self):
        return selectors.vault_transfers(actor=self.request.user)

    @extend_schema(summary="Vault transfers: my drawer's (teller), or the branch's (vault custodian); newest first")
    def get(self, request):
        return super().get(request)

    class VaultTransferInput(serializers.Serializer):
        direction = serializers.ChoiceField(choices=VaultTransfer.Direction.values)
        currency = serializers.CharField(min_length=3, max_length=3)
        denominations = DenominationsField

    @extend_schema(request=VaultTransferInput, responses={201: VaultTransferOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Two 500 AED notes from the vault", request_only=True, value={
                       "direction": "to_drawer", "currency": "AED", "denominations": {"50000": 2}})],
                   summary="Ask the vault custodian for cash (or send cash back)")
    def post(self, request):
        data = self.VaultTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="vault.transfer_request", data=request.data, required=False,
            perform=lambda claim: services.vault_transfer_request(actor=request.user, idempotency_claim=claim,
                                                                  **data.validated_data),
            render=lambda transfer: (201, VaultTransferOutput(transfer).data))
        return respond(outcome)


class _VaultTransferDecideApi(APIView):
    required_perm = Perm.CONFIRM_VAULT
    confirm = True

    def post(self, request, transfer_id):
        outcome = idempotency.run_idempotent(
            request, scope=f"vault.transfer_decide:{transfer_id}:{self.confirm}", data={}, required=False,
            perform=lambda claim: services.vault_transfer_confirm(actor=request.user, transfer_id=transfer_id,
                                                                  confirm=self.confirm, idempotency_claim=claim),
            render=lambda transfer: (200, VaultTransferOutput(transfer).data))
        return respond(outcome)


class VaultTransferConfirmApi(_VaultTransferDecideApi):
    confirm = True

    @extend_schema(request=None, responses=VaultTransferOutput, parameters=[IDEMPOTENCY_PARAM],
                   summary="Confirm a vault transfer (custodian, not the requester): the cash posts")
    def post(self, request, transfer_id):
        return super().post(request, transfer_id)


class VaultTransferRejectApi(_VaultTransferDecideApi):
    confirm = False

    @extend_schema(request=None, responses=VaultTransferOutput, parameters=[IDEMPOTENCY_PARAM],
                   summary="Reject a vault transfer (nothing moves)")
    def post(self, request, transfer_id):
        return super().post(request, transfer_id)


class OperationOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    account = serializers.CharField(source="account.number", allow_null=True, default=None)
    amount = serializers.IntegerField()
    currency = serializers.CharField(source="currency_id")
    denominations = serializers.JSONField()
    created_at = serializers.DateTimeField()


class PartyInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    document = serializers.CharField(max_length=80, required=False, allow_blank=True)
    document_checked = serializers.BooleanField(required=False, default=False)
    occupation = serializers.CharField(max_length=120, required=False, allow_blank=True)
    source_of_funds = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CashInput(serializers.Serializer):
    account = serializers.CharField(max_length=34)
    amount = MoneySerializer()
    denominations = DenominationsField
    party = PartyInput(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


def _render_operation(operation: CashOperation) -> tuple[int, dict]:
    status = 201 if operation.status == CashOperation.Status.POSTED else 202
    return status, OperationOutput(operation).data


class _CashApi(APIView):
    required_perm = Perm.POST_CASH
    service = None
    scope = ""

    def post(self, request):
        data = CashInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope=self.scope, data=request.data, required=True,
            perform=lambda claim: type(self).service(
                actor=request.user, account_number=v["account"], amount=v["amount"],
                denominations=v["denominations"], party=v.get("party") or {}, description=v["description"],
                idempotency_claim=claim),
            render=_render_operation,
        )
        return respond(outcome)


CASH_EXAMPLE = OpenApiExample("600 AED in notes", request_only=True, value={
    "account": "000100000156", "amount": {"amount": 60000, "currency": "AED"},
    "denominations": {"50000": 1, "10000": 1},
    "party": {"name": "Fatima Al Zahra", "document": "P1234567", "document_checked": True}})


class CashDepositApi(_CashApi):
    service = staticmethod(services.cash_deposit_post)
    scope = "cash.deposit"

    @extend_schema(request=CashInput, responses={201: OperationOutput, 202: OperationOutput},
                   parameters=[IDEMPOTENCY_REQUIRED], examples=[CASH_EXAMPLE],
                   summary="Cash deposit (202 when it waits for a supervisor's override)")
    def post(self, request):
        return super().post(request)


class CashWithdrawalApi(_CashApi):
    service = staticmethod(services.cash_withdrawal_post)
    scope = "cash.withdrawal"

    @extend_schema(request=CashInput, responses={201: OperationOutput, 202: OperationOutput},
                   parameters=[IDEMPOTENCY_REQUIRED], examples=[CASH_EXAMPLE],
                   summary="Cash withdrawal: identity checked, within the balance, the cash and the notes held")
    def post(self, request):
        return super().post(request)


class OperationDetailApi(APIView):
    required_perm = Perm.POST_CASH

    @extend_schema(responses=OperationOutput, summary="One operation of my branch by its reference")
    def get(self, request, reference: str):
        return Response(OperationOutput(selectors.operation_by_reference(actor=request.user,
                                                                         reference=reference)).data)


class JournalApi(APIView):
    required_perm = Perm.OPERATE_DRAWER

    class JournalOutput(serializers.Serializer):
        session = SessionOutput()
        operations = OperationOutput(many=True)
        totals = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses=JournalOutput, summary="My drawer's electronic journal for the current session")
    def get(self, request):
        journal = selectors.session_journal(actor=request.user)
        return Response({"session": SessionOutput(journal.session).data,
                         "operations": OperationOutput(journal.operations, many=True).data,
                         "totals": journal.totals})


# --- exchange ---------------------------------------------------------------------------------------

class StructuringAlertOutput(serializers.Serializer):
    customer = serializers.CharField(source="customer.number")
    customer_name = serializers.CharField(source="customer.full_name")
    business_date = serializers.DateField()
    total_branch_currency = serializers.IntegerField(help_text="minor units of the branch currency")
    operations = serializers.SerializerMethodField()
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True, default=None)

    def get_operations(self, alert) -> list[str]:
        return [op.reference for op in alert.operations.all()]


class LargeCashOutput(serializers.Serializer):
    reference = serializers.CharField(source="operation.reference")
    kind = serializers.CharField(source="operation.kind")
    customer = serializers.CharField(source="customer.number", allow_null=True, default=None)
    person_name = serializers.CharField()
    document = serializers.CharField()
    amount_branch_currency = serializers.IntegerField(help_text="minor units of the branch currency")


class CashAlertsOutput(serializers.Serializer):
    today = serializers.DateField()
    since = serializers.DateField()
    structuring = StructuringAlertOutput(many=True)
    large_cash = LargeCashOutput(many=True)


class CashAlertsApi(APIView):
    required_perm = Perm.VIEW_BRANCH_QUEUES

    @extend_schema(responses=CashAlertsOutput,
                   summary="Structuring alerts and large-cash reports of the branch, recent days, newest first")
    def get(self, request):
        return Response(CashAlertsOutput(selectors.cash_alerts(actor=request.user)).data)


class RateOutput(serializers.Serializer):
    currency = serializers.CharField(source="currency_id")
    buy = serializers.DecimalField(max_digits=18, decimal_places=8)
    sell = serializers.DecimalField(max_digits=18, decimal_places=8)
    set_by = serializers.CharField(source="set_by.username")
    set_at = serializers.DateTimeField()
    active = serializers.BooleanField()


class RateBoardApi(APIView):
    required_perms_by_method = {"POST": Perm.SET_RATES}

    class RateInput(serializers.Serializer):
        currency = serializers.CharField(min_length=3, max_length=3)
        buy = serializers.DecimalField(max_digits=18, decimal_places=8)
        sell = serializers.DecimalField(max_digits=18, decimal_places=8)

    @extend_schema(responses=RateOutput(many=True), summary="The branch's rate board (active rates)")
    def get(self, request):
        return Response(RateOutput(selectors.rate_board(actor=request.user), many=True).data)

    @extend_schema(request=RateInput, responses={201: RateOutput}, summary="Set a rate (supervisor; history kept)",
                   parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("USD", request_only=True,
                                            value={"currency": "USD", "buy": "3.6500", "sell": "3.6900"})])
    def post(self, request):
        data = self.RateInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="rate.set", data=request.data, required=False,
            perform=lambda claim: services.rate_set(actor=request.user, idempotency_claim=claim, **data.validated_data),
            render=lambda rate: (201, RateOutput(rate).data))
        return respond(outcome)


class QuoteOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    from_currency = serializers.CharField(source="from_currency_id")
    from_amount = serializers.IntegerField()
    to_currency = serializers.CharField(source="to_currency_id")
    to_amount = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=24, decimal_places=12)
    expires_at = serializers.DateTimeField()


class QuoteApi(APIView):
    required_perm = Perm.POST_CASH

    class QuoteInput(serializers.Serializer):
        from_currency = serializers.CharField(min_length=3, max_length=3)
        to_currency = serializers.CharField(min_length=3, max_length=3)
        from_amount = MoneySerializer(required=False)
        to_amount = MoneySerializer(required=False)

    @extend_schema(request=QuoteInput, responses={201: QuoteOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("100 USD to AED", request_only=True, value={
                       "from_currency": "USD", "to_currency": "AED", "from_amount": {"amount": 10000, "currency": "USD"}})],
                   summary="Price an exchange and lock its rate for a short time")
    def post(self, request):
        data = self.QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="exchange.quote", data=request.data, required=False,
            perform=lambda claim: services.exchange_quote(actor=request.user, idempotency_claim=claim,
                                                          **data.validated_data),
            render=lambda quote: (201, QuoteOutput(quote).data))
        return respond(outcome)


class ExchangeApi(APIView):
    required_perm = Perm.POST_CASH

    class ExchangeInput(serializers.Serializer):
        quote = serializers.UUIDField()
        account = serializers.CharField(max_length=34, required=False, allow_blank=True)
        denominations_in = serializers.DictField(child=serializers.IntegerField(min_value=0), required=False)
        denominations_out = serializers.DictField(child=serializers.IntegerField(min_value=0))
        party = PartyInput(required=False)

    @extend_schema(request=ExchangeInput, responses={201: OperationOutput, 202: OperationOutput},
                   parameters=[IDEMPOTENCY_REQUIRED], summary="Exchange on a live quote (cash or account to cash)")
    def post(self, request):
        data = self.ExchangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope="cash.exchange", data=request.data, required=True,
            perform=lambda claim: services.cash_exchange_post(
                actor=request.user, quote_id=v["quote"], account_number=v.get("account") or None,
                denominations_in=v.get("denominations_in"), denominations_out=v["denominations_out"],
                party=v.get("party") or {}, idempotency_claim=claim),
            render=_render_operation,
        )
        return respond(outcome)


# --- payments and reversals ----------------------------------------------------------------------------

class PaymentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField()
    account = serializers.CharField(source="account.number")
    amount = serializers.IntegerField()
    currency = serializers.CharField(source="currency_id")
    beneficiary_name = serializers.CharField()
    iban = serializers.CharField()
    bic = serializers.CharField()
    remittance = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class OutgoingPaymentApi(APIView):
    required_perm = Perm.POST_TRANSFER

    class PaymentInput(serializers.Serializer):
        account = serializers.CharField(max_length=34)
        amount = MoneySerializer()
        beneficiary_name = serializers.CharField(max_length=140)
        iban = serializers.CharField(max_length=42)
        bic = serializers.CharField(max_length=11)
        remittance = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")

    @extend_schema(request=PaymentInput, responses={201: PaymentOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   examples=[OpenApiExample("To a UK bank", request_only=True, value={
                       "account": "000100000156", "amount": {"amount": 250000, "currency": "AED"},
                       "beneficiary_name": "ACME Ltd", "iban": "GB82WEST12345698765432", "bic": "NWBKGB2L",
                       "remittance": "invoice 42"})],
                   summary="Outgoing payment to another bank (IBAN/BIC validated)")
    def post(self, request):
        data = self.PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope="payment.outgoing", data=request.data, required=True,
            perform=lambda claim: services.outgoing_payment_post(
                actor=request.user, account_number=v["account"], amount=v["amount"],
                beneficiary_name=v["beneficiary_name"], iban=v["iban"], bic=v["bic"], remittance=v["remittance"],
                idempotency_claim=claim),
            render=lambda payment: (201, PaymentOutput(payment).data),
        )
        return respond(outcome)


class ReversalRequestApi(APIView):
    required_perm = Perm.POST_CASH

    class ReversalInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=ReversalInput, responses={201: ApprovalOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Wrong account", request_only=True, value={"reason": "wrong account"})],
                   summary="Ask a supervisor to reverse one of today's operations")
    def post(self, request, reference: str):
        data = self.ReversalInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope=f"cash.reversal_request:{reference}", data=data.validated_data, required=False,
            perform=lambda claim: services.operation_reversal_request(
                actor=request.user, reference=reference, reason=data.validated_data["reason"], idempotency_claim=claim),
            render=lambda approval: (201, ApprovalOutput(approval).data))
        return respond(outcome)
