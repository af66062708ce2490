"""The accounts screens: search, the customer at a glance, KYC forms, account opening, the
account page with its statement, status requests and transfers. Set-up goes through the
real services (opening approved by a supervisor, money posted to the ledger)."""

import datetime as dt
import re
import uuid

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.models import BankAccount, Customer, LedgerTransaction
from accounts.services import account_open_request, internal_account, transfer_post
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval
from branch_ops.money import Money
from tests.factories import CustomerFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _active_account(staff, customer, currency="AED"):
    account = account_open_request(actor=staff["csr"], customer_number=customer.number, product="current",
                                   currency=currency)
    approval = Approval.objects.get(subject_id=str(account.public_id))
    approval_decide(approval_id=approval.public_id, actor=staff["supervisor"], approve=True, reason="documents seen")
    account.refresh_from_db()
    assert account.status == "active"
    return account


def _fund(branch, account, minor, currency="AED"):
    suspense = internal_account(branch=branch, kind="suspense", currency=currency)
    with transaction.atomic():
        ledger_post(kind="funding", description="Opening deposit", branch=branch,
                    lines=[Line(suspense, DEBIT, Money(minor, currency)), Line(account.ledger, CREDIT, Money(minor, currency))])


def _balance(account) -> int:
    account.ledger.refresh_from_db()
    return account.ledger.balance


def _kyc(**overrides):
    data = {
        "full_name": "Layla Haddad", "latin_name": "Layla Haddad", "date_of_birth": "1990-04-12",
        "document_type": "passport", "document_number": "p1234567", "document_country": "jo",
        "document_expiry": (timezone.localdate() + dt.timedelta(days=400)).isoformat(),
        "address": "Al Wasl Road 12, Dubai", "phone": "+971 50 123 4567", "email": "layla@example.com",
        "preferred_language": "ar", "risk_rating": "low", "politically_exposed": "",
    }
    data.update(overrides)
    return data


# --- search ------------------------------------------------------------------------------------------

