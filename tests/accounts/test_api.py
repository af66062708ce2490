import datetime as dt
import uuid

import pytest
from django.utils import timezone

from accounts.models import BankAccount, Customer, LedgerAccount
from branch_ops.models import Approval, AuditEvent
from tests.accounts.conftest import fund, open_account
from tests.factories import CustomerFactory

CUSTOMER = {
    "full_name": "فاطمة الزهراء", "latin_name": "Fatima Al Zahra", "date_of_birth": "1988-04-12",
    "document_type": "passport", "document_number": "p1234567", "document_country": "ae",
    "document_expiry": "2031-01-31", "phone": "+971501234567", "email": "fatima@example.com",
    "preferred_language": "ar",
}


def _key():
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def test_a_csr_registers_a_customer_and_finds_them_in_any_script_with_typos(api, staff):
    client = api(staff["csr"])
    created = client.post("/api/v1/customers/", CUSTOMER, format="json", **_key())
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert (created.json()["document_number"], created.json()["document_country"]) == ("P1234567", "AE")

    for query in ["فاطمة", "Fatma Zahra", "fatima", "P1234567", "0501234567", number]:
        found = client.get("/api/v1/customers/", {"q": query}).json()
        assert [c["number"] for c in found][:1] == [number], query
    assert AuditEvent.objects.filter(action="customer.searched", actor=staff["csr"]).count() == 6


def test_a_document_already_registered_is_refused(api, staff):
    client = api(staff["csr"])
    client.post("/api/v1/customers/", CUSTOMER, format="json", **_key())
    again = client.post("/api/v1/customers/", {**CUSTOMER, "full_name": "Someone Else"}, format="json", **_key())
    assert again.status_code == 409
    assert again.json()["code"] == "DOCUMENT_ALREADY_REGISTERED"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"document_expiry": "2001-01-01"}, "DOCUMENT_EXPIRED"),
    ({"date_of_birth": "2999-01-01"}, "INVALID_DATE_OF_BIRTH"),
    ({"email": "not-an-email"}, "INVALID_EMAIL"),
    ({"document_country": "ARE"}, "VALIDATION_FAILED"),
    ({"full_name": "  "}, "VALIDATION_FAILED"),
])
def test_bad_customer_data_is_refused_with_a_code_and_nothing_written(api, staff, change, code):
    response = api(staff["csr"]).post("/api/v1/customers/", {**CUSTOMER, **change}, format="json", **_key())
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Customer.objects.exists()


