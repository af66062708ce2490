"""One pending approval of every registered kind at the branch, each made through the
real services by the person who would ask for it."""

import pytest

from accounts.services import account_close_request, account_freeze_request, account_open_request, account_unfreeze_request
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval
from branch_ops.money import Money
from complaints.models import Category, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import complaint_decide, complaint_log, complaint_redress
from customer_service.models import Card
from customer_service.services import request_claim, request_create, request_fulfil
from teller.services import cash_deposit_post, cash_withdrawal_post, drawer_session_close, operation_reversal_request
from tests.accounts.conftest import fund, open_account
from tests.factories import CustomerFactory, make_staff
from tests.teller.conftest import open_drawer, setup_branch_cash

ID = {"document": "P1234567", "document_checked": True}
#: every kind the apps register, and the permission that decides it (the roles table says who)
KINDS = ["account.open", "account.freeze", "account.unfreeze", "account.close", "teller.override",
         "teller.reversal", "teller.eod_signoff", "cs.request.routine", "cs.request.four_eyes", "complaints.redress"]


def _pending(kind):
    return Approval.objects.filter(kind=kind, status="pending").latest("requested_at")


def make_every_kind(staff, branch) -> dict[str, Approval]:
    csr, supervisor, teller = staff["csr"], staff["supervisor"], staff["teller"]
    setup_branch_cash(branch)
    account = fund(open_account(csr, supervisor), 1_000_000)
    # accounts
    customer = CustomerFactory(home_branch=branch)
    account_open_request(actor=csr, customer_number=customer.number, product="current", currency="AED")
    account_freeze_request(actor=csr, number=open_account(csr, supervisor).number, reason="police letter")
    frozen = open_account(csr, supervisor)
    approval_decide(approval_id=account_freeze_request(actor=csr, number=frozen.number, reason="fraud").public_id,
                    actor=supervisor, approve=True, reason="ok")
    account_unfreeze_request(actor=csr, number=frozen.number, reason="cleared")
    account_close_request(actor=csr, number=open_account(csr, supervisor).number, reason="customer moves")
    # teller: an override and a reversal at one drawer, an end-of-day sign-off at another
    open_drawer(teller, supervisor, "W1")
    cash_withdrawal_post(actor=teller, account_number=account.number, amount=Money(600_000, "AED"),
                         denominations={"50000": 10, "10000": 10}, party=ID)
    deposit = cash_deposit_post(actor=teller, account_number=account.number, amount=Money(60_000, "AED"),
                                denominations={"50000": 1, "10000": 1})
    operation_reversal_request(actor=teller, reference=deposit.reference, reason="wrong account")
    teller2 = make_staff(branch, "teller", "teller2.dxb")
    open_drawer(teller2, supervisor, "W2")
    drawer_session_close(actor=teller2, counts={"AED": {"50000": 10, "10000": 20, "1000": 49}})
    # service desk: a routine account update, a four-eyes card unblock
    request_create(actor=csr, kind="account_update", customer_number=account.customer.number,
                   account_number=account.number, data={"phone": "+971 50 111 2222"})
    sr = request_create(actor=csr, kind="card_issue", customer_number=account.customer.number,
                        account_number=account.number, data={})
    request_claim(actor=csr, number=sr.number)
    request_fulfil(actor=csr, number=sr.number, data={"masked_pan": "411111******1111"})
    card = Card.objects.get(customer=account.customer)
    request_create(actor=csr, kind="card_block", customer_number=account.customer.number,
                   account_number=account.number, data={"card": str(card.public_id), "reason": "lost"})
    request_create(actor=csr, kind="card_unblock", customer_number=account.customer.number,
                   account_number=account.number, data={"card": str(card.public_id)})
    # complaints: redress over the threshold
    complaints_reference_load(Regime, Category)
    complaint = complaint_log(actor=csr, channel="branch", category="accounts.charges", description="Charged twice",
                              customer_number=account.customer.number, account_number=account.number,
                              amount_disputed=Money(500_000, "AED"))
    complaint_decide(actor=csr, number=complaint.number, decision="upheld", reason="ok")
    complaint_redress(actor=csr, number=complaint.number, amount=Money(150_000, "AED"), reason="")
    return {kind: _pending(kind) for kind in KINDS}


@pytest.fixture
def every_kind(staff, branch):
    return make_every_kind(staff, branch)
