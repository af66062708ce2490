import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.ledger import ledger_verify
from accounts.models import LedgerAccount
from branch_ops.approvals import approval_decide
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval
from branch_ops.money import Money
from teller.models import CashLimit, ExchangeQuote, ExchangeRate
from teller.services import cash_exchange_post, exchange_quote, rate_set, vault_transfer_confirm, vault_transfer_request
from tests.accounts.conftest import fund, open_account


@pytest.fixture
def fx(cash, branch):
    """USD on the rate board (3.6500 / 3.6900 AED) and 1,000 USD in the drawer."""
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.services import internal_account

    rate_set(actor=cash["supervisor"], currency="USD", buy="3.65", sell="3.69")
    with transaction.atomic():
        ledger_post(kind="cash_delivery", lines=[
            Line(internal_account(branch=branch, kind="vault_cash", currency="USD"), DEBIT, Money(500_000, "USD")),
            Line(internal_account(branch=branch, kind="suspense", currency="USD"), CREDIT, Money(500_000, "USD"))])
    transfer = vault_transfer_request(actor=cash["teller"], direction="to_drawer", currency="USD",
                                      denominations={"10000": 10})
    vault_transfer_confirm(actor=cash["supervisor"], transfer_id=transfer.public_id)
    for cur in ("USD", "AED"):
        CashLimit.objects.update_or_create(branch=branch, role="teller", operation="exchange", currency_id=cur,
                                           defaults={"max_amount": 300_000})
    return cash


def test_rate_board_keeps_history_and_only_a_supervisor_sets_it(fx, staff):
    rate_set(actor=fx["supervisor"], currency="USD", buy="3.66", sell="3.70")
    assert list(ExchangeRate.objects.filter(currency_id="USD").order_by("set_at").values_list("buy", "active")) == [
        (Decimal("3.65"), False), (Decimal("3.66"), True)]
    with pytest.raises(ApplicationError) as err:
        rate_set(actor=staff["teller"], currency="USD", buy="1", sell="2")
    assert err.value.code == "ROLE_NOT_ALLOWED"
    with pytest.raises(ApplicationError) as err:
        rate_set(actor=fx["supervisor"], currency="USD", buy="3.8", sell="3.7")
    assert err.value.code == "INVALID_RATE"


def test_selling_usd_for_aed_cash_to_cash_posts_through_fx_positions(fx, branch):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(10_000, "USD"))
    assert (quote.from_amount, quote.to_amount) == (36_900, 10_000)  # 100 USD at 3.69
    op = cash_exchange_post(actor=fx["teller"], quote_id=quote.public_id, denominations_out={"10000": 1},
                            denominations_in={"10000": 3, "5000": 1, "1000": 1, "100": 9})
    assert op.status == "posted"
    assert op.details["rate"] == "0.271002710027"
    usd_fx = LedgerAccount.objects.get(branch=branch, kind="fx_position", currency_id="USD")
    aed_fx = LedgerAccount.objects.get(branch=branch, kind="fx_position", currency_id="AED")
    assert (usd_fx.balance, aed_fx.balance) == (10_000, -36_900)
    assert ledger_verify().ok


def test_buying_usd_rounds_half_even_once(fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="USD", to_currency="AED",
                           from_amount=Money(1_001, "USD"))
    assert quote.to_amount == 3_654  # 10.01 * 3.65 = 36.5365 -> 36.54


def test_account_to_cash_exchange_debits_the_account(fx, staff):
    usd = fund(open_account(staff["csr"], staff["supervisor"], currency="USD"), 50_000)
    quote = exchange_quote(actor=fx["teller"], from_currency="USD", to_currency="AED", from_amount=Money(20_000, "USD"))
    op = cash_exchange_post(actor=fx["teller"], quote_id=quote.public_id, account_number=usd.number,
                            denominations_out={"50000": 1, "10000": 2, "1000": 3})
    assert (op.status, quote.to_amount) == ("posted", 73_000)
    assert LedgerAccount.objects.get(pk=usd.ledger_id).balance == 30_000


@pytest.mark.parametrize(("how", "code"), [("expired", "QUOTE_EXPIRED"), ("used", "QUOTE_USED")])
def test_an_expired_or_used_quote_is_refused(fx, how, code):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(10_000, "USD"))
    notes = {"denominations_out": {"10000": 1}, "denominations_in": {"10000": 3, "5000": 1, "1000": 1, "100": 9}}
    if how == "expired":
        ExchangeQuote.objects.filter(pk=quote.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    else:
        cash_exchange_post(actor=fx["teller"], quote_id=quote.public_id, **notes)
    with pytest.raises(ApplicationError) as err:
        cash_exchange_post(actor=fx["teller"], quote_id=quote.public_id, **notes)
    assert err.value.code == code


def test_an_exchange_between_the_same_currency_is_refused(fx):
    with pytest.raises(ApplicationError) as err:
        exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="AED", from_amount=Money(100, "AED"))
    assert err.value.code == "SAME_CURRENCY"


def test_an_over_limit_exchange_waits_for_a_supervisor(fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="USD", to_currency="AED", from_amount=Money(100_000, "USD"))
    op = cash_exchange_post(actor=fx["teller"], quote_id=quote.public_id,
                            denominations_in={"10000": 10}, denominations_out={"50000": 7, "1000": 15})
    assert (op.status, quote.to_amount) == ("awaiting_override", 365_000)
    approval = Approval.objects.get(subject_id=str(op.public_id))
    approval_decide(approval_id=approval.public_id, actor=fx["supervisor"], approve=True, reason="ok")
    op.refresh_from_db()
    assert op.status == "posted"
    assert ledger_verify().ok


def test_large_cash_counts_foreign_cash_at_the_middle_rate(fx, staff, branch):
    from teller.models import BranchCashSettings

    BranchCashSettings.objects.filter(branch=branch).update(large_cash_threshold=300_000)  # 3,000 AED
    usd = open_account(staff["csr"], staff["supervisor"], currency="USD")
    CashLimit.objects.update_or_create(branch=branch, role="teller", operation="deposit", currency_id="USD",
                                       defaults={"max_amount": 1_000_000})
    CashLimit.objects.update_or_create(branch=branch, role="teller", operation="drawer_max", currency_id="USD",
                                       defaults={"max_amount": 10_000_000})
    from teller.services import cash_deposit_post

    # 1,000 USD at the middle rate 3.67 = 3,670 AED: over the threshold
    with pytest.raises(ApplicationError) as err:
        cash_deposit_post(actor=fx["teller"], account_number=usd.number, amount=Money(100_000, "USD"),
                          denominations={"10000": 10})
    assert err.value.code == "LARGE_CASH_DETAILS_REQUIRED"
    # 500 USD = 1,835 AED: under it
    op = cash_deposit_post(actor=fx["teller"], account_number=usd.number, amount=Money(50_000, "USD"),
                           denominations={"10000": 5})
    assert op.status == "posted"
