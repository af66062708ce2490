"""Outgoing payments to other banks, taken at the window: IBAN and BIC validated
(python-stdnum: ISO 13616 check digits and country formats, ISO 9362), the customer's
account debited, the outgoing-payments clearing account credited, and an event for core
banking, which sends the payment on."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from stdnum import bic as bic_number
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as NumberError

from accounts.ledger import CREDIT, DEBIT, LedgerError, Line, ledger_post
from accounts.services import account_by_number, internal_account
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm
from teller.models import OutgoingPayment
from teller.services.cash import _reference


def clean_iban(value: str) -> str:
    try:
        return iban_number.validate(value or "")
    except NumberError:
        raise ApplicationError(_("The IBAN is not valid (its check digits or length are wrong)."),
                               code="INVALID_IBAN", field="iban") from None


def clean_bic(value: str) -> str:
    try:
        return bic_number.validate(value or "")
    except NumberError:
        raise ApplicationError(_("The BIC is not valid (8 or 11 letters and digits)."), code="INVALID_BIC",
                               field="bic") from None


def outgoing_payment_post(*, actor, account_number: str, amount: Money, beneficiary_name: str, iban: str,
                          bic: str, remittance: str = "", idempotency_claim=None) -> OutgoingPayment:
    """Pay ``amount`` from the customer's account to a beneficiary at another bank."""
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    name = (beneficiary_name or "").strip()
    if not name:
        raise ApplicationError(_("Enter the beneficiary's name."), code="BENEFICIARY_REQUIRED",
                               field="beneficiary_name")
    iban, bic = clean_iban(iban), clean_bic(bic)
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.POST_TRANSFER)
        account = account_by_number(account_number)
        if account.currency_id != amount.currency:
            raise LedgerError(_("The amount is in %(given)s but the account is in %(expected)s.")
                              % {"given": amount.currency, "expected": account.currency_id},
                              code="CURRENCY_MISMATCH", field="currency")
        clearing = internal_account(branch=profile.branch, kind="clearing", currency=amount.currency)
        reference = _reference(profile.branch)
        tx = ledger_post(kind="outgoing_payment", actor=actor, branch=profile.branch,
                         description=remittance or name,
                         lines=[Line(account.ledger_id, DEBIT, amount), Line(clearing, CREDIT, amount)],
                         metadata={"reference": reference, "iban": iban, "bic": bic, **amount.as_dict()})
        payment = OutgoingPayment.objects.create(
            reference=reference, branch=profile.branch, account=account, currency_id=amount.currency,
            amount=amount.amount, beneficiary_name=name[:140], iban=iban, bic=bic, remittance=remittance[:140],
            ledger_transaction=tx, created_by=actor)
        details = {"reference": reference, "from_account": account.number, "beneficiary_name": name, "iban": iban,
                   "bic": bic, "remittance": remittance, **amount.as_dict()}
        audit_event_write(actor=actor, action="payment.outgoing_posted", obj=payment,
                          customer_ref=account.customer.number, after=details)
        event_publish(event_type="payment.outgoing", aggregate=payment, branch=profile.branch, payload=details)
        idempotency.finish(idempotency_claim, payment)
    return payment
