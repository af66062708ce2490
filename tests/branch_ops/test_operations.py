"""Health, metrics, logs and API tokens (rotate, revoke, rate limits, branch scope)."""

import io
import json
import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from branch_ops.logs import JsonFormatter, RedactFilter, RequestIdFilter, redact
from branch_ops.models import ApiToken, Approval, AuditEvent
from branch_ops.services import api_token_issue
from tests.factories import make_staff


def pending_approval(branch, user):
    return Approval.objects.create(kind="account.open", branch=branch, subject_type="auth.user", subject_id=str(user.pk),
                                   requested_by=user, decider_roles=["supervisor"])


def beat(seconds_ago: float = 0) -> None:
    with connection.cursor() as cur:
        cur.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - make_interval(secs => %s))",
                    [seconds_ago])


# --- health ---------------------------------------------------------------------------------------

def test_live_answers_without_looking_at_anything(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_is_503_with_a_reason_when_no_worker_ever_beat(client, db):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "worker"


def test_ready_is_503_when_the_heartbeat_is_stale(client, db, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 60
    beat(seconds_ago=120)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "worker"
    assert "120s ago" in response.json()["detail"]


def test_ready_is_200_with_a_fresh_heartbeat(client, db):
    beat(seconds_ago=3)
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert 2 <= response.json()["worker_heartbeat_age_seconds"] < 30


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_beats_its_heart_and_runs_the_periodic_tasks(client):
    """The procrastinate worker registers a heartbeat row while it runs."""
    import asyncio
    import threading

    from procrastinate.contrib.django import app

    seen = {}

    async def run():
        async with app.open_async():
            worker = asyncio.ensure_future(app.run_worker_async(
                wait=True, fetch_job_polling_interval=0.2, update_heartbeat_interval=0.2, install_signal_handlers=False))
            await asyncio.sleep(2)
            seen["ready"] = await asyncio.to_thread(lambda: client.get("/health/ready").status_code)
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass

    with app.replace_connector(app.connector.get_worker_connector()):
        thread = threading.Thread(target=lambda: asyncio.run(run()))
        thread.start()
        thread.join(30)
    assert seen["ready"] == 200
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM procrastinate_periodic_defers")
        assert cur.fetchone()[0] >= 1  # the periodic tasks were deferred


# --- metrics --------------------------------------------------------------------------------------

def test_metrics_are_served_to_localhost_only(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_metrics_with_the_token_from_elsewhere(client, db, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200


def test_metrics_name_routes_not_paths_and_count_approvals_waiting(client, api, staff):
    api(staff["csr"]).get("/api/v1/me/")
    pending_approval(staff["csr"].staff.branch, staff["csr"])
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'branchops_http_request_duration_seconds_count{method="GET",route="api:me",status="200"}' in text
    assert 'branchops_approvals_waiting{branch="DXB01"} 1.0' in text
    assert "branchops_outbox_lag_seconds" in text
    assert "branchops_postings_total" in text
    assert "branchops_worker_heartbeat_age_seconds -1.0" in text


# --- logs -----------------------------------------------------------------------------------------

@pytest.fixture
def json_log():
    """The production log pipeline (filters + JSON formatter) into a buffer, at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)


PAN = "4111111111111111"
PIN = "4821"
NAME = "Fatima Al Zahra"


def test_no_pin_pan_or_customer_name_in_the_logs_of_a_request_that_carries_them(api, staff, json_log):
    client = api(staff["csr"])
    client.post("/api/v1/customers/", {"full_name": NAME, "latin_name": NAME, "document_number": PAN, "pin": PIN,
                                       "date_of_birth": "not a date"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    client.get(f"/api/v1/accounts/{PAN}/?pin={PIN}&name={NAME.replace(' ', '+')}")
    logging.getLogger("some.library").warning("card %s pin=%s", PAN, PIN)  # the filter's net
    text = json_log.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines, "the requests were logged"
    assert PAN not in text and "4111 1111" not in text
    assert f"pin={PIN}" not in text and f'"{PIN}"' not in text
    assert NAME not in text and "Fatima" not in text
    assert "[PAN]" in text


def test_log_lines_are_json_with_the_request_id_of_their_request(api, staff, json_log):
    response = api(staff["csr"]).get("/api/v1/me/", HTTP_X_REQUEST_ID="req-abc-12345")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    request_lines = [line for line in lines if line.get("logger") == "branch_ops.request"]
    assert response["X-Request-ID"] == "req-abc-12345"
    assert request_lines[-1]["request_id"] == "req-abc-12345"
    assert request_lines[-1]["route"] == "api:me" and request_lines[-1]["status"] == 200
    assert {"time", "level", "message"} <= set(request_lines[-1])


def test_the_request_id_lands_on_the_audit_event(api, staff):
    token_owner = make_staff(staff["supervisor"].staff.branch, "supervisor", "svc.audit", service=True)
    api(staff["supervisor"]).post("/api/v1/tokens/", {"service_account": token_owner.username, "name": "core"},
                                  format="json", HTTP_X_REQUEST_ID="rid-token-0001")
    assert AuditEvent.objects.get(action="api_token.issued").request_id == "rid-token-0001"


def test_redact_keeps_ordinary_numbers():
    assert redact("amount 12345 account 0123456789") == "amount 12345 account 0123456789"
    assert redact(f"pan {PAN}") == "pan [PAN]"


# --- API tokens -----------------------------------------------------------------------------------

@pytest.fixture
def service(branch):
    return make_staff(branch, "supervisor", "svc.core", service=True)


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_token_list_never_shows_the_secret_and_rotate_replaces_it(api, staff, service):
    client = api(staff["supervisor"])
    issued = client.post("/api/v1/tokens/", {"service_account": service.username, "name": "core"}, format="json").json()
    old_secret, token_id = issued["secret"], issued["token"]["id"]
    listed = client.get("/api/v1/tokens/")
    assert old_secret not in listed.content.decode()
    assert bearer(old_secret).get("/api/v1/me/").status_code == 200

    rotated = client.post(f"/api/v1/tokens/{token_id}/rotate/")
    assert rotated.status_code == 201
    new_secret = rotated.json()["secret"]
    assert rotated.json()["replaces"] == token_id
    assert bearer(old_secret).get("/api/v1/me/").status_code == 401
    assert bearer(new_secret).get("/api/v1/me/").json()["username"] == service.username
    assert client.post(f"/api/v1/tokens/{token_id}/rotate/").json()["code"] == "TOKEN_NOT_ACTIVE"
    assert AuditEvent.objects.filter(action="api_token.rotated").count() == 1


def test_a_revoked_token_is_refused_on_the_next_request(api, staff, service):
    token, raw = api_token_issue(actor=staff["supervisor"], username=service.username, name="core")
    client = bearer(raw)
    assert client.get("/api/v1/me/").status_code == 200
    assert api(staff["supervisor"]).post(f"/api/v1/tokens/{token.public_id}/revoke/").status_code == 200
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTHENTICATION_FAILED"


def test_a_token_of_branch_a_cannot_read_branch_b(staff, service, foreign_staff, other_branch):
    _token, raw = api_token_issue(actor=staff["supervisor"], username=service.username, name="core")
    foreign = pending_approval(other_branch, foreign_staff["csr"])
    client = bearer(raw)
    assert client.get(f"/api/v1/branches/{other_branch.code}/").status_code == 404
    assert client.get(f"/api/v1/approvals/{foreign.public_id}/").status_code == 404
    assert client.get("/api/v1/approvals/").json()["results"] == []
    assert client.get("/api/v1/staff/").json()["results"][0]["username"] != foreign_staff["csr"].username
    assert all(s["username"].endswith(".dxb") or s["username"] == service.username
               for s in client.get("/api/v1/staff/").json()["results"])


def test_over_the_rate_limit_is_a_429_problem_per_token(staff, service):
    _t1, limited = api_token_issue(actor=staff["supervisor"], username=service.username, name="slow",
                                   rate_limit="3/min")
    _t2, other = api_token_issue(actor=staff["supervisor"], username=service.username, name="other")
    client = bearer(limited)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "RATE_LIMITED"
    assert int(response["Retry-After"]) > 0
    assert bearer(other).get("/api/v1/me/").status_code == 200  # its own bucket


def test_a_bad_rate_limit_is_refused(staff, service):
    from branch_ops.errors import ApplicationError

    with pytest.raises(ApplicationError) as err:
        api_token_issue(actor=staff["supervisor"], username=service.username, name="x", rate_limit="lots")
    assert err.value.code == "INVALID_RATE_LIMIT"
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_only_supervisors_rotate_tokens(api, staff, service, role):
    token, raw = api_token_issue(actor=staff["supervisor"], username=service.username, name="core")
    assert api(staff[role]).post(f"/api/v1/tokens/{token.public_id}/rotate/").status_code == 403
    assert bearer(raw).get("/api/v1/me/").status_code == 200


# --- the postings counter -------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_postings_are_counted_when_they_commit_only():
    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.services import internal_account
    from branch_ops.metrics import POSTINGS
    from tests.factories import BranchFactory

    branch = BranchFactory(code="CNT01")
    suspense = internal_account(branch=branch, kind="suspense", currency="AED")
    vault = internal_account(branch=branch, kind="fx_position", currency="AED")
    from django.db import transaction

    from branch_ops.money import Money

    before = POSTINGS.labels(kind="test_count")._value.get()
    with transaction.atomic():
        ledger_post(kind="test_count", actor=None, branch=branch,
                    lines=[Line(suspense, DEBIT, Money(100, "AED")), Line(vault, CREDIT, Money(100, "AED"))])
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger_post(kind="test_count", actor=None, branch=branch,
                    lines=[Line(suspense, DEBIT, Money(100, "AED")), Line(vault, CREDIT, Money(100, "AED"))])
        raise RuntimeError("rolled back")
    assert POSTINGS.labels(kind="test_count")._value.get() == before + 1
