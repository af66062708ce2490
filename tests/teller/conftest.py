import pytest
from django.db import transaction

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.services import internal_account
from branch_ops.money import Money
from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer
from teller.reference_data import denominations_load
from teller.services import drawer_session_open, vault_transfer_confirm, vault_transfer_request
from tests.accounts.conftest import fund, open_account
from tests.factories import make_staff


def setup_branch_cash(branch, *, teller_limit=500_000, drawer_max=5_000_000, threshold=1_000_000,
                      vault=10_000_000):
    """Denominations, limits, settings and a vault funded by a cash delivery."""
    from branch_ops.models import Currency

    denominations_load(Denomination, Currency)
    BranchCashSettings.objects.update_or_create(branch=branch, defaults={"large_cash_threshold": threshold})
    for role in ("teller",):
        for op in ("deposit", "withdrawal"):
            CashLimit.objects.update_or_create(branch=branch, role=role, operation=op, currency_id="AED",
                                               defaults={"max_amount": teller_limit})
        CashLimit.objects.update_or_create(branch=branch, role=role, operation="drawer_max", currency_id="AED",
                                           defaults={"max_amount": drawer_max})
    with transaction.atomic():
        ledger_post(kind="cash_delivery", lines=[
            Line(internal_account(branch=branch, kind="vault_cash", currency="AED"), DEBIT, Money(vault, "AED")),
            Line(internal_account(branch=branch, kind="suspense", currency="AED"), CREDIT, Money(vault, "AED"))])


def open_drawer(teller, supervisor, code, *, notes=None):
    """A drawer for ``teller``, opened with an empty count, then filled from the vault."""
    drawer = Drawer.objects.create(branch=teller.staff.branch, code=code, teller=teller)
    session = drawer_session_open(actor=teller, counts={"AED": {}})
    notes = notes if notes is not None else {"50000": 10, "10000": 20, "1000": 50}  # 5,000 + 2,000 + 500 AED
    if notes:
        transfer = vault_transfer_request(actor=teller, direction="to_drawer", currency="AED", denominations=notes)
        vault_transfer_confirm(actor=supervisor, transfer_id=transfer.public_id)
    drawer.refresh_from_db()
    return session


@pytest.fixture
def cash(staff, branch):
    setup_branch_cash(branch)
    session = open_drawer(staff["teller"], staff["supervisor"], "W1")
    account = fund(open_account(staff["csr"], staff["supervisor"]), 1_000_000)  # 10,000.00 AED
    return {"session": session, "account": account, "teller": staff["teller"], "supervisor": staff["supervisor"]}


__all__ = ["make_staff", "open_account", "fund"]
