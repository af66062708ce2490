"""Idempotency-Key on the creating and money-moving POSTs that took no key before: the same
key and body twice -> the same response (the second marked Idempotent-Replayed) and one row;
the same key with another body -> 409 IDEMPOTENCY_KEY_REUSED and nothing more."""

import base64

import pytest

from accounts.models import SpecimenSignature
from branch_ops.models import ApiToken, Approval, IdempotencyRecord, StaffProfile
from branch_ops.money import Money
from branch_ops.services import service_account_create
from complaints.models import ComplaintEntry, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import complaint_log
from customer_service.models import Card
from customer_service.services import request_claim, request_create
from teller.models import CashOperation, DrawerSession, ExchangeQuote, ExchangeRate, VaultTransfer
from teller.services import cash_deposit_post, rate_set, vault_transfer_request
from tests.accounts.conftest import fund, open_account
from tests.teller.conftest import open_drawer, setup_branch_cash

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
ID = {"document": "P1234567", "document_checked": True}


@pytest.fixture
def world(staff, branch):
    setup_branch_cash(branch)
    session = open_drawer(staff["teller"], staff["supervisor"], "W1")
    account = fund(open_account(staff["csr"], staff["supervisor"]), 1_000_000)
    empty = open_account(staff["csr"], staff["supervisor"], customer=account.customer)
    return {"session": session, "account": account, "empty": empty, **staff}


def _deposit(w):
    return cash_deposit_post(actor=w["teller"], account_number=w["account"].number, amount=Money(10_000, "AED"),
                             denominations={"10000": 1}, party=ID)


def _card_request(w):
    sr = request_create(actor=w["csr"], kind="card_issue", customer_number=w["account"].customer.number,
                        account_number=w["account"].number, data={})
    request_claim(actor=w["csr"], number=sr.number)
    return sr.number


def _complaint(w):
    from complaints.models import Category

    complaints_reference_load(Regime, Category)
    return complaint_log(actor=w["csr"], channel="branch", category="accounts.charges", description="Charged twice",
                         customer_number=w["account"].customer.number, account_number=w["account"].number,
                         amount_disputed=Money(5_000, "AED")).number


def _upheld_complaint(w):
    from complaints.services import complaint_decide

    number = _complaint(w)
    complaint_decide(actor=w["csr"], number=number, decision="upheld", reason="ok")
    return number


def _usd_rate(w):
    rate_set(actor=w["supervisor"], currency="USD", buy="3.65", sell="3.69")


def _vault_request(w):
    return str(vault_transfer_request(actor=w["teller"], direction="to_drawer", currency="AED",
                                      denominations={"10000": 1}).public_id)


def _robot(w):
    service_account_create(actor=w["supervisor"], username="core.dxb", role="teller")


