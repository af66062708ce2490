"""Accounts API (``/api/v1/accounts/``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import BankAccount
from accounts.numbers import account_number_is_valid
from accounts.services import account_open_request
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.api import IDEMPOTENCY_REQUIRED, respond
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.roles import Perm


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


class AccountOpenRequestApi(APIView):
    required_perm = Perm.MANAGE_CUSTOMER

    class AccountOpenRequestInput(serializers.Serializer):
        customer_number = serializers.CharField(max_length=20)
        product = serializers.ChoiceField(choices=BankAccount.Product.values)
        currency = serializers.CharField(max_length=3, min_length=3)
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(request=AccountOpenRequestInput, responses={201: AccountOutput}, parameters=[IDEMPOTENCY_REQUIRED],
                   summary="Ask for an account to be opened (pending until a supervisor approves)")
    def post(self, request):
        data = self.AccountOpenRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = idempotency.run_idempotent(
            request, scope="account.open_request", data=data.validated_data, required=True,
            perform=lambda claim: account_open_request(actor=request.user, idempotency_claim=claim,
                                                       **data.validated_data),
            render=lambda account: (201, AccountOutput(account).data),
        )
        return respond(outcome)


class AccountDetailApi(APIView):
    required_perm = Perm.VIEW_CUSTOMER

    @extend_schema(responses=AccountOutput, summary="One account by its number (check digits validated)")
    def get(self, request, number: str):
        require_perm(request.user, Perm.VIEW_CUSTOMER)
        if not account_number_is_valid(number):
            raise ApplicationError(_("The account number is not valid (check digits)."), code="INVALID_ACCOUNT_NUMBER",
                                   field="number")
        account = BankAccount.objects.select_related("customer", "branch").filter(number=number).first()
        if account is None:
            raise NotFound(_("No such account."), code="ACCOUNT_NOT_FOUND")
        return Response(AccountOutput(account).data)