def test_search_as_you_type_returns_a_typo_tolerant_match_as_a_partial(client, staff, branch):
    fatima = CustomerFactory(home_branch=branch, full_name="فاطمة", latin_name="Fatima")
    CustomerFactory(home_branch=branch, full_name="Marco Rossi", latin_name="")
    client.force_login(staff["teller"])

    response = client.get("/customers/search/", {"q": "Fatma"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'href="/customers/{fatima.number}/"' in html
    assert '<td dir="auto">Fatima</td>' in html
    assert "Marco Rossi" not in html
    assert response["HX-Replace-Url"] == "/customers/?q=Fatma"


def test_the_search_page_is_keyboard_first_and_works_without_javascript(client, staff, branch):
    customer = CustomerFactory(home_branch=branch, full_name="Marco Rossi", document_number="YA1234567")
    client.force_login(staff["csr"])

    empty = client.get("/customers/").content.decode()
    found = client.get("/customers/", {"q": "ya1234567"}).content.decode()

    assert re.search(r'<input type="search" name="q"[^>]* autofocus', empty)
    assert 'hx-get="/customers/search/"' in empty
    assert 'hx-trigger="input changed delay:250ms, search"' in empty
    assert f'href="/customers/{customer.number}/"' in found
    assert "Marco Rossi" in found
    assert "<script>" not in empty and " onclick=" not in empty


def test_a_search_without_matches_says_so(client, staff):
    client.force_login(staff["csr"])
    html = client.get("/customers/search/", {"q": "Nobody Here"}, **HTMX).content.decode()
    assert "No customer matches" in html


# --- the customer at a glance ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator", "supervisor"])
def test_the_customer_page_leads_to_the_service_desk_for_who_takes_requests(client, staff, branch, role):
    """The desk page (cards, cheque books, requests) was reachable from no screen a CSR starts at."""
    from branch_ops.roles import Perm

    customer = CustomerFactory(home_branch=branch)
    client.force_login(staff[role])

    html = client.get(f"/customers/{customer.number}/").content.decode()

    link = f'href="/desk/customers/{customer.number}/" data-testid="desk-link"'
    assert (link in html) is staff[role].staff.has(Perm.CREATE_REQUEST)

def test_the_customer_page_shows_balances_in_the_users_language(client, staff, branch):
    customer = CustomerFactory(home_branch=branch, full_name="سارة خليل")
    account = _active_account(staff, customer)
    _fund(branch, account, 123450)
    client.force_login(staff["csr"])

    english = client.get(f"/customers/{customer.number}/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    italian = client.get(f"/customers/{customer.number}/").content.decode()

    assert f'href="/accounts/{account.number}/"' in english
    assert '<span dir="auto" data-testid="customer-name">سارة خليل</span>' in english
    assert Money(123450, "AED").format("en") in english  # balance and available
    assert english.count(Money(123450, "AED").format("en")) == 2
    assert Money(123450, "AED").format("it") in italian
    assert "1.234,50" in italian
    assert f'href="/customers/{customer.number}/accounts/new/"' in english


def test_an_unknown_customer_is_not_found(client, staff):
    client.force_login(staff["csr"])
    response = client.get("/customers/C9999999/")
    assert response.status_code == 404
    assert "No such customer." in response.content.decode()


# --- customer forms -----------------------------------------------------------------------------------

def test_a_csr_registers_a_customer_through_the_form(client, staff):
    client.force_login(staff["csr"])

    response = client.post("/customers/new/", _kyc())

    customer = Customer.objects.get(document_number="P1234567")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.number}/"
    assert (customer.full_name, customer.document_country, customer.preferred_language, customer.politically_exposed) == (
        "Layla Haddad", "JO", "ar", False)
    assert customer.home_branch.code == "DXB01"


def test_an_expired_document_is_refused_with_the_message_and_creates_nothing(client, staff):
    client.force_login(staff["csr"])
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    response = client.post("/customers/new/", _kyc(document_expiry=yesterday))

    html = response.content.decode()
    assert response.status_code == 400
    assert "The identity document has expired." in html
    assert re.search(r'name="document_expiry"[^>]*aria-invalid="true"', html)
    assert Customer.objects.count() == 0


def test_a_document_already_registered_is_a_conflict(client, staff):
    client.force_login(staff["csr"])
    assert client.post("/customers/new/", _kyc()).status_code == 302

    response = client.post("/customers/new/", _kyc(full_name="Someone Else"))

    assert response.status_code == 409
    assert "already registered" in response.content.decode()
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("role", "status"), [("teller", 403), ("csr", 200), ("coordinator", 200), ("supervisor", 200)])
def test_only_roles_that_manage_customers_open_the_customer_form(client, staff, role, status):
    client.force_login(staff[role])
    assert client.get("/customers/new/").status_code == status


def test_a_teller_cannot_register_a_customer_by_posting_either(client, staff):
    client.force_login(staff["teller"])
    assert client.post("/customers/new/", _kyc()).status_code == 403
    assert Customer.objects.count() == 0


def test_editing_a_customer_saves_the_change(client, staff, branch):
    customer = CustomerFactory(home_branch=branch, full_name="Marco Rossi", phone="+39 02 1234567")
    client.force_login(staff["csr"])

    form = client.get(f"/customers/{customer.number}/edit/").content.decode()
    response = client.post(f"/customers/{customer.number}/edit/", _kyc(full_name="Marco Rossi", phone="+39 333 7654321"))

    assert 'value="+39 02 1234567"' in form
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+39 333 7654321"


# --- opening an account ---------------------------------------------------------------------------------

def test_opening_an_account_creates_a_pending_account_and_an_approval(client, staff, branch):
    customer = CustomerFactory(home_branch=branch)
    client.force_login(staff["csr"])
    page = client.get(f"/customers/{customer.number}/accounts/new/").content.decode()

    response = client.post(f"/customers/{customer.number}/accounts/new/", {
        "product": "savings", "currency": "AED", "overdraft_limit": "1,500.00", "reason": "salary account"})

    account = BankAccount.objects.get(customer=customer)
    approval = Approval.objects.get(subject_id=str(account.public_id))
    assert '<option value="AED" selected>' in page
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.number}/"
    assert (account.status, account.product, account.currency_id, account.ledger.overdraft_limit) == (
        "pending", "savings", "AED", 150000)
    assert (approval.kind, approval.status, approval.requested_by) == ("account.open", "pending", staff["csr"])
    followed = client.get(response["Location"]).content.decode()
    assert "awaits" in followed or "supervisor approves" in followed


