"""The teller window's screens: the drawer's cash in view, deposits and withdrawals through
the forms (the same services as the API), receipts, the blind close, vault transfers and the
journal. Set-up goes through the real services (``cash`` opens a drawer with 7,500.00 AED
in notes and funds an account with 10,000.00 AED)."""

import re
import uuid

import pytest
from django.conf import settings

from branch_ops.models import Approval, IdempotencyRecord
from branch_ops.money import Money
from teller.models import CashOperation, Drawer, DrawerSession, VaultTransfer
from teller.services import cash_deposit_post, vault_transfer_request
from tests.teller.conftest import setup_branch_cash

HTMX = {"HTTP_HX_REQUEST": "true"}
DRAWER_CASH = Money(750_000, "AED").format("en")  # "AED 7,500.00"


def _masked(account) -> str:
    return f"•••• {account.number[-4:]}"


def _deposit(account, amount="200.00", notes=None, **extra):
    data = {"account": account.number, "amount": amount, "idempotency_key": str(uuid.uuid4()),
            **{f"d_{value}": qty for value, qty in (notes or {"10000": 2}).items()}}
    data.update(extra)
    return data


def _withdrawal(account, amount="200.00", notes=None, **extra):
    data = _deposit(account, amount, notes, document="P1234567", document_checked="on")
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _balance(account) -> int:
    account.ledger.refresh_from_db()
    return account.ledger.balance


# --- the window ------------------------------------------------------------------------------------

