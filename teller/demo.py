"""Demo data of the cash window: limits and settings, a vault stocked by a cash delivery,
each teller's drawer open and filled from the vault, and a few operations of the day.
Everything goes through the real services."""

from __future__ import annotations

from django.db import transaction

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.models import BankAccount
from accounts.services import internal_account
from branch_ops.models import Currency
from branch_ops.money import Money
from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer, DrawerSession
from teller.reference_data import denominations_load
from teller.services import (
    cash_deposit_post,
    cash_withdrawal_post,
    drawer_session_open,
    rate_set,
    vault_transfer_confirm,
    vault_transfer_request,
)

# per branch currency: (threshold, teller limit, drawer max, vault stock, notes to the drawer)
PROFILE = {
    "AED": (5_500_000, 2_000_000, 20_000_000, 100_000_000, {"50000": 40, "10000": 50, "5000": 40, "1000": 100}),
    "EUR": (1_000_000, 500_000, 5_000_000, 20_000_000, {"5000": 100, "2000": 100, "1000": 100, "500": 100}),
    "USD": (None, 500_000, 5_000_000, 10_000_000, {"10000": 30, "2000": 50, "1000": 50, "500": 40}),
}


def seed_teller_demo(branch, users: dict) -> None:
    teller, supervisor = users["teller"], users["super"]
    denominations_load(Denomination, Currency)
    threshold = PROFILE[branch.currency_id][0]
    BranchCashSettings.objects.get_or_create(branch=branch, defaults={"large_cash_threshold": threshold})
    for currency in (branch.currency_id, "USD"):
        _threshold, limit, drawer_max, stock, _notes = PROFILE[currency]
        for operation in ("deposit", "withdrawal", "exchange", "transfer", "payment"):
            CashLimit.objects.get_or_create(branch=branch, role="teller", operation=operation, currency_id=currency,
                                            defaults={"max_amount": limit})
        CashLimit.objects.get_or_create(branch=branch, role="teller", operation="drawer_max", currency_id=currency,
                                        defaults={"max_amount": drawer_max})
        with transaction.atomic():
            ledger_post(kind="cash_delivery", actor=supervisor, branch=branch, description="Cash delivery (CIT)",
                        lines=[Line(internal_account(branch=branch, kind="vault_cash", currency=currency), DEBIT,
                                    Money(stock, currency)),
                               Line(internal_account(branch=branch, kind="suspense", currency=currency), CREDIT,
                                    Money(stock, currency))])
    if branch.currency_id == "AED":
        rate_set(actor=supervisor, currency="USD", buy="3.6500", sell="3.6900")
        rate_set(actor=supervisor, currency="EUR", buy="3.9500", sell="4.0500")
    else:
        rate_set(actor=supervisor, currency="USD", buy="0.9100", sell="0.9500")
        rate_set(actor=supervisor, currency="AED", buy="0.2450", sell="0.2600")
    drawer, _created = Drawer.objects.get_or_create(branch=branch, code="W01", defaults={"teller": teller})
    if DrawerSession.objects.filter(drawer=drawer, status="open").exists():
        return
    drawer_session_open(actor=teller, counts={branch.currency_id: {}, "USD": {}})
    for currency in (branch.currency_id, "USD"):
        transfer = vault_transfer_request(actor=teller, direction="to_drawer", currency=currency,
                                          denominations=PROFILE[currency][4])
        vault_transfer_confirm(actor=supervisor, transfer_id=transfer.public_id)
    accounts = list(BankAccount.objects.filter(branch=branch, currency_id=branch.currency_id, status="active")
                    .select_related("customer").order_by("number")[:2])
    big_note = max(int(v) for v in PROFILE[branch.currency_id][4])
    for account in accounts:
        cash_deposit_post(actor=teller, account_number=account.number, amount=Money(3 * big_note, branch.currency_id),
                          denominations={str(big_note): 3}, party={"name": account.customer.full_name},
                          description="Cash deposit")
    if accounts:
        account = accounts[0]
        cash_withdrawal_post(actor=teller, account_number=account.number, amount=Money(big_note, branch.currency_id),
                             denominations={str(big_note): 1},
                             party={"name": account.customer.full_name, "document": "P-DEMO-1",
                                    "document_checked": True}, description="Cash withdrawal")