def test_a_malformed_overdraft_limit_is_shown_on_its_field_and_opens_nothing(client, staff, branch):
    customer = CustomerFactory(home_branch=branch)
    client.force_login(staff["csr"])

    response = client.post(f"/customers/{customer.number}/accounts/new/", {
        "product": "current", "currency": "AED", "overdraft_limit": "12.345", "reason": ""})

    assert response.status_code == 400
    assert "at most 2 decimal places" in response.content.decode()
    assert not BankAccount.objects.filter(customer=customer).exists()


# --- the account page and its statement --------------------------------------------------------------------

def test_the_statement_shows_running_balances_that_match_the_ledger(client, staff, branch):
    customer = CustomerFactory(home_branch=branch)
    account = _active_account(staff, customer)
    other = _active_account(staff, CustomerFactory(home_branch=branch))
    _fund(branch, account, 100000)
    transfer_post(actor=staff["teller"], from_account=account.number, to_account=other.number,
                  amount=Money(25000, "AED"), description="Rent March")
    client.force_login(staff["csr"])

    html = client.get(f"/accounts/{account.number}/").content.decode()

    running = re.findall(r'data-testid="running-balance"><bdi>([^<]+)</bdi>', html)
    assert running == [Money(100000, "AED").format("en"), Money(75000, "AED").format("en")]
    assert re.search(r'data-testid="opening-balance"><bdi>' + re.escape(Money(0, "AED").format("en")), html)
    assert re.search(r'data-testid="closing-balance"><bdi>' + re.escape(Money(75000, "AED").format("en")), html)
    assert _balance(account) == 75000
    assert "Rent March" in html
    today = timezone.localdate(timezone=dt.timezone(dt.timedelta(hours=4)))  # Asia/Dubai
    assert f'name="end" value="{today.isoformat()}"' in html
    assert f'name="start" value="{(today - dt.timedelta(days=29)).isoformat()}"' in html


