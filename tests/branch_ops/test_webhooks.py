"""Webhooks against a real HTTP receiver on 127.0.0.1 (stdlib http.server in a thread)."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from branch_ops.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from branch_ops.outbox import event_publish
from branch_ops.webhook_signature import sign, verify_signature
from branch_ops.webhooks import (
    backoff_seconds,
    webhook_redeliver,
    webhook_secret_rotate,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhooks_deliver_due,
    webhooks_fan_out,
)
from tests.factories import BranchFactory, make_staff
from tests.helpers import wait_until_committed_events_are_past_the_horizon


class Receiver:
    """Records every POST; answers with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


def publish(branch, event_type, n):
    with transaction.atomic():
        return event_publish(event_type=event_type, aggregate=None, aggregate_type="test.thing",
                             aggregate_id=str(n), payload={"n": n}, branch=branch)


def deliver_all(rounds=10):
    wait_until_committed_events_are_past_the_horizon()
    webhooks_fan_out()
    for _ in range(rounds):
        if not webhooks_deliver_due():
            break


@pytest.fixture
def tx_branch(transactional_db):
    return BranchFactory(code="DXB01", name="Dubai Main")


@pytest.fixture
def supervisor(tx_branch):
    return make_staff(tx_branch, "supervisor", "super.hooks")


# --- delivery, signature, order ---------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_events_are_delivered_in_order_signed_and_logged(supervisor, tx_branch, fast_retries):
    with Receiver() as rx:
        sub, secret = webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        for n in range(3):
            publish(tx_branch, "thing.happened", n)
        deliver_all()

    assert [e["payload"]["n"] for e in rx.events()] == [0, 1, 2]
    first = rx.requests[0]
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["X-BranchOps-Event-Id"] == rx.events()[0]["id"]
    assert verify_signature(secret, first["headers"]["X-BranchOps-Signature"], first["body"])
    assert not verify_signature("whsec_wrong", first["headers"]["X-BranchOps-Signature"], first["body"])
    assert not verify_signature(secret, first["headers"]["X-BranchOps-Signature"], first["body"] + b" ")
    deliveries = WebhookDelivery.objects.filter(subscription=sub)
    assert [d.status for d in deliveries] == ["delivered"] * 3
    attempt = WebhookAttempt.objects.filter(delivery__subscription=sub).first()
    assert attempt.status_code == 200 and attempt.number == 1 and attempt.latency_ms >= 0


@pytest.mark.django_db(transaction=True)
def test_events_before_the_subscription_and_of_other_types_or_branches_are_not_sent(supervisor, tx_branch,
                                                                                     fast_retries):
    other = BranchFactory(code="MIL01", name="Milano", time_zone="Europe/Rome", country="IT")
    publish(tx_branch, "thing.happened", 0)  # before the subscription
    # a subscription starts at the feed's horizon: while a parallel test's transaction is
    # open, event 0 is not behind it yet and would (rightly: never skip) be sent too
    wait_until_committed_events_are_past_the_horizon()
    with Receiver() as rx:
        webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["thing.happened"])
        publish(tx_branch, "other.type", 1)
        publish(other, "thing.happened", 2)
        publish(tx_branch, "thing.happened", 3)
        deliver_all()
    assert [e["payload"]["n"] for e in rx.events()] == [3]


@pytest.mark.django_db(transaction=True)
def test_a_500_is_retried_and_the_next_event_waits_for_it(supervisor, tx_branch, fast_retries):
    with Receiver(statuses=[500]) as rx:
        sub, secret = webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        publish(tx_branch, "thing.happened", 0)
        publish(tx_branch, "thing.happened", 1)
        wait_until_committed_events_are_past_the_horizon()
        webhooks_fan_out()
        assert webhooks_deliver_due() >= 1
        deliver_all()

    assert [e["payload"]["n"] for e in rx.events()] == [0, 0, 1]  # 0 failed, 0 again, then 1
    assert [r["headers"]["X-BranchOps-Delivery-Attempt"] for r in rx.requests] == ["1", "2", "1"]
    first = WebhookDelivery.objects.get(subscription=sub, event__payload__n=0)
    assert first.status == "delivered" and first.attempts == 2
    assert list(first.attempt_log.order_by("number").values_list("status_code", flat=True)) == [500, 200]


