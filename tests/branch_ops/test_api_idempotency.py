import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import BankAccount
from branch_ops.models import Approval, IdempotencyRecord
from tests.factories import CustomerFactory

URL = "/api/v1/accounts/opening-requests/"


@pytest.fixture
def customer(branch):
    return CustomerFactory(home_branch=branch)


def _body(customer, currency="AED"):
    return {"customer_number": customer.number, "product": "current", "currency": currency}


def test_same_key_and_body_replays_the_stored_response_and_opens_one_account(api, staff, customer):
    client = api(staff["csr"])
    key = str(uuid.uuid4())

    first = client.post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert BankAccount.objects.filter(customer=customer).count() == 1
    assert Approval.objects.filter(kind="account.open").count() == 1


def test_same_key_with_another_body_is_a_409_and_changes_nothing(api, staff, customer):
    client = api(staff["csr"])
    key = str(uuid.uuid4())
    client.post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)

    response = client.post(URL, _body(customer, "USD"), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert list(BankAccount.objects.values_list("currency", flat=True)) == ["AED"]


def test_a_missing_key_is_refused_with_a_clear_message(api, staff, customer):
    response = api(staff["csr"]).post(URL, _body(customer), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert "Idempotency-Key" in response.json()["detail"]
    assert not BankAccount.objects.exists()


def test_a_failed_request_stores_nothing_so_a_corrected_retry_with_the_same_key_works(api, staff, customer):
    client = api(staff["csr"])
    key = "retry-after-fix"
    bad = client.post(URL, {**_body(customer), "currency": "XYZ"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert bad.status_code == 400
    assert bad.json()["code"] == "UNKNOWN_CURRENCY"
    assert not IdempotencyRecord.objects.exists()


def test_keys_belong_to_their_user(api, staff, customer):
    key = "shared-key"
    a = api(staff["csr"]).post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)
    b = api(staff["coordinator"]).post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["number"] != b.json()["number"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_open_one_account():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="IDEM1")
    csr = make_staff(branch, "csr", "csr.idem")
    customer = CustomerFactory(home_branch=branch)
    start = threading.Barrier(4)
    results = []

    def post():
        client = APIClient()
        client.force_authenticate(csr)
        try:
            start.wait()
            r = client.post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="same-key-4x")
            results.append((r.status_code, r.json()["number"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(results) == 4
    assert {status for status, _ in results} == {201}
    assert len({number for _, number in results}) == 1
    assert BankAccount.objects.filter(customer=customer).count() == 1


def test_approve_accepts_a_key_and_replays_the_decision(api, staff, customer):
    created = api(staff["csr"]).post(URL, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k1").json()
    approval = Approval.objects.get(subject_id=created["id"])
    client = api(staff["supervisor"])
    url = f"/api/v1/approvals/{approval.public_id}/approve/"

    first = client.post(url, {"reason": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="d1")
    again = client.post(url, {"reason": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="d1")
    fresh = client.post(url, {"reason": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="d2")

    assert first.status_code == 200
    assert again.json() == first.json()
    assert fresh.status_code == 409
    assert fresh.json()["code"] == "APPROVAL_ALREADY_DECIDED"
