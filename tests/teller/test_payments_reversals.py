import datetime as dt

import pytest

from accounts.ledger import ledger_verify
from accounts.models import LedgerAccount
from branch_ops.approvals import approval_decide
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval, OutboxEvent
from branch_ops.money import Money
from teller.models import CashOperation, DrawerSession, OutgoingPayment
from teller.services import cash_deposit_post, operation_reversal_request, outgoing_payment_post

GOOD_IBAN = "GB82 WEST 1234 5698 7654 32"


def _balance(account):
    return LedgerAccount.objects.get(pk=account.ledger_id).balance


def test_an_outgoing_payment_debits_the_customer_and_credits_clearing(cash, branch):
    payment = outgoing_payment_post(actor=cash["teller"], account_number=cash["account"].number,
                                    amount=Money(25_000, "AED"), beneficiary_name="ACME Ltd", iban=GOOD_IBAN,
                                    bic="NWBKGB2L", remittance="invoice 42")
    assert (payment.iban, payment.bic) == ("GB82WEST12345698765432", "NWBKGB2L")
    assert _balance(cash["account"]) == 975_000
    clearing = LedgerAccount.objects.get(branch=branch, kind="clearing", currency_id="AED")
    assert clearing.balance == 25_000
    event = OutboxEvent.objects.get(event_type="payment.outgoing")
    assert event.payload["iban"] == "GB82WEST12345698765432"
    assert ledger_verify().ok


@pytest.mark.parametrize(("iban", "bic", "code"), [
    ("GB82 WEST 1234 5698 7654 33", "NWBKGB2L", "INVALID_IBAN"),
    ("GB82 WEST 1234", "NWBKGB2L", "INVALID_IBAN"),
    (GOOD_IBAN, "NWBK", "INVALID_BIC"),
])
def test_a_wrong_iban_or_bic_is_refused_and_nothing_posted(cash, iban, bic, code):
    with pytest.raises(ApplicationError) as err:
        outgoing_payment_post(actor=cash["teller"], account_number=cash["account"].number,
                              amount=Money(25_000, "AED"), beneficiary_name="ACME", iban=iban, bic=bic)
    assert err.value.code == code
    assert not OutgoingPayment.objects.exists()
    assert _balance(cash["account"]) == 1_000_000


def test_a_same_day_reversal_waits_for_a_supervisor_then_undoes_the_deposit_once(cash):
    op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number, amount=Money(60_000, "AED"),
                           denominations={"50000": 1, "10000": 1})
    approval = operation_reversal_request(actor=cash["teller"], reference=op.reference, reason="wrong account")
    assert _balance(cash["account"]) == 1_060_000  # nothing until approved
    with pytest.raises(ApplicationError) as err:
        operation_reversal_request(actor=cash["teller"], reference=op.reference, reason="again")
    assert err.value.code == "REQUEST_ALREADY_PENDING"

    approval_decide(approval_id=approval.public_id, actor=cash["supervisor"], approve=True, reason="ok")

    op.refresh_from_db()
    assert op.status == "reversed"
    assert _balance(cash["account"]) == 1_000_000
    with pytest.raises(ApplicationError) as err:
        operation_reversal_request(actor=cash["teller"], reference=op.reference, reason="third time")
    assert err.value.code == "NOT_REVERSIBLE"
    assert ledger_verify().ok


def test_another_days_operation_cannot_be_reversed(cash):
    op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number, amount=Money(10_000, "AED"),
                           denominations={"10000": 1})
    DrawerSession.objects.filter(pk=op.session_id).update(business_date=dt.date(2020, 1, 1))
    with pytest.raises(ApplicationError) as err:
        operation_reversal_request(actor=cash["teller"], reference=op.reference, reason="late")
    assert err.value.code == "REVERSAL_NOT_SAME_DAY"
    assert not Approval.objects.filter(kind="teller.reversal").exists()
    assert CashOperation.objects.get(pk=op.pk).status == "posted"