@pytest.mark.django_db(transaction=True)
def test_a_failing_delivery_waits_with_backoff_and_blocks_later_events(supervisor, tx_branch, settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 60
    with Receiver(statuses=[503]) as rx:
        webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        publish(tx_branch, "thing.happened", 0)
        publish(tx_branch, "thing.happened", 1)
        deliver_all()
    assert len(rx.requests) == 1  # the retry is a minute away; event 1 waits behind it
    head = WebhookDelivery.objects.order_by("event_seq").first()
    assert head.status == "pending" and head.attempts == 1
    assert 50 < (head.next_attempt_at - timezone.now()).total_seconds() <= 60


@pytest.mark.django_db(transaction=True)
def test_after_max_attempts_a_delivery_is_given_up_then_the_next_one_goes(supervisor, tx_branch, fast_retries):
    with Receiver(statuses=[500, 500, 500]) as rx:
        sub, _secret = webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        publish(tx_branch, "thing.happened", 0)
        publish(tx_branch, "thing.happened", 1)
        deliver_all()
    assert [e["payload"]["n"] for e in rx.events()] == [0, 0, 0, 1]
    assert list(WebhookDelivery.objects.filter(subscription=sub).order_by("event_seq")
                .values_list("status", flat=True)) == ["failed", "delivered"]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_receiver_is_logged_as_an_error(supervisor, tx_branch, fast_retries):
    with Receiver() as rx:
        url = rx.url
    webhook_subscription_create(actor=supervisor, url=url, event_types=["*"])  # nobody listens any more
    publish(tx_branch, "thing.happened", 0)
    deliver_all()
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3]  # WEBHOOK_MAX_ATTEMPTS, then given up
    assert all(a.status_code is None and "ConnectionRefusedError" in a.error for a in attempts)
    assert WebhookDelivery.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_manual_redeliver_sends_a_delivered_event_again_and_is_audited(supervisor, tx_branch, fast_retries, api):
    with Receiver() as rx:
        webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        publish(tx_branch, "thing.happened", 0)
        deliver_all()
        delivery = WebhookDelivery.objects.get()
        response = api(supervisor).post(f"/api/v1/webhook-deliveries/{delivery.public_id}/redeliver/")
        assert response.status_code == 202
        assert response.json()["status"] == "pending"
        deliver_all()
    assert [e["payload"]["n"] for e in rx.events()] == [0, 0]
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert AuditEvent.objects.filter(action="webhook.redelivery_requested", object_id=str(delivery.public_id)).exists()


@pytest.mark.django_db(transaction=True)
def test_deactivated_subscription_gets_nothing(supervisor, tx_branch, fast_retries):
    with Receiver() as rx:
        sub, _secret = webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        webhook_subscription_deactivate(actor=supervisor, subscription_id=sub.public_id)
        publish(tx_branch, "thing.happened", 0)
        deliver_all()
    assert rx.requests == []


# --- secret rotation ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_rotation_signs_with_both_secrets_during_the_grace_period_then_only_the_new(supervisor, tx_branch,
                                                                                    fast_retries):
    with Receiver() as rx:
        sub, old = webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        _sub, new = webhook_secret_rotate(actor=supervisor, subscription_id=sub.public_id, grace_seconds=3600)
        publish(tx_branch, "thing.happened", 0)
        deliver_all()
        during = rx.requests[-1]
        assert during["headers"]["X-BranchOps-Signature"].count("v1=") == 2
        assert verify_signature(old, during["headers"]["X-BranchOps-Signature"], during["body"])
        assert verify_signature(new, during["headers"]["X-BranchOps-Signature"], during["body"])

        WebhookSubscription.objects.filter(pk=sub.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1))  # the grace period is over
        publish(tx_branch, "thing.happened", 1)
        deliver_all()
        after = rx.requests[-1]
    assert after["headers"]["X-BranchOps-Signature"].count("v1=") == 1
    assert verify_signature(new, after["headers"]["X-BranchOps-Signature"], after["body"])
    assert not verify_signature(old, after["headers"]["X-BranchOps-Signature"], after["body"])
    assert AuditEvent.objects.filter(action="webhook.secret_rotated").count() == 1


def test_verify_signature_refuses_old_timestamps_and_garbage():
    body = b'{"a":1}'
    header = sign(["s3cret"], body, 1_000_000)
    assert verify_signature("s3cret", header, body, tolerance=300, now=1_000_100)
    assert not verify_signature("s3cret", header, body, tolerance=300, now=1_000_301)  # a replay
    assert not verify_signature("s3cret", "", body)
    assert not verify_signature("s3cret", "t=abc,v1=00", body)
    assert not verify_signature("s3cret", "v1=" + header.split("v1=")[1], body)  # no timestamp