def test_the_window_shows_the_drawer_cash_and_the_session(client, cash):
    client.force_login(cash["teller"])

    response = client.get("/teller/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<bdi>{DRAWER_CASH}</bdi>' in html
    assert 'data-testid="session-status">Open<' in html
    assert 'data-testid="open-drawer"' not in html
    assert 'href="/teller/open/"' in html  # the sub-navigation, not the prominent button


def test_without_an_open_session_the_window_offers_to_open_the_drawer(client, staff, branch):
    setup_branch_cash(branch)
    Drawer.objects.create(branch=branch, code="W9", teller=staff["teller"])
    client.force_login(staff["teller"])

    html = client.get("/teller/").content.decode()

    assert 'data-testid="open-drawer"' in html
    assert 'class="btn btn-lg btn-success" href="/teller/open/"' in html


def test_the_finder_lists_active_accounts_that_reload_the_window(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.get("/teller/find/", {"q": account.customer.number}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'href="/teller/?account={account.number}"' in html
    assert f"<td>{account.currency_id}</td>" in html
    assert account.customer.full_name in html


def test_the_finder_input_searches_as_you_type(client, cash):
    client.force_login(cash["teller"])

    html = client.get("/teller/").content.decode()

    assert 'hx-get="/teller/find/"' in html
    assert 'hx-target="#teller-find-results"' in html
    assert "<script>" not in html and "onclick" not in html


def test_a_chosen_account_shows_its_holder_balance_and_both_forms(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    html = client.get("/teller/", {"account": account.number}).content.decode()

    assert f'<span dir="auto" data-testid="holder-name">{account.customer.full_name}</span>' in html
    assert Money(1_000_000, "AED").format("en") in html  # available
    assert 'data-testid="deposit-form"' in html and 'data-testid="withdrawal-form"' in html
    assert 'name="d_50000"' in html and 'name="d_25"' in html
    assert 'id="dep_d_50000"' in html and 'id="wd_d_50000"' in html
    assert "Specimen signature: not on file" in html
    assert re.search(r'<input type="text" name="amount" inputmode="decimal"[^>]* autofocus [^>]*id="dep_amount">', html)


# --- deposits and withdrawals --------------------------------------------------------------------

def test_a_deposit_through_the_form_posts_and_shows_the_receipt_with_the_masked_account(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/deposits/", _deposit(account, "200.00", {"10000": 2}, description="Salary"))

    html = response.content.decode()
    operation = CashOperation.objects.get(kind="deposit")
    assert response.status_code == 200
    assert (operation.status, operation.amount, operation.denominations) == ("posted", 20_000, {"10000": 2})
    assert _balance(account) == 1_020_000
    assert 'data-testid="receipt"' in html
    assert f'data-testid="receipt-account">{_masked(account)}</bdi>' in html
    assert account.number not in html
    assert f'data-testid="receipt-reference">{operation.reference}</bdi>' in html
    assert f'data-testid="receipt-amount">{Money(20_000, "AED").format("en")}</bdi>' in html
    assert "css/receipt.css" in html
    assert "COPY" not in html


def test_sending_the_same_deposit_form_twice_posts_once(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])
    data = _deposit(account)

    first = client.post("/teller/deposits/", data)
    second = client.post("/teller/deposits/", data)

    assert (first.status_code, second.status_code) == (200, 200)
    assert CashOperation.objects.filter(kind="deposit").count() == 1
    assert _balance(account) == 1_020_000
    assert "nothing was posted again" in second.content.decode()
    assert IdempotencyRecord.objects.filter(key=data["idempotency_key"]).count() == 1


def test_an_amount_in_italian_is_parsed_in_italian(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    response = client.post("/teller/deposits/", _deposit(account, "1.200,00", {"50000": 2, "10000": 2}))

    assert response.status_code == 200
    assert CashOperation.objects.get(kind="deposit").amount == 120_000


def test_a_withdrawal_without_the_document_checked_box_is_refused_beside_the_field(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/withdrawals/", _withdrawal(account, document_checked=None))

    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="wd_document_checked"[^>]*>\s*<label[^>]*>Identity document checked</label>\s*'
                     r'<div class="invalid-feedback d-block" data-testid="field-error">Check the customer&#x27;s '
                     r'identity document and tick this box before paying out.</div>', html)
    assert not CashOperation.objects.filter(account=account).exists()
    assert _balance(account) == 1_000_000


def test_a_withdrawal_with_the_box_ticked_pays_out_and_shows_the_receipt(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/withdrawals/", _withdrawal(account, "150.00", {"10000": 1, "1000": 5}))

    assert response.status_code == 200
    operation = CashOperation.objects.get(kind="withdrawal")
    assert (operation.status, operation.party["document"], operation.party["document_checked"]) == (
        "posted", "P1234567", True)
    assert _balance(account) == 985_000
    assert 'data-testid="receipt"' in response.content.decode()


def test_notes_that_do_not_add_up_are_refused_with_the_count_mismatch_message(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])
    key = str(uuid.uuid4())

    response = client.post("/teller/deposits/", _deposit(account, "200.00", {"10000": 1}, idempotency_key=key))

    html = response.content.decode()
    assert response.status_code == 400
    assert ('data-testid="denominations-error">The notes and coins add up to AED\xa0100.00, not AED\xa0200.00.</div>'
            in html)
    assert not CashOperation.objects.filter(account=account).exists()
    assert f'value="{key}"' not in html  # a fresh key for the corrected form


def test_an_amount_that_cannot_be_read_is_shown_beside_the_amount(client, cash):
    client.force_login(cash["teller"])

    response = client.post("/teller/deposits/", _deposit(cash["account"], "two hundred"))

    assert response.status_code == 400
    assert "“two hundred” is not a valid amount." in response.content.decode()
    assert not CashOperation.objects.filter(account=cash["account"]).exists()


def test_an_over_limit_withdrawal_shows_the_waiting_state_with_its_approval(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/withdrawals/",
                           _withdrawal(account, "6,000.00", {"50000": 10, "10000": 10}))

    html = response.content.decode()
    operation = CashOperation.objects.get(kind="withdrawal")
    approval = Approval.objects.get(subject_id=str(operation.public_id))
    assert response.status_code == 202
    assert operation.status == "awaiting_override"
    assert 'data-testid="waiting"' in html
    assert "Waiting for a supervisor" in html
    assert f"<bdi>{operation.reference}</bdi>" in html
    assert f'href="/approvals/{approval.public_id}/"' in html
    assert 'hx-get="/teller/operations/" hx-trigger="every 5s"' in html
    assert _balance(account) == 1_000_000


def test_the_operations_list_polls_only_while_an_override_is_pending(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])
    client.post("/teller/withdrawals/", _withdrawal(account, "6,000.00", {"50000": 10, "10000": 10}))
    operation = CashOperation.objects.get(kind="withdrawal")

    waiting = client.get("/teller/operations/", **HTMX).content.decode()
    approval = Approval.objects.get(subject_id=str(operation.public_id))
    client.force_login(cash["supervisor"])
    client.post(f"/approvals/{approval.public_id}/", {"decision": "approve", "reason": "ID seen"})
    client.force_login(cash["teller"])
    done = client.get("/teller/operations/", **HTMX).content.decode()

    assert 'hx-trigger="every 5s"' in waiting and "Waiting for a supervisor" in waiting
    assert 'hx-trigger="every 5s"' not in done
    assert f'href="/teller/receipts/{operation.reference}/?copy=1"' in done


# --- receipts ---------------------------------------------------------------------------------------

def test_a_reprint_is_marked_copy(client, cash):
    operation = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                  amount=Money(20_000, "AED"), denominations={"10000": 2})
    client.force_login(cash["teller"])

    original = client.get(f"/teller/receipts/{operation.reference}/").content.decode()
    copy = client.get(f"/teller/receipts/{operation.reference}/", {"copy": "1"}).content.decode()

    assert 'data-testid="receipt-copy">COPY</p>' in copy
    assert "receipt-copy" not in original
    assert _masked(cash["account"]) in copy


def test_a_receipt_is_in_the_language_of_the_page_and_the_branch_time_zone(client, cash):
    operation = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                  amount=Money(20_000, "AED"), denominations={"10000": 2})
    client.force_login(cash["teller"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = client.get(f"/teller/receipts/{operation.reference}/").content.decode()

    assert 'lang="ar" dir="rtl"' in html
    assert Money(20_000, "AED").format("ar") in html
    assert "Asia/Dubai" in html


def test_another_branch_s_receipt_does_not_exist(client, cash, foreign_staff):
    operation = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                  amount=Money(20_000, "AED"), denominations={"10000": 2})
    client.force_login(foreign_staff["teller"])

    assert client.get(f"/teller/receipts/{operation.reference}/").status_code == 404


# --- opening and the blind close ------------------------------------------------------------------

def test_opening_with_a_count_shows_the_difference_flagged(client, staff, branch):
    setup_branch_cash(branch)
    Drawer.objects.create(branch=branch, code="W9", teller=staff["teller"])
    client.force_login(staff["teller"])
    page = client.get("/teller/open/").content.decode()

    response = client.post("/teller/open/", {"d_AED_10000": "1"}, follow=True)

    html = response.content.decode()
    session = DrawerSession.objects.get(teller=staff["teller"])
    assert 'name="d_AED_10000"' in page and 'name="d_USD_10000"' in page
    assert session.status == "open"
    assert session.open_difference == {"AED": {"counted": 10_000, "expected": 0, "last_close": None}}
    assert 'data-testid="open-difference"' in html
    assert Money(10_000, "AED").format("en") in html


def test_the_close_page_shows_only_the_count_then_the_variance(client, cash):
    client.force_login(cash["teller"])

    page = client.get("/teller/close/")
    response = client.post("/teller/close/", {"d_AED_50000": "10", "d_AED_10000": "20", "d_AED_1000": "49"},
                           follow=True)

    before = page.content.decode()
    after = response.content.decode()
    assert page.status_code == 200
    assert "7,500.00" not in before and "7500" not in before
    assert 'name="d_AED_50000"' in before
    session = DrawerSession.objects.get(pk=cash["session"].pk)
    assert (session.status, session.variance) == ("closed", {"AED": -1_000})
    assert response.status_code == 200
    assert f'data-testid="variance"><bdi>{Money(-1_000, "AED").format("en")}</bdi>' in after
    assert "The sign-off is waiting for a supervisor." in after
    approval = Approval.objects.get(subject_id=str(session.public_id))
    assert f'href="/approvals/{approval.public_id}/"' in after


def test_a_count_that_cannot_be_read_is_refused_and_the_drawer_stays_open(client, cash):
    client.force_login(cash["teller"])

    response = client.post("/teller/close/", {"d_AED_50000": "-1"})

    assert response.status_code == 400
    assert "7,500.00" not in response.content.decode()
    assert DrawerSession.objects.get(pk=cash["session"].pk).status == "open"


# --- vault -------------------------------------------------------------------------------------------

def test_a_teller_asks_the_vault_and_the_supervisor_confirms_on_the_pending_page(client, cash):
    client.force_login(cash["teller"])
    asked = client.post("/teller/vault/", {"currency": "AED", "direction": "to_drawer", "d_10000": "5"})
    transfer = VaultTransfer.objects.get(status="requested")

    client.force_login(cash["supervisor"])
    pending = client.get("/teller/vault/pending/").content.decode()
    confirmed = client.post(f"/teller/vault/{transfer.public_id}/decide/", {"decision": "confirm"})

    assert asked.status_code == 302
    assert (transfer.direction, transfer.amount, transfer.denominations) == ("to_drawer", 50_000, {"10000": 5})
    assert f'action="/teller/vault/{transfer.public_id}/decide/"' in pending
    assert Money(50_000, "AED").format("en") in pending
    assert confirmed.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.status, transfer.confirmed_by) == ("confirmed", cash["supervisor"])
    client.force_login(cash["teller"])
    assert Money(800_000, "AED").format("en") in client.get("/teller/").content.decode()


def test_the_supervisor_rejects_a_vault_transfer_and_nothing_moves(client, cash):
    transfer = vault_transfer_request(actor=cash["teller"], direction="to_vault", currency="AED",
                                      denominations={"50000": 2})
    client.force_login(cash["supervisor"])

    client.post(f"/teller/vault/{transfer.public_id}/decide/", {"decision": "reject"})

    transfer.refresh_from_db()
    assert transfer.status == "rejected"
    assert not CashOperation.objects.filter(kind="vault_out").exists()


def test_a_teller_cannot_see_the_vault_pending_page(client, cash):
    client.force_login(cash["teller"])

    assert client.get("/teller/vault/pending/").status_code == 403


def test_a_vault_request_for_notes_the_drawer_does_not_hold_is_refused_beside_the_grid(client, cash):
    client.force_login(cash["teller"])

    response = client.post("/teller/vault/", {"currency": "AED", "direction": "to_vault", "d_100000": "1"})

    assert response.status_code == 400
    assert 'data-testid="denominations-error">The drawer holds only 0' in response.content.decode()
    assert not VaultTransfer.objects.filter(direction="to_vault").exists()


# --- journal -----------------------------------------------------------------------------------------

def test_the_journal_lists_the_session_s_operations_with_totals(client, cash):
    account = cash["account"]
    first = cash_deposit_post(actor=cash["teller"], account_number=account.number, amount=Money(20_000, "AED"),
                              denominations={"10000": 2})
    second = cash_deposit_post(actor=cash["teller"], account_number=account.number, amount=Money(5_000, "AED"),
                               denominations={"1000": 5})
    client.force_login(cash["teller"])

    html = client.get("/teller/journal/").content.decode()

    assert f'href="/teller/receipts/{first.reference}/?copy=1"' in html
    assert second.reference in html
    assert html.count(_masked(account)) == 2
    assert account.number not in html
    assert "Cash from the vault" in html  # the fixture's vault transfer
    totals = html.split('data-testid="journal-totals"')[1]
    assert re.search(r"<td>Cash deposit</td><td>AED</td><td>Posted</td>\s*<td class=\"text-end\"><bdi>2</bdi></td>"
                     r"<td class=\"text-end money\"><bdi>AED\xa0250.00</bdi></td>", totals)
    assert "css/receipt.css" in html


# --- roles, navigation, languages ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["csr", "coordinator", "supervisor"])
def test_only_a_teller_gets_the_window(client, staff, role):
    client.force_login(staff[role])

    assert client.get("/teller/").status_code == 403
    assert client.post("/teller/deposits/", {}).status_code == 403


@pytest.mark.parametrize(("role", "window", "vault"), [
    ("teller", True, False), ("csr", False, False), ("supervisor", False, True),
])
def test_navigation_shows_the_window_and_the_vault_by_role(client, staff, role, window, vault):
    client.force_login(staff[role])

    html = client.get("/").content.decode()

    assert ('href="/teller/"' in html) == window
    assert ('href="/teller/vault/pending/"' in html) == vault


def test_the_window_renders_right_to_left_in_arabic(client, cash):
    client.force_login(cash["teller"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = client.get("/teller/", {"account": cash["account"].number}).content.decode()

    assert 'lang="ar" dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html
    assert f"<bdi>{Money(750_000, 'AED').format('ar')}</bdi>" in html
    assert '<span dir="auto" data-testid="holder-name">' in html


# --- more edges ------------------------------------------------------------------------------------------

def test_large_cash_without_the_report_details_is_refused_beside_the_missing_field(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/deposits/", _deposit(account, "10,000.00", {"100000": 10},
                                                         name="Omar Said", document="784-1990-1234567-1"))

    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<details class="mb-3" open>.*id="dep_occupation">\s*<div class="invalid-feedback d-block" '
                     r'data-testid="field-error">Cash of this size needs', html, re.S)
    assert not CashOperation.objects.filter(account=account).exists()


def test_an_account_that_does_not_exist_is_reported_on_the_window(client, cash):
    client.force_login(cash["teller"])

    response = client.get("/teller/", {"account": "000100000000"})

    assert response.status_code in (400, 404)
    assert 'data-testid="account-error"' in response.content.decode()
    assert 'data-testid="deposit-form"' not in response.content.decode()


def test_the_vault_page_shows_the_grid_of_the_currency_picked(client, cash):
    client.force_login(cash["teller"])

    html = client.get("/teller/vault/", {"currency": "USD"}).content.decode()

    assert 'data-currency="USD"' in html
    assert 'name="d_10000"' in html and 'name="d_1"' in html  # 100 USD note ... 1 cent coin
    assert 'class="form-select js-autosubmit"' in html
    assert 'data-testid="my-vault-transfers"' in html and "Vault to drawer" in html  # the fixture's transfer


def test_the_vault_pending_list_refreshes_itself_as_a_partial(client, cash):
    vault_transfer_request(actor=cash["teller"], direction="to_drawer", currency="AED", denominations={"10000": 1})
    client.force_login(cash["supervisor"])

    html = client.get("/teller/vault/pending/", **HTMX).content.decode()

    assert "<html" not in html
    assert 'hx-get="/teller/vault/pending/" hx-trigger="every 10s"' in html
    assert html.count('data-testid="vault-transfer"') == 1


# --- what the deposit form audits and reads ------------------------------------------------------

def _viewed(account) -> int:
    from branch_ops.models import AuditEvent

    return AuditEvent.objects.filter(action="account.viewed", customer_ref=account.customer.number).count()


def test_the_window_audits_the_account_it_shows_and_a_posted_deposit_is_audited_by_its_service(client, cash):
    from branch_ops.models import AuditEvent

    account = cash["account"]
    client.force_login(cash["teller"])
    assert client.get(f"/teller/?account={account.number}").status_code == 200
    assert _viewed(account) == 1

    response = client.post("/teller/deposits/", _deposit(account))

    operation = CashOperation.objects.get(kind="deposit")
    assert 'data-testid="receipt"' in response.content.decode()
    assert _viewed(account) == 1  # no second look: the receipt shows the operation, audited in its transaction
    posted = AuditEvent.objects.get(action="cash.deposit_posted")
    assert (posted.actor, posted.customer_ref, posted.after["account"], posted.after["reference"]) == (
        cash["teller"], account.customer.number, account.number, operation.reference)


def test_a_deposit_form_reads_the_account_and_the_notes_once(client, cash):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = cash["account"]
    client.force_login(cash["teller"])
    client.post("/teller/deposits/", _deposit(account))  # the first of the day creates what the next ones reuse

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/teller/deposits/", _deposit(account))

    assert 'data-testid="receipt"' in response.content.decode()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len([q for q in reads if 'FROM "accounts_bankaccount"' in q]) == 1
    assert len([q for q in reads if 'FROM "teller_denomination"' in q]) == 1
    # the header's branch is the operation's, read with the drawer session
    assert [q for q in reads if 'FROM "branch_ops_branch"' in q] == []
    whoami = re.search(r'data-testid="whoami">\s*(.*?)\s*</span>', response.content.decode(), re.S).group(1)
    assert whoami.endswith(f"· {cash['session'].drawer.branch.code}")


def test_a_deposit_form_shown_again_with_the_account_audits_the_look(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    refused = client.post("/teller/deposits/", _deposit(account, "200.00", {"10000": 1}))
    invalid = client.post("/teller/deposits/", _deposit(account, "not money"))

    assert (refused.status_code, invalid.status_code) == (400, 400)
    assert _viewed(account) == 2  # the window showed the account's balances and holders twice


def test_an_over_limit_deposit_shows_the_window_waiting_and_audits_the_look(client, cash):
    account = cash["account"]
    client.force_login(cash["teller"])

    response = client.post("/teller/deposits/", _deposit(account, "6,000.00", {"50000": 12}))

    assert response.status_code == 202
    assert _viewed(account) == 1


def test_the_receipt_is_rendered_from_the_posted_operation_without_reading_it_again(client, cash):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = cash["account"]
    client.force_login(cash["teller"])
    client.post("/teller/deposits/", _deposit(account))  # the first of the day creates what the next ones reuse

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/teller/deposits/", _deposit(account))

    assert 'data-testid="receipt"' in response.content.decode()
    operation_reads = [q["sql"] for q in queries.captured_queries
                       if q["sql"].startswith("SELECT") and 'FROM "teller_cashoperation"' in q["sql"]]
    assert operation_reads == []
    assert not [q for q in queries.captured_queries if 'UPDATE "django_session"' in q["sql"]]