def test_a_teller_cannot_register_customers(api, staff):
    response = api(staff["teller"]).post("/api/v1/customers/", CUSTOMER, format="json", **_key())
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_updating_a_customer_audits_before_and_after(api, staff):
    client = api(staff["csr"])
    number = client.post("/api/v1/customers/", CUSTOMER, format="json", **_key()).json()["number"]
    response = client.patch(f"/api/v1/customers/{number}/", {"phone": "+971509999999"}, format="json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="customer.updated")
    assert (event.before, event.after, event.customer_ref) == ({"phone": "+971501234567"}, {"phone": "+971509999999"},
                                                              number)


def test_customer_at_a_glance_shows_accounts_with_balances_and_is_audited(api, staff):
    account = fund(open_account(staff["csr"], staff["supervisor"]), 123_456)
    response = api(staff["teller"]).get(f"/api/v1/customers/{account.customer.number}/")
    body = response.json()
    assert response.status_code == 200
    assert body["accounts"] == [{
        "number": account.number, "product": "current", "currency": "AED", "status": "active",
        "balance": {"amount": 123_456, "currency": "AED", "formatted": "AED\xa01,234.56"},
        "available": {"amount": 123_456, "currency": "AED", "formatted": "AED\xa01,234.56"},
    }]
    assert AuditEvent.objects.filter(action="customer.viewed", customer_ref=account.customer.number).exists()


def test_staff_of_another_branch_can_serve_the_banks_customers(api, staff, foreign_staff):
    account = open_account(staff["csr"], staff["supervisor"])
    assert api(foreign_staff["teller"]).get(f"/api/v1/customers/{account.customer.number}/").status_code == 200


def test_balance_and_statement_over_the_api(api, staff):
    a = fund(open_account(staff["csr"], staff["supervisor"], overdraft=10_000), 50_000)
    b = open_account(staff["csr"], staff["supervisor"])
    teller = api(staff["teller"])
    posted = teller.post("/api/v1/transfers/", {"from_account": a.number, "to_account": b.number,
                                                "amount": {"amount": 20_000, "currency": "AED"},
                                                "description": "rent"}, format="json", **_key())
    assert posted.status_code == 201, posted.content
    assert posted.json()["amount"] == {"amount": 20_000, "currency": "AED"}

    balance = teller.get(f"/api/v1/accounts/{a.number}/balance/").json()
    assert (balance["balance"]["amount"], balance["available"]["amount"]) == (30_000, 40_000)

    today = timezone.localdate()
    st = teller.get(f"/api/v1/accounts/{a.number}/statement/",
                    {"start": (today - dt.timedelta(days=2)).isoformat(),
                     "end": (today + dt.timedelta(days=1)).isoformat()}).json()
    assert (st["opening_balance"], st["closing_balance"]) == (0, 30_000)
    assert [(ln["credit"], ln["debit"], ln["balance"]) for ln in st["lines"]] == [(50_000, 0, 50_000), (0, 20_000, 30_000)]


@pytest.mark.parametrize(("amount", "status", "code"), [
    ({"amount": 10.5, "currency": "AED"}, 400, "VALIDATION_FAILED"),
    ({"amount": "1000", "currency": "AED"}, 400, "VALIDATION_FAILED"),
    ({"amount": 1000, "currency": "XYZ"}, 400, "VALIDATION_FAILED"),
    ({"amount": 1000, "currency": "USD"}, 400, "CURRENCY_MISMATCH"),
    ({"amount": 0, "currency": "AED"}, 400, "AMOUNT_NOT_POSITIVE"),
    ({"amount": 10**9, "currency": "AED"}, 409, "INSUFFICIENT_FUNDS"),
])
def test_bad_transfer_amounts_are_refused(api, staff, amount, status, code):
    a = fund(open_account(staff["csr"], staff["supervisor"]), 50_000)
    b = open_account(staff["csr"], staff["supervisor"])
    response = api(staff["teller"]).post("/api/v1/transfers/", {"from_account": a.number, "to_account": b.number,
                                                               "amount": amount}, format="json", **_key())
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_transfer_takes_account_numbers_typed_in_groups(api, staff, accounts_pair):
    """The check digits accept "0001 0000 0114"; the transfer posts to that account (it was a
    500 once the number went into the posting statement as typed)."""
    a, b = accounts_pair
    grouped = " ".join(b.number[i:i + 4] for i in range(0, 12, 4))
    response = api(staff["teller"]).post("/api/v1/transfers/", {"from_account": a.number, "to_account": grouped,
                                                               "amount": {"amount": 700, "currency": "AED"}},
                                         format="json", **_key())
    assert response.status_code == 201, response.content
    assert LedgerAccount.objects.get(pk=b.ledger_id).balance == 700
    a_grouped = " ".join(a.number[i:i + 4] for i in range(0, 12, 4))
    same = api(staff["teller"]).post("/api/v1/transfers/", {"from_account": a.number, "to_account": a_grouped,
                                                           "amount": {"amount": 1, "currency": "AED"}},
                                     format="json", **_key())
    assert same.json()["code"] == "SAME_ACCOUNT"


def test_freeze_needs_a_supervisor_and_then_blocks_debits(api, staff, accounts_pair):
    a, b = accounts_pair
    requested = api(staff["csr"]).post(f"/api/v1/accounts/{a.number}/freeze-requests/", {"reason": "court order"},
                                       format="json")
    assert requested.status_code == 201
    assert BankAccount.objects.get(pk=a.pk).status == "active"  # pending is not done
    assert api(staff["coordinator"]).post(f"/api/v1/approvals/{requested.json()['id']}/approve/", {},
                                          format="json").status_code == 403
    again = api(staff["csr"]).post(f"/api/v1/accounts/{a.number}/freeze-requests/", {"reason": "x"}, format="json")
    assert again.json()["code"] == "REQUEST_ALREADY_PENDING"
    api(staff["supervisor"]).post(f"/api/v1/approvals/{requested.json()['id']}/approve/", {}, format="json")
    assert BankAccount.objects.get(pk=a.pk).status == "frozen"
    refused = api(staff["teller"]).post("/api/v1/transfers/", {"from_account": a.number, "to_account": b.number,
                                                               "amount": {"amount": 1, "currency": "AED"}},
                                        format="json", **_key())
    assert refused.json()["code"] == "ACCOUNT_FROZEN"


def test_closing_needs_a_zero_balance(api, staff, accounts_pair):
    a, b = accounts_pair
    refused = api(staff["csr"]).post(f"/api/v1/accounts/{a.number}/close-requests/", {"reason": "moving away"},
                                     format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "BALANCE_NOT_ZERO"
    ok = api(staff["csr"]).post(f"/api/v1/accounts/{b.number}/close-requests/", {"reason": "not used"}, format="json")
    assert ok.status_code == 201
    api(staff["supervisor"]).post(f"/api/v1/approvals/{ok.json()['id']}/approve/", {}, format="json")
    assert BankAccount.objects.get(pk=b.pk).status == "closed"
    assert Approval.objects.get(public_id=ok.json()["id"]).status == "approved"


def test_account_opening_with_overdraft_and_joint_holder(api, staff, branch):
    first, second = CustomerFactory(home_branch=branch), CustomerFactory(home_branch=branch)
    response = api(staff["csr"]).post("/api/v1/accounts/opening-requests/", {
        "customer_number": first.number, "product": "current", "currency": "AED",
        "overdraft_limit": {"amount": 500_000, "currency": "AED"}, "joint_holders": [second.number]},
        format="json", **_key())
    assert response.status_code == 201, response.content
    account = BankAccount.objects.get(number=response.json()["number"])
    assert account.ledger.overdraft_limit == 500_000
    assert set(account.holders.values_list("number", flat=True)) == {first.number, second.number}


def test_a_misspelt_first_name_finds_the_full_name(api, staff, branch):
    wanted = CustomerFactory(full_name="Fatima Hassan", home_branch=branch)
    CustomerFactory(full_name="Marco Esposito", home_branch=branch)
    found = api(staff["teller"]).get("/api/v1/customers/", {"q": "Fatma"}).json()
    assert [c["number"] for c in found] == [wanted.number]


def test_looking_at_an_account_is_audited(api, staff):
    account = open_account(staff["csr"], staff["supervisor"])
    api(staff["teller"]).get(f"/api/v1/accounts/{account.number}/balance/")
    assert AuditEvent.objects.filter(action="account.viewed", actor=staff["teller"],
                                     customer_ref=account.customer.number).exists()


def test_the_statement_api_ends_on_the_branchs_today_like_the_screen(api, staff, monkeypatch):
    """Without dates, the API's statement ends on the branch's today (as the screen's does): at
    21:00 UTC that is already the next day in Dubai, whose entries the server's date would miss."""
    a = open_account(staff["csr"], staff["supervisor"])
    assert a.branch.time_zone == "Asia/Dubai"
    moment = dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    st = api(staff["teller"]).get(f"/api/v1/accounts/{a.number}/statement/").json()
    assert (st["start"], st["end"]) == ("2026-02-09", "2026-03-11")


def test_a_transfer_replayed_by_its_key_answers_the_same_and_posts_once(api, staff, accounts_pair):
    """The record of a transfer's key is written by the posting statement and names the
    transaction; a replay renders the response again from it, equal to the first one."""
    from accounts.models import LedgerTransaction
    from branch_ops.models import IdempotencyRecord

    a, b = accounts_pair
    body = {"from_account": a.number, "to_account": b.number, "amount": {"amount": 1_250, "currency": "AED"},
            "description": "rent"}
    key = _key()
    first = api(staff["teller"]).post("/api/v1/transfers/", body, format="json", **key)
    again = api(staff["teller"]).post("/api/v1/transfers/", body, format="json", **key)
    other = api(staff["teller"]).post("/api/v1/transfers/", {**body, "description": "not rent"}, format="json",
                                      **key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert (other.status_code, other.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    tx = LedgerTransaction.objects.get(kind="transfer")
    assert first.json()["id"] == str(tx.public_id)
    record = IdempotencyRecord.objects.get(key=key["HTTP_IDEMPOTENCY_KEY"])
    assert (record.result_type, record.result_id, record.user_id) == ("accounts.ledgertransaction",
                                                                    str(tx.public_id), staff["teller"].pk)
    assert LedgerAccount.objects.get(pk=b.ledger_id).balance == 1_250


def test_a_refused_transfer_leaves_its_key_unused(api, staff, accounts_pair):
    from branch_ops.models import IdempotencyRecord

    a, b = accounts_pair
    key = _key()
    body = {"from_account": a.number, "to_account": b.number, "amount": {"amount": 10**9, "currency": "AED"}}
    refused = api(staff["teller"]).post("/api/v1/transfers/", body, format="json", **key)
    assert refused.json()["code"] == "INSUFFICIENT_FUNDS"
    assert not IdempotencyRecord.objects.filter(key=key["HTTP_IDEMPOTENCY_KEY"]).exists()
    corrected = api(staff["teller"]).post("/api/v1/transfers/", {**body, "amount": {"amount": 10, "currency": "AED"}},
                                          format="json", **key)
    assert corrected.status_code == 201