def test_the_statement_pages_with_a_cursor_and_htmx_appends_rows(client, staff, branch, monkeypatch):
    monkeypatch.setattr("accounts.views.STATEMENT_PAGE", 1)
    account = _active_account(staff, CustomerFactory(home_branch=branch))
    _fund(branch, account, 10000)
    _fund(branch, account, 5000)
    client.force_login(staff["csr"])

    first = client.get(f"/accounts/{account.number}/").content.decode()
    more_url = re.search(r'hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")
    rows = client.get(more_url, **HTMX).content.decode()

    assert re.findall(r'data-testid="running-balance"><bdi>([^<]+)</bdi>', first) == [Money(10000, "AED").format("en")]
    assert more_url.startswith(f"/accounts/{account.number}/?")
    assert "<html" not in rows
    assert re.findall(r'data-testid="running-balance"><bdi>([^<]+)</bdi>', rows) == [Money(15000, "AED").format("en")]
    assert "statement-more" not in rows


def test_an_end_before_the_start_is_shown_on_the_form(client, staff, branch):
    account = _active_account(staff, CustomerFactory(home_branch=branch))
    client.force_login(staff["csr"])
    response = client.get(f"/accounts/{account.number}/", {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_a_mistyped_account_number_is_refused(client, staff):
    client.force_login(staff["csr"])
    response = client.get("/accounts/000000000100/")
    assert response.status_code == 400
    assert "check digits" in response.content.decode()


def test_a_csr_asks_for_a_freeze_with_a_reason(client, staff, branch):
    account = _active_account(staff, CustomerFactory(home_branch=branch))
    client.force_login(staff["csr"])
    page = client.get(f"/accounts/{account.number}/").content.decode()

    refused = client.post(f"/accounts/{account.number}/status/", {"action": "freeze", "reason": ""})
    response = client.post(f"/accounts/{account.number}/status/", {"action": "freeze", "reason": "court order 12/2026"})
    twice = client.post(f"/accounts/{account.number}/status/", {"action": "freeze", "reason": "again"})

    assert 'value="freeze"' in page and 'value="unfreeze"' not in page
    assert refused.status_code == 400
    assert response.status_code == 302
    approval = Approval.objects.get(kind="account.freeze")
    assert (approval.status, approval.request_reason) == ("pending", "court order 12/2026")
    assert twice.status_code == 409
    assert "already waiting" in twice.content.decode()
    account.refresh_from_db()
    assert account.status == "active"  # until a supervisor approves


def test_a_teller_sees_the_account_but_cannot_ask_for_status_changes(client, staff, branch):
    account = _active_account(staff, CustomerFactory(home_branch=branch))
    client.force_login(staff["teller"])
    assert 'data-testid="status-form"' not in client.get(f"/accounts/{account.number}/").content.decode()
    assert client.post(f"/accounts/{account.number}/status/", {"action": "freeze", "reason": "x"}).status_code == 403
    assert not Approval.objects.filter(kind="account.freeze").exists()


# --- transfers -----------------------------------------------------------------------------------------

def _transfer_form(source, target, amount, key=None, currency="AED"):
    return {"from_account": source.number, "to_account": target.number, "amount": amount, "currency": currency,
            "description": "School fees", "idempotency_key": str(key or uuid.uuid4())}


def test_the_transfer_form_posts_a_transfer_and_shows_its_receipt(client, staff, branch):
    source = _active_account(staff, CustomerFactory(home_branch=branch))
    target = _active_account(staff, CustomerFactory(home_branch=branch))
    _fund(branch, source, 100000)
    client.force_login(staff["teller"])
    form = client.get("/transfers/new/").content.decode()

    response = client.post("/transfers/new/", _transfer_form(source, target, "250.50"))

    html = response.content.decode()
    tx = LedgerTransaction.objects.get(kind="transfer")
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', form)
    assert response.status_code == 200
    assert str(tx.public_id) in html
    assert Money(25050, "AED").format("en") in html
    assert source.number in html and target.number in html
    assert (_balance(source), _balance(target)) == (100000 - 25050, 25050)


def test_sending_the_same_transfer_form_twice_posts_once(client, staff, branch):
    source = _active_account(staff, CustomerFactory(home_branch=branch))
    target = _active_account(staff, CustomerFactory(home_branch=branch))
    _fund(branch, source, 100000)
    client.force_login(staff["teller"])
    data = _transfer_form(source, target, "100")

    first = client.post("/transfers/new/", data)
    second = client.post("/transfers/new/", data)

    tx = LedgerTransaction.objects.get(kind="transfer")
    assert str(tx.public_id) in first.content.decode() and str(tx.public_id) in second.content.decode()
    assert "already been posted" in second.content.decode()
    assert _balance(source) == 90000


def test_insufficient_funds_shows_the_error_and_posts_nothing(client, staff, branch):
    source = _active_account(staff, CustomerFactory(home_branch=branch))
    target = _active_account(staff, CustomerFactory(home_branch=branch))
    _fund(branch, source, 10000)
    client.force_login(staff["teller"])
    data = _transfer_form(source, target, "100.01")

    response = client.post("/transfers/new/", data)

    html = response.content.decode()
    assert response.status_code == 409
    assert "Not enough money in the account" in html
    assert not LedgerTransaction.objects.filter(kind="transfer").exists()
    assert (_balance(source), _balance(target)) == (10000, 0)
    assert f'value="{data["idempotency_key"]}"' not in html  # the corrected form gets a new key


def test_a_mistyped_account_number_is_shown_on_its_field(client, staff, branch):
    source = _active_account(staff, CustomerFactory(home_branch=branch))
    client.force_login(staff["teller"])
    data = _transfer_form(source, source, "10")
    data["to_account"] = "123456789012"

    response = client.post("/transfers/new/", data)

    assert response.status_code == 400
    assert re.search(r'name="to_account"[^>]*aria-invalid="true"', response.content.decode())


def test_a_supervisor_does_not_post_transfers(client, staff):
    client.force_login(staff["supervisor"])
    assert client.get("/transfers/new/").status_code == 403


# --- navigation and languages ------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "customers", "transfer"), [
    ("teller", True, True), ("csr", True, True), ("supervisor", True, False),
])
def test_navigation_shows_customers_and_transfer_by_role(client, staff, role, customers, transfer):
    client.force_login(staff[role])
    html = client.get("/").content.decode()
    assert ('href="/customers/"' in html) == customers
    assert ('href="/transfers/new/"' in html) == transfer


def test_an_arabic_page_renders_right_to_left(client, staff, branch):
    customer = CustomerFactory(home_branch=branch, full_name="فاطمة الزهراء", latin_name="Fatima Alzahra")
    client.force_login(staff["csr"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = client.get("/customers/", {"q": customer.number}).content.decode()

    assert 'lang="ar" dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html
    assert '<td dir="auto"><a href="/customers/' in html
    assert "فاطمة الزهراء" in html
