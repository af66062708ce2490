"""More screens of the teller window: currency exchange (quote, then the notes), the rate
board, outgoing payments, reversal requests from the journal, the supervisor's cash alerts
and receipts in the customer's language. Set-up goes through the real services (``cash``
opens a drawer with 7,500.00 AED in notes and funds an account with 10,000.00 AED; ``fx``
adds USD 3.6500 / 3.6900 on the board and 1,000 USD in the drawer)."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.models import LedgerAccount
from accounts.services import internal_account
from branch_ops.models import Approval
from branch_ops.money import Money
from teller.models import CashLimit, CashOperation, ExchangeQuote, ExchangeRate, OutgoingPayment, StructuringAlert
from teller.services import (
    cash_deposit_post,
    exchange_quote,
    rate_set,
    vault_transfer_confirm,
    vault_transfer_request,
)

GOOD_IBAN = "GB82WEST12345698765432"
HTMX = {"HTTP_HX_REQUEST": "true"}
NOTES_IN_369_AED = {"in_10000": "3", "in_5000": "1", "in_1000": "1", "in_100": "9"}


@pytest.fixture
def fx(cash, branch):
    """USD on the rate board (3.6500 / 3.6900 AED) and 1,000 USD in the drawer."""
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


def _balance(account) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_id).balance


def _exchange(quote, **notes):
    return {"quote": str(quote.public_id), "idempotency_key": str(uuid.uuid4()), **notes}


def _receipt_block(html: str) -> str:
    return html[html.index('<article class="receipt'):html.index("</article>")]


# --- currency exchange ------------------------------------------------------------------------------

def test_a_quote_then_an_exchange_through_the_screens_shows_a_receipt_with_the_rate(client, fx):
    client.force_login(fx["teller"])

    page = client.get("/teller/exchange/")
    quoted = client.post("/teller/exchange/", {"from_currency": "AED", "to_currency": "USD", "to_amount": "100.00"})
    quote = ExchangeQuote.objects.get()
    done = client.post("/teller/exchange/post/", _exchange(quote, out_10000="1", **NOTES_IN_369_AED))

    assert page.status_code == 200 and 'data-testid="quote-form"' in page.content.decode()
    assert 'data-testid="rate-board"' in page.content.decode()
    html = quoted.content.decode()
    assert quoted.status_code == 200
    assert (quote.from_amount, quote.to_amount) == (36_900, 10_000)
    assert f'data-testid="quote-gives">{Money(36_900, "AED").format("en")}</bdi>' in html
    assert f'data-testid="quote-gets">{Money(10_000, "USD").format("en")}</bdi>' in html
    assert 'data-testid="quote-rate">1 USD = 3.6900 AED</bdi>' in html
    assert 'data-testid="quote-expires"' in html and "Asia/Dubai" in html
    assert 'name="in_10000"' in html and 'name="out_10000"' in html
    assert f'value="{quote.public_id}"' in html
    receipt = done.content.decode()
    operation = CashOperation.objects.get(kind="exchange")
    assert done.status_code == 200
    assert operation.status == "posted"
    assert 'data-testid="receipt"' in receipt
    assert 'data-testid="receipt-rate">1 USD = 3.6900 AED</bdi>' in receipt
    assert f'data-testid="receipt-gives">{Money(36_900, "AED").format("en")}</bdi>' in receipt
    assert f'data-testid="receipt-amount">{Money(10_000, "USD").format("en")}</bdi>' in receipt
    assert 'data-testid="receipt-notes-in"' in receipt
    assert "<script>" not in receipt and "onclick" not in receipt


def test_an_expired_quote_is_refused_beside_the_quote_and_nothing_is_exchanged(client, fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(10_000, "USD"))
    ExchangeQuote.objects.filter(pk=quote.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/post/", _exchange(quote, out_10000="1", **NOTES_IN_369_AED))

    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="quote-error">The quote has expired: ask for a new one.' in html
    assert not CashOperation.objects.filter(kind="exchange").exists()


def test_the_same_currency_on_both_sides_is_refused_beside_the_field(client, fx):
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/", {"from_currency": "AED", "to_currency": "AED", "from_amount": "10"})

    assert response.status_code == 400
    assert re.search(r'id="q_to_currency".*?</select>\s*<div class="invalid-feedback d-block" data-testid="field-error">'
                     r"Choose two different currencies.</div>", response.content.decode(), re.S)
    assert not ExchangeQuote.objects.exists()


def test_a_currency_without_a_rate_is_refused_beside_its_field(client, fx):
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/", {"from_currency": "EUR", "to_currency": "AED", "from_amount": "10"})

    assert response.status_code == 400
    assert re.search(r'id="q_from_currency".*?</select>\s*<div class="invalid-feedback d-block" data-testid="field-error">'
                     r"There is no rate for EUR on the board.</div>", response.content.decode(), re.S)


def test_notes_the_drawer_does_not_hold_are_refused_under_the_notes_paid_out(client, fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(5_000, "USD"))
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/post/", _exchange(quote, out_5000="1", in_10000="1", in_5000="1",
                                                               in_2000="1", in_1000="1", in_100="4", in_50="1"))

    html = response.content.decode()
    assert (quote.from_amount, response.status_code) == (18_450, 400)
    notes_out = html.split("Notes paid out")[1]
    assert 'data-testid="denominations-error">The drawer holds only 0 × ' in notes_out
    assert not CashOperation.objects.filter(kind="exchange").exists()


def test_notes_that_do_not_add_up_are_shown_under_their_grid(client, fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(10_000, "USD"))
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/post/", _exchange(quote, out_10000="1", in_10000="3"))

    html = response.content.decode()
    assert response.status_code == 400
    notes_in = html.split('id="exchange-notes-in"')[1].split("Notes paid out")[0]
    assert 'data-testid="denominations-error">The notes and coins add up to AED\xa0300.00, not AED\xa0369.00.' in notes_in
    assert not CashOperation.objects.filter(kind="exchange").exists()


def test_the_notes_in_grid_goes_away_once_an_account_pays(client, fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="AED", to_currency="USD", to_amount=Money(10_000, "USD"))
    client.force_login(fx["teller"])

    cash = client.get("/teller/exchange/notes-in/", {"quote": str(quote.public_id), "account": ""}, **HTMX)
    account = client.get("/teller/exchange/notes-in/", {"quote": str(quote.public_id), "account": "0001"}, **HTMX)

    assert 'name="in_10000"' in cash.content.decode() and "<html" not in cash.content.decode()
    assert 'name="in_10000"' not in account.content.decode()
    assert 'data-testid="no-notes-in"' in account.content.decode()


def test_an_over_limit_exchange_shows_the_waiting_state(client, fx):
    quote = exchange_quote(actor=fx["teller"], from_currency="USD", to_currency="AED",
                           from_amount=Money(100_000, "USD"))
    client.force_login(fx["teller"])

    response = client.post("/teller/exchange/post/", _exchange(quote, in_10000="10", out_50000="7", out_1000="15"))

    html = response.content.decode()
    operation = CashOperation.objects.get(kind="exchange")
    approval = Approval.objects.get(subject_id=str(operation.public_id))
    assert response.status_code == 202
    assert operation.status == "awaiting_override"
    assert 'data-testid="waiting"' in html
    assert f'href="/approvals/{approval.public_id}/"' in html


# --- the rate board ----------------------------------------------------------------------------------

def test_a_teller_sees_the_board_but_cannot_set_a_rate(client, fx):
    client.force_login(fx["teller"])

    page = client.get("/teller/rates/")
    refused = client.post("/teller/rates/", {"currency": "USD", "buy": "1.00", "sell": "2.00"})

    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r"<td>USD</td><td class=\"text-end money\"><bdi>3.6500</bdi></td>\s*"
                     r"<td class=\"text-end money\"><bdi>3.6900</bdi></td>", html)
    assert 'data-testid="rate-form"' not in html
    assert refused.status_code == 403
    assert ExchangeRate.objects.get(currency_id="USD", active=True).buy == Decimal("3.65")


def test_a_supervisor_sets_a_rate_and_the_history_shows_it(client, fx):
    client.force_login(fx["supervisor"])

    response = client.post("/teller/rates/", {"currency": "USD", "buy": "3.66", "sell": "3.70"}, follow=True)

    html = response.content.decode()
    history = html.split('data-testid="rate-history"')[1]
    assert response.status_code == 200
    assert 'data-testid="rate-form"' in html
    assert "The USD rate is on the board." in html
    assert history.count('data-testid="rate-history-row"') == 2
    assert history.index("3.6600") < history.index("3.6500")  # newest first
    assert "replaced" in history
    assert ExchangeRate.objects.get(currency_id="USD", active=True).sell == Decimal("3.70")


def test_a_buy_rate_over_the_sell_rate_is_refused_beside_the_field(client, fx):
    client.force_login(fx["supervisor"])

    response = client.post("/teller/rates/", {"currency": "USD", "buy": "3.80", "sell": "3.70"})

    assert response.status_code == 400
    assert re.search(r'id="rate_sell">\s*<div class="invalid-feedback d-block" data-testid="field-error">Rates must be',
                     response.content.decode())
    assert ExchangeRate.objects.filter(currency_id="USD").count() == 1


def test_only_cash_staff_and_supervisors_see_the_board(client, staff):
    client.force_login(staff["csr"])

    assert client.get("/teller/rates/").status_code == 403


# --- outgoing payments --------------------------------------------------------------------------------

def _payment(account, **extra):
    data = {"account": account.number, "amount": "250.00", "beneficiary_name": "ACME Ltd",
            "iban": "GB82 WEST 1234 5698 7654 32", "bic": "NWBKGB2L", "remittance": "invoice 42",
            "idempotency_key": str(uuid.uuid4())}
    data.update(extra)
    return data


def test_a_wrong_iban_is_refused_beside_the_field_and_nothing_is_posted(client, cash):
    client.force_login(cash["teller"])

    response = client.post("/teller/payments/new/", _payment(cash["account"], iban="GB82 WEST 1234 5698 7654 33"))

    assert response.status_code == 400
    assert re.search(r'id="pay_iban">\s*<div class="invalid-feedback d-block" data-testid="field-error">'
                     r"The IBAN is not valid", response.content.decode())
    assert not OutgoingPayment.objects.exists()
    assert _balance(cash["account"]) == 1_000_000


def test_a_correct_payment_shows_the_confirmation(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    form = client.get("/teller/payments/new/", {"account": account.number})
    response = client.post("/teller/payments/new/", _payment(account))

    html = response.content.decode()
    payment = OutgoingPayment.objects.get()
    assert form.status_code == 200 and f'value="{account.number}"' in form.content.decode()
    assert response.status_code == 200
    assert f'data-testid="payment-reference">{payment.reference}</bdi>' in html
    assert f'data-testid="payment-account">•••• {account.number[-4:]}</bdi>' in html
    assert account.number not in html
    assert 'data-testid="payment-beneficiary">ACME Ltd</dd>' in html
    assert 'data-testid="payment-iban">GB82 WEST 1234 5698 7654 32</bdi>' in html
    assert f'data-testid="payment-amount">{Money(25_000, "AED").format("en")}</bdi>' in html
    assert _balance(account) == 975_000


def test_the_payment_page_needs_the_transfer_permission(client, staff):
    client.force_login(staff["supervisor"])

    assert client.get("/teller/payments/new/").status_code == 403


# --- reversal requests ------------------------------------------------------------------------------------

def test_a_reversal_request_from_the_journal_creates_a_pending_approval(client, cash):
    operation = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                  amount=Money(20_000, "AED"), denominations={"10000": 2})
    client.force_login(cash["teller"])
    action = f"/teller/operations/{operation.reference}/reverse/"

    journal = client.get("/teller/journal/").content.decode()
    response = client.post(action, {"reason": "wrong account"}, follow=True)
    again = client.post(action, {"reason": "again"}, follow=True)

    assert f'action="{action}"' in journal
    assert journal.count('data-testid="reversal-form"') == 1  # the deposit, not the vault transfer
    approval = Approval.objects.get(kind="teller.reversal", subject_id=str(operation.public_id))
    assert approval.status == "pending"
    html = response.content.decode()
    assert response.redirect_chain == [("/teller/journal/", 302)]
    assert f"The reversal of {operation.reference} waits for a supervisor." in html
    assert f'href="/approvals/{approval.public_id}/"' in html
    assert 'data-testid="reversal-pending"' in html
    assert "A reversal of this operation is already waiting." in again.content.decode()
    assert CashOperation.objects.get(pk=operation.pk).status == "posted"
    assert _balance(cash["account"]) == 1_020_000


# --- cash alerts ---------------------------------------------------------------------------------------

def test_the_alerts_page_shows_a_structuring_alert_after_three_deposits_under_the_threshold(client, cash):
    account = cash["account"]
    operations = [cash_deposit_post(actor=cash["teller"], account_number=account.number,
                                    amount=Money(400_000, "AED"), denominations={"100000": 4}) for _ in range(3)]
    assert StructuringAlert.objects.filter(customer=account.customer).exists()
    client.force_login(cash["supervisor"])

    response = client.get("/teller/alerts/")
    vault = client.get("/teller/vault/pending/").content.decode()

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="structuring-alert"') == 1
    assert account.customer.full_name in html and account.customer.number in html
    assert f'data-testid="structuring-total">{Money(1_200_000, "AED").format("en")}</bdi>' in html
    assert all(op.reference in html for op in operations)
    assert 'data-testid="no-large-cash-reports"' in html
    assert 'href="/teller/alerts/"' in vault


def test_a_teller_cannot_see_the_alerts(client, cash):
    client.force_login(cash["teller"])

    assert client.get("/teller/alerts/").status_code == 403


# --- receipts in the customer's language ----------------------------------------------------------------

def test_a_customer_who_prefers_arabic_gets_an_arabic_receipt_in_an_english_page(client, cash):
    customer = cash["account"].customer
    customer.preferred_language = "ar"
    customer.save(update_fields=["preferred_language"])
    operation = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                  amount=Money(20_000, "AED"), denominations={"10000": 2})
    client.force_login(cash["teller"])

    html = client.get(f"/teller/receipts/{operation.reference}/").content.decode()

    assert '<html lang="en" dir="ltr">' in html
    receipt = _receipt_block(html)
    assert 'data-testid="receipt" lang="ar" dir="rtl"' in receipt
    assert "المرجع" in receipt and "Reference" not in receipt
    assert Money(20_000, "AED").format("ar") in receipt
    assert "Next customer" in html  # the page around it stays in the teller's language
    assert 'data-testid="receipt-language"' in html


# --- the window's buttons ---------------------------------------------------------------------------------

def test_the_window_links_the_other_screens(client, cash):
    client.force_login(cash["teller"])

    html = client.get("/teller/", {"account": cash["account"].number}).content.decode()

    actions = html.split('data-testid="window-actions"')[1].split("</div>")[0]
    for href in ("/teller/exchange/", f"/teller/payments/new/?account={cash['account'].number}", "/teller/rates/",
                 "/teller/journal/", "/teller/vault/"):
        assert f'href="{href}"' in actions
