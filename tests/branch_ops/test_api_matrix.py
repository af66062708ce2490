"""Role x endpoint matrix: every role, every platform endpoint, the exact allowed set;
a refused call changes nothing."""

import uuid

import pytest

from accounts.models import BankAccount, Customer, LedgerEntry
from branch_ops.models import ApiToken, Approval, AuditEvent, IdempotencyRecord, OutboxEvent, StaffProfile
from tests.factories import CustomerFactory

ROLES = ["teller", "csr", "coordinator", "supervisor"]
ALL = set(ROLES)


def _state():
    return (
        BankAccount.objects.count(), Approval.objects.count(), Approval.objects.filter(status="pending").count(),
        AuditEvent.objects.count(), OutboxEvent.objects.count(), StaffProfile.objects.count(),
        ApiToken.objects.count(), IdempotencyRecord.objects.count(), Customer.objects.count(),
        LedgerEntry.objects.count(), list(Customer.objects.order_by("pk").values_list("phone", flat=True)),
    )


@pytest.fixture
def world(branch, other_branch, staff, foreign_staff):
    from accounts.services import account_open_request
    from branch_ops.services import api_token_issue, service_account_create

    customer = CustomerFactory(home_branch=branch)
    mine = account_open_request(actor=staff["csr"], customer_number=customer.number, product="current",
                                currency="AED")
    foreign_customer = CustomerFactory(home_branch=other_branch)
    theirs = account_open_request(actor=foreign_staff["csr"], customer_number=foreign_customer.number,
                                  product="current", currency="EUR")
    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    token, _raw = api_token_issue(actor=staff["supervisor"], username="core.dxb", name="core")
    from tests.accounts.conftest import fund, open_account

    active = fund(open_account(staff["csr"], staff["supervisor2"]), 10_000)
    target = open_account(staff["csr"], staff["supervisor2"])
    return {
        "active": active,
        "target": target,
        "customer": customer,
        "approval": Approval.objects.get(subject_id=str(mine.public_id)),
        "foreign_approval": Approval.objects.get(subject_id=str(theirs.public_id)),
        "account": mine,
        "token": token,
    }


# (method, url template, body, roles allowed, success status)
ENDPOINTS = [
    ("get", "/api/v1/me/", None, ALL, 200),
    ("get", "/api/v1/branches/DXB01/", None, ALL, 200),
    ("get", "/api/v1/branches/MIL01/", None, set(), 404),
    ("get", "/api/v1/staff/", None, {"coordinator", "supervisor"}, 200),
    ("get", "/api/v1/approvals/", None, ALL, 200),
    ("get", "/api/v1/approvals/{approval}/", None, {"csr", "coordinator", "supervisor"}, 200),
    ("get", "/api/v1/approvals/{foreign_approval}/", None, set(), 404),
    ("post", "/api/v1/approvals/{approval}/approve/", {"reason": "ok"}, {"supervisor"}, 200),
    ("post", "/api/v1/approvals/{approval}/reject/", {"reason": "no"}, {"supervisor"}, 200),
    ("post", "/api/v1/approvals/{foreign_approval}/approve/", {"reason": "x"}, set(), 404),
    ("post", "/api/v1/approvals/{approval}/cancel/", {}, {"csr"}, 200),
    ("get", "/api/v1/audit/events/", None, {"supervisor"}, 200),
    ("get", "/api/v1/audit/verification/", None, {"supervisor"}, 200),
    ("get", "/api/v1/events/", None, {"supervisor"}, 200),
    ("get", "/api/v1/service-accounts/", None, {"supervisor"}, 200),
    ("post", "/api/v1/service-accounts/", {"username": "robot.new", "role": "teller"}, {"supervisor"}, 201),
    ("get", "/api/v1/tokens/", None, {"supervisor"}, 200),
    ("post", "/api/v1/tokens/", {"service_account": "core.dxb", "name": "x"}, {"supervisor"}, 201),
    ("post", "/api/v1/tokens/{token}/revoke/", None, {"supervisor"}, 200),
    ("post", "/api/v1/accounts/opening-requests/", "open", {"csr", "coordinator", "supervisor"}, 201),
    ("get", "/api/v1/accounts/{account}/", None, ALL, 200),
    ("get", "/api/v1/accounts/{active}/balance/", None, ALL, 200),
    ("get", "/api/v1/accounts/{active}/statement/", None, ALL, 200),
    ("post", "/api/v1/accounts/{active}/freeze-requests/", {"reason": "fraud suspected"},
     {"csr", "coordinator", "supervisor"}, 201),
    ("get", "/api/v1/customers/?q=Fatima", None, ALL, 200),
    ("get", "/api/v1/customers/{customer}/", None, ALL, 200),
    ("post", "/api/v1/customers/", {"full_name": "Ahmed Mansour"}, {"csr", "coordinator", "supervisor"}, 201),
    ("patch", "/api/v1/customers/{customer}/", {"phone": "+971500000000"}, {"csr", "coordinator", "supervisor"}, 200),
    ("post", "/api/v1/transfers/", "transfer", {"teller", "csr", "coordinator"}, 201),
]


def _url(template, world):
    return template.format(approval=world["approval"].public_id, foreign_approval=world["foreign_approval"].public_id,
                           token=world["token"].public_id, account=world["account"].number,
                           active=world["active"].number, customer=world["customer"].number)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template", "body", "allowed", "ok"), ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, *_ in ENDPOINTS])
def test_role_endpoint_matrix(api, staff, world, role, method, template, body, allowed, ok):
    if body == "open":
        body = {"customer_number": world["customer"].number, "product": "savings", "currency": "USD"}
    elif body == "transfer":
        body = {"from_account": world["active"].number, "to_account": world["target"].number,
                "amount": {"amount": 100, "currency": "AED"}}
    before = _state()
    response = getattr(api(staff[role]), method)(_url(template, world), body, format="json",
                                                  HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    if role in allowed:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code in {403, 404}, response.content
        if ok == 404:
            assert response.status_code == 404  # other branch's objects do not exist for you
        assert response["Content-Type"] == "application/problem+json"
        assert _state() == before


@pytest.mark.parametrize(("method", "template", "body", "allowed", "ok"), ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, *_ in ENDPOINTS])
def test_anonymous_callers_get_401_and_change_nothing(api, world, method, template, body, allowed, ok):
    before = _state()
    response = getattr(api(), method)(_url(template, world), {} if body else None, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"
    assert _state() == before
