import pytest
from django.db import transaction

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.models import BankAccount
from accounts.services import account_open_request, internal_account
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval
from branch_ops.money import Money
from tests.factories import CustomerFactory


def open_account(csr, supervisor, *, customer=None, currency="AED", overdraft=None, branch=None):
    """An active account, opened and approved through the real services."""
    customer = customer or CustomerFactory(home_branch=branch or csr.staff.branch)
    account = account_open_request(actor=csr, customer_number=customer.number, product="current",
                                   currency=currency,
                                   overdraft_limit=Money(overdraft, currency) if overdraft else None)
    approval = Approval.objects.get(subject_id=str(account.public_id), status="pending")
    approval_decide(approval_id=approval.public_id, actor=supervisor, approve=True, reason="ok")
    return BankAccount.objects.select_related("ledger", "customer", "branch").get(pk=account.pk)


def fund(account, amount: int, actor=None):
    """Money in from the branch's suspense account (as a migrated balance would come)."""
    with transaction.atomic():
        suspense = internal_account(branch=account.branch, kind="suspense", currency=account.currency_id)
        ledger_post(kind="opening_balance", actor=actor, branch=account.branch,
                    lines=[Line(suspense, DEBIT, Money(amount, account.currency_id)),
                           Line(account.ledger, CREDIT, Money(amount, account.currency_id))])
    account.ledger.refresh_from_db()
    return account


@pytest.fixture
def accounts_pair(staff):
    a = fund(open_account(staff["csr"], staff["supervisor"]), 100_000)
    b = open_account(staff["csr"], staff["supervisor"])
    return a, b
