import uuid

from branch_ops.models import Approval
from teller.models import CashOperation


def _key():
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def _body(account, amount, notes, **extra):
    return {"account": account.number, "amount": {"amount": amount, "currency": "AED"}, "denominations": notes,
            **extra}


def test_deposit_over_the_api_with_replay(api, cash):
    client = api(cash["teller"])
    key = _key()
    first = client.post("/api/v1/teller/deposits/", _body(cash["account"], 60_000, {"50000": 1, "10000": 1}),
                        format="json", **key)
    again = client.post("/api/v1/teller/deposits/", _body(cash["account"], 60_000, {"50000": 1, "10000": 1}),
                        format="json", **key)
    assert first.status_code == 201, first.content
    assert again.json() == first.json()
    assert CashOperation.objects.filter(kind="deposit").count() == 1
    session = client.get("/api/v1/teller/session/").json()
    assert session["cash"] == [{"currency": "AED", "cash": 810_000,
                                "holdings": {"50000": 11, "10000": 21, "1000": 50}}]


def test_over_limit_withdrawal_is_202_then_posted_when_a_supervisor_approves(api, cash):
    party = {"name": "F", "document": "P1", "document_checked": True}
    response = api(cash["teller"]).post(
        "/api/v1/teller/withdrawals/", _body(cash["account"], 600_000, {"50000": 10, "10000": 10}, party=party),
        format="json", **_key())
    assert response.status_code == 202
    assert response.json()["status"] == "awaiting_override"
    approval = Approval.objects.get(subject_id=response.json()["id"])
    decided = api(cash["supervisor"]).post(f"/api/v1/approvals/{approval.public_id}/approve/", {"reason": "ok"},
                                           format="json")
    assert decided.status_code == 200
    op = api(cash["teller"]).get(f"/api/v1/teller/operations/{response.json()['reference']}/").json()
    assert op["status"] == "posted"


def test_blind_close_returns_the_variance_only_with_the_count(api, cash):
    client = api(cash["teller"])
    closed = client.post("/api/v1/teller/session/close/",
                         {"counts": {"AED": {"50000": 10, "10000": 20, "1000": 51}}}, format="json")
    assert closed.status_code == 200
    assert closed.json()["variance"] == {"AED": 1000}
    journal = client.get("/api/v1/teller/journal/").json()
    assert {(t["kind"], t["amount"]) for t in journal["totals"]} >= {("vault_in", 750_000), ("variance", 1000)}


def test_a_csr_cannot_post_cash(api, cash, staff):
    response = api(staff["csr"]).post("/api/v1/teller/deposits/", _body(cash["account"], 1000, {"1000": 1}),
                                      format="json", **_key())
    assert response.status_code == 403
    assert not CashOperation.objects.filter(kind="deposit").exists()


def test_vault_transfer_needs_the_custodian(api, cash, staff):
    request = api(cash["teller"]).post("/api/v1/teller/vault-transfers/", {
        "direction": "to_vault", "currency": "AED", "denominations": {"50000": 2}}, format="json")
    assert request.status_code == 201
    tid = request.json()["id"]
    assert api(cash["teller"]).post(f"/api/v1/teller/vault-transfers/{tid}/confirm/").status_code == 403
    confirmed = api(cash["supervisor"]).post(f"/api/v1/teller/vault-transfers/{tid}/confirm/")
    assert confirmed.json()["status"] == "confirmed"


def test_rates_quote_and_exchange_over_the_api(api, cash, staff):
    supervisor, teller = api(cash["supervisor"]), api(cash["teller"])
    assert teller.post("/api/v1/teller/rates/", {"currency": "USD", "buy": "3.65", "sell": "3.69"},
                       format="json").status_code == 403
    assert supervisor.post("/api/v1/teller/rates/", {"currency": "USD", "buy": "3.65", "sell": "3.69"},
                           format="json").status_code == 201
    assert [r["currency"] for r in teller.get("/api/v1/teller/rates/").json()] == ["USD"]
    assert api(staff["csr"]).get("/api/v1/teller/rates/").status_code == 403
    quote = teller.post("/api/v1/teller/quotes/", {"from_currency": "USD", "to_currency": "AED",
                                                   "from_amount": {"amount": 20_000, "currency": "USD"}},
                        format="json")
    assert quote.status_code == 201
    assert quote.json()["to_amount"] == 73_000
    done = teller.post("/api/v1/teller/exchanges/", {"quote": quote.json()["id"], "denominations_in": {"10000": 2},
                                                     "denominations_out": {"50000": 1, "10000": 2, "1000": 3}},
                       format="json", **_key())
    assert done.status_code in (201, 202), done.content


def test_payment_and_reversal_request_over_the_api(api, cash):
    teller = api(cash["teller"])
    bad = teller.post("/api/v1/teller/payments/", {
        "account": cash["account"].number, "amount": {"amount": 1000, "currency": "AED"},
        "beneficiary_name": "ACME", "iban": "GB82WEST12345698765433", "bic": "NWBKGB2L"}, format="json", **_key())
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_IBAN"
    deposit = teller.post("/api/v1/teller/deposits/", _body(cash["account"], 1000, {"1000": 1}), format="json",
                          **_key()).json()
    reversal = teller.post(f"/api/v1/teller/operations/{deposit['reference']}/reversal-requests/",
                           {"reason": "wrong account"}, format="json")
    assert reversal.status_code == 201
    assert reversal.json()["kind"] == "teller.reversal"