def test_backoff_doubles_up_to_the_cap(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOK_BACKOFF_CAP_SECONDS = 60
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


# --- the API and its rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)",
                                 "example.com/hook", "http://user:pw@example.com/hook", ""])
def test_a_url_that_is_not_http_is_refused_and_nothing_is_created(api, staff, url):
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"WEBHOOK_URL_NOT_HTTP", "WEBHOOK_URL_CREDENTIALS", "VALIDATION_FAILED"}
    assert WebhookSubscription.objects.count() == 0


def test_the_database_refuses_a_non_http_url_too(staff, branch):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookSubscription.objects.create(branch=branch, url="ftp://x/y", event_types=["*"], secret="s",
                                           created_by=staff["supervisor"])


def test_supervisor_creates_lists_rotates_and_deactivates_through_the_api(api, staff):
    client = api(staff["supervisor"])
    created = client.post("/api/v1/webhooks/", {"url": "https://core.example/hooks", "event_types": ["account.opened"],
                                                "description": "core"}, format="json")
    assert created.status_code == 201
    sub_id, secret = created.json()["subscription"]["id"], created.json()["secret"]
    assert secret.startswith("whsec_")
    listed = client.get("/api/v1/webhooks/").json()
    assert [s["id"] for s in listed] == [sub_id]
    assert secret not in json.dumps(listed)  # never shown again
    rotated = client.post(f"/api/v1/webhooks/{sub_id}/rotate-secret/", {"grace_seconds": 60}, format="json")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, "")
    deactivated = client.post(f"/api/v1/webhooks/{sub_id}/deactivate/")
    assert deactivated.json()["active"] is False
    assert list(AuditEvent.objects.filter(object_id=sub_id).order_by("seq").values_list("action", flat=True)) == [
        "webhook.created", "webhook.secret_rotated", "webhook.deactivated"]


def test_create_with_the_same_idempotency_key_replays_and_creates_once(api, staff):
    client = api(staff["supervisor"])
    body = {"url": "https://core.example/hooks", "event_types": ["*"]}
    first = client.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="wh-1")
    again = client.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="wh-1")
    other = client.post("/api/v1/webhooks/", {**body, "url": "https://other.example/"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="wh-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_other_roles_cannot_manage_webhooks(api, staff, role):
    response = api(staff[role]).post("/api/v1/webhooks/", {"url": "https://x.example/", "event_types": ["*"]},
                                     format="json")
    assert response.status_code == 403
    assert WebhookSubscription.objects.count() == 0


def test_another_branchs_subscription_is_not_found(api, staff, foreign_staff):
    sub, _secret = webhook_subscription_create(actor=foreign_staff["supervisor"], url="https://x.example/",
                                               event_types=["*"])
    client = api(staff["supervisor"])
    assert client.get(f"/api/v1/webhooks/{sub.public_id}/").status_code == 404
    assert client.post(f"/api/v1/webhooks/{sub.public_id}/deactivate/").status_code == 404
    sub.refresh_from_db()
    assert sub.active is True


def test_redeliver_of_another_branchs_delivery_is_not_found(staff, foreign_staff):
    from branch_ops.errors import NotFound

    with pytest.raises(NotFound):
        webhook_redeliver(actor=staff["supervisor"], delivery_id="00000000-0000-0000-0000-000000000000")


# --- the worker runs it ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_procrastinate_task_delivers(supervisor, tx_branch, fast_retries):
    from branch_ops.tasks import webhooks_dispatch

    with Receiver() as rx:
        webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        publish(tx_branch, "thing.happened", 7)
        result = webhooks_dispatch(timestamp=int(time.time()))
    assert result == {"created": 1, "attempted": 1}
    assert [e["payload"]["n"] for e in rx.events()] == [7]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_keep_the_order_and_send_each_event_once(supervisor, tx_branch, fast_retries):
    from django.db import connection as conn

    with Receiver() as rx:
        webhook_subscription_create(actor=supervisor, url=rx.url, event_types=["*"])
        for n in range(20):
            publish(tx_branch, "thing.happened", n)
        wait_until_committed_events_are_past_the_horizon()
        webhooks_fan_out()
        errors = []

        def worker():
            try:
                for _ in range(30):
                    webhooks_deliver_due()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    assert [e["payload"]["n"] for e in rx.events()] == list(range(20))
    assert WebhookAttempt.objects.count() == 20
