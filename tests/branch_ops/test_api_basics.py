import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from branch_ops.models import ApiToken, OutboxEvent
from branch_ops.outbox import event_publish
from branch_ops.services import api_token_issue, api_token_revoke, service_account_create
from tests.helpers import wait_until_committed_events_are_past_the_horizon

# --- problem documents -------------------------------------------------------------------------------

def test_validation_errors_are_problem_documents_with_field_errors(api, staff):
    response = api(staff["csr"]).post("/api/v1/accounts/opening-requests/", {"product": "gold", "currency": "EU"},
                                      format="json", HTTP_IDEMPOTENCY_KEY="k")
    body = response.json()
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors", "request_id"}
    assert body["status"] == 400
    assert body["code"] == "VALIDATION_FAILED"
    assert {e["field"] for e in body["errors"]} == {"customer_number", "product", "currency"}
    assert body["request_id"] == response["X-Request-ID"]


def test_unknown_api_url_is_a_problem_document(api, staff):
    response = api(staff["csr"]).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_malformed_json_is_a_problem_document(api, staff):
    response = api(staff["supervisor"]).post("/api/v1/service-accounts/", "{not json", content_type="application/json",
                                             HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_REQUEST"


def test_problem_details_are_in_the_callers_language(api, staff):
    body = {"customer_number": "X1", "product": "current", "currency": "AED"}
    response = api(staff["csr"]).post("/api/v1/accounts/opening-requests/", body, format="json",
                                      HTTP_ACCEPT_LANGUAGE="it")
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert response.json()["detail"] != ("This request needs an Idempotency-Key header (a unique value per "
                                         "operation, e.g. a UUID).")


def test_an_invalid_account_number_fails_its_check_digits(api, staff):
    response = api(staff["teller"]).get("/api/v1/accounts/100000100099/")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ACCOUNT_NUMBER"


# --- tokens ------------------------------------------------------------------------------------------

@pytest.fixture
def robot(staff):
    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller", description="core")
    return api_token_issue(actor=staff["supervisor"], username="core.dxb", name="core banking")


def test_a_service_account_token_authenticates_with_its_role(client, robot):
    _token, raw = robot
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["kind"]) == ("teller", "service")
    assert client.get("/api/v1/audit/events/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403


def test_the_secret_is_never_stored_or_listed(api, staff, robot):
    token, raw = robot
    assert raw not in str(ApiToken.objects.values_list())
    listed = api(staff["supervisor"]).get("/api/v1/tokens/").json()["results"]
    assert raw not in str(listed)
    assert listed[0]["prefix"] == token.prefix


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown"])
def test_revoked_expired_or_unknown_tokens_are_refused(client, staff, robot, how):
    token, raw = robot
    if how == "revoked":
        api_token_revoke(actor=staff["supervisor"], token_id=token.public_id)
    elif how == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        raw = raw[:-4] + "xxxx"
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTHENTICATION_FAILED"


def test_a_service_account_cannot_sign_in_to_the_screens(client, robot):
    response = client.post("/login/", {"username": "core.dxb", "password": ""})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- event feed --------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the feed shows committed transactions only
def test_event_feed_pages_with_a_cursor_and_shows_only_my_branch(api, staff, branch, other_branch):
    for i in range(5):
        with transaction.atomic():
            event_publish(event_type="test.happened", aggregate=None, aggregate_type="test", aggregate_id=str(i),
                          payload={"i": i}, branch=branch)
    with transaction.atomic():
        event_publish(event_type="test.elsewhere", aggregate=None, aggregate_type="test", aggregate_id="x",
                      payload={}, branch=other_branch)
    client = api(staff["supervisor"])
    wait_until_committed_events_are_past_the_horizon()

    first = client.get("/api/v1/events/?limit=3").json()
    second = client.get(f"/api/v1/events/?limit=3&after={first['next_cursor']}").json()
    third = client.get(f"/api/v1/events/?limit=3&after={second['next_cursor']}").json()

    ids = [e["aggregate_id"] for e in first["events"] + second["events"] if e["type"] == "test.happened"]
    assert ids == ["0", "1", "2", "3", "4"]
    assert all(e["branch"] == "DXB01" for e in first["events"] + second["events"])
    assert third == {"events": [], "next_cursor": second["next_cursor"]}


def test_a_bad_cursor_is_a_400(api, staff):
    response = api(staff["supervisor"]).get("/api/v1/events/?after=%%%")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CURSOR"


@pytest.mark.django_db(transaction=True)
def test_the_feed_never_skips_an_event_of_a_transaction_that_commits_late(client):
    """A started first, B committed first: the feed holds B back until A is done, so a
    client that read B could never miss A."""
    from rest_framework.test import APIClient

    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="FEED1")
    supervisor = make_staff(branch, "supervisor", "sup.feed")
    api_client = APIClient()
    api_client.force_authenticate(supervisor)
    a_written, release_a = threading.Event(), threading.Event()

    def slow_transaction():
        try:
            with transaction.atomic():
                event_publish(event_type="test.a", aggregate=None, aggregate_type="t", aggregate_id="A",
                              payload={}, branch=branch)
                a_written.set()
                release_a.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_transaction)
    thread.start()
    a_written.wait(10)
    with transaction.atomic():
        event_publish(event_type="test.b", aggregate=None, aggregate_type="t", aggregate_id="B", payload={},
                      branch=branch)

    while_a_open = api_client.get("/api/v1/events/").json()
    release_a.set()
    thread.join()
    wait_until_committed_events_are_past_the_horizon()
    after = api_client.get("/api/v1/events/").json()

    assert [e["aggregate_id"] for e in while_a_open["events"]] == []
    assert [e["aggregate_id"] for e in after["events"]] == ["A", "B"]
    assert OutboxEvent.objects.count() == 2


def test_the_openapi_document_is_valid_and_generates_without_warnings(db):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi: 3" in out.getvalue()
    assert "/api/v1/teller/deposits/" in out.getvalue()