# name: (user, prepare(w) -> path args, path, body, another body, count of the rows it makes)
CASES = {
    "freeze request": ("csr", lambda w: {"n": w["account"].number}, "/api/v1/accounts/{n}/freeze-requests/",
                       {"reason": "police letter"}, {"reason": "another letter"},
                       lambda: Approval.objects.filter(kind="account.freeze").count()),
    "close request": ("csr", lambda w: {"n": w["empty"].number}, "/api/v1/accounts/{n}/close-requests/",
                      {"reason": "moving"}, {"reason": "moving away"},
                      lambda: Approval.objects.filter(kind="account.close").count()),
    "specimen signature": ("csr", lambda w: {"n": w["account"].customer.number}, "/api/v1/customers/{n}/signature/",
                           {"image": PNG}, {"image": base64.b64encode(b"\xff\xd8\xff" + b"\x01" * 9).decode()},
                           lambda: SpecimenSignature.objects.count()),
    "reversal request": ("teller", lambda w: {"r": _deposit(w).reference},
                         "/api/v1/teller/operations/{r}/reversal-requests/", {"reason": "wrong account"},
                         {"reason": "wrong amount"}, lambda: Approval.objects.filter(kind="teller.reversal").count()),
    "rate": ("supervisor", lambda w: {}, "/api/v1/teller/rates/", {"currency": "USD", "buy": "3.65", "sell": "3.69"},
             {"currency": "USD", "buy": "3.66", "sell": "3.69"}, lambda: ExchangeRate.objects.count()),
    "quote": ("teller", _usd_rate, "/api/v1/teller/quotes/",
              {"from_currency": "USD", "to_currency": "AED", "from_amount": {"amount": 10_000, "currency": "USD"}},
              {"from_currency": "USD", "to_currency": "AED", "from_amount": {"amount": 20_000, "currency": "USD"}},
              lambda: ExchangeQuote.objects.count()),
    "vault transfer request": ("teller", lambda w: {}, "/api/v1/teller/vault-transfers/",
                               {"direction": "to_drawer", "currency": "AED", "denominations": {"10000": 2}},
                               {"direction": "to_drawer", "currency": "AED", "denominations": {"10000": 3}},
                               lambda: VaultTransfer.objects.count()),
    "vault transfer confirm": ("supervisor", lambda w: {"t": _vault_request(w)},
                               "/api/v1/teller/vault-transfers/{t}/confirm/", {}, None,
                               lambda: CashOperation.objects.filter(kind="vault_in").count()),
    "drawer close": ("teller", lambda w: {}, "/api/v1/teller/session/close/",
                     {"counts": {"AED": {"50000": 10, "10000": 20, "1000": 49}}},
                     {"counts": {"AED": {"50000": 10, "10000": 20, "1000": 48}}},
                     lambda: CashOperation.objects.filter(kind="variance").count()
                     + DrawerSession.objects.filter(status="closed").count()),
    "token issue": ("supervisor", _robot, "/api/v1/tokens/", {"service_account": "core.dxb", "name": "core"},
                    {"service_account": "core.dxb", "name": "core 2"}, lambda: ApiToken.objects.count()),
    "request fulfil": ("csr", lambda w: {"n": _card_request(w)}, "/api/v1/service-requests/{n}/fulfil/",
                       {"data": {"masked_pan": "411111******1111"}}, {"data": {"masked_pan": "411111******2222"}},
                       lambda: Card.objects.count()),
    "complaint note": ("csr", lambda w: {"n": _complaint(w)}, "/api/v1/complaints/{n}/note/",
                       {"text": "called the customer"}, {"text": "called again"},
                       lambda: ComplaintEntry.objects.filter(kind="note").count()),
    "complaint redress": ("csr", lambda w: {"n": _upheld_complaint(w)}, "/api/v1/complaints/{n}/redress/",
                          {"amount": {"amount": 1_000, "currency": "AED"}},
                          {"amount": {"amount": 2_000, "currency": "AED"}},
                          lambda: ComplaintEntry.objects.filter(kind__startswith="redress").count()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_key_twice_gives_the_same_response_and_one_row(api, world, case):
    role, prepare, path, body, other, count = CASES[case]
    args = prepare(world) or {}
    url = path.format(**args)
    client = api(world[role])
    before = count()
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{case}")
    assert first.status_code in (200, 201, 202), first.content
    made = count() - before
    assert made >= 1
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{case}")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert count() - before == made
    assert IdempotencyRecord.objects.filter(key=f"key-{case}").count() == 1
    if other is not None:
        conflict = client.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{case}")
        assert conflict.status_code == 409 and conflict.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert count() - before == made


def test_without_a_key_the_new_endpoints_work_as_before(api, world):
    response = api(world["csr"]).post(f"/api/v1/accounts/{world['account'].number}/freeze-requests/",
                                      {"reason": "police letter"}, format="json")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert not IdempotencyRecord.objects.exists()


def test_a_replayed_token_issue_shows_the_same_secret_and_makes_one_token(api, world):
    _robot(world)
    client = api(world["supervisor"])
    body = {"service_account": "core.dxb", "name": "core"}
    first = client.post("/api/v1/tokens/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1").json()
    again = client.post("/api/v1/tokens/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1").json()
    assert first["secret"] == again["secret"]
    assert ApiToken.objects.filter(user__username="core.dxb").count() == 1
    assert StaffProfile.objects.filter(kind="service").count() == 1
