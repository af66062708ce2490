"""The SSRF guard of webhooks: a URL that is not http(s), or whose host is or resolves to a
private, loopback, link-local or metadata address, is refused at subscription with a clear
error; a delivery resolves again and refuses such a target too (no request is made).
``WEBHOOK_ALLOW_PRIVATE_TARGETS`` (off by default) lets a bank reach an internal receiver."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings

from branch_ops.models import AuditEvent, WebhookSubscription
from branch_ops.webhooks import _Job, _post, address_refused, webhook_subscription_create

PRIVATE_URLS = [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://api.localhost/hook", "http://[::1]/hook",
    "http://10.0.0.5/hook", "http://172.16.3.4/hook", "http://192.168.1.10/hook", "http://169.254.169.254/latest/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "http://0/", "http://2130706433/", "http://0x7f000001/", "http://100.64.0.1/",
    "https://[fe80::1]/hook",
]


def test_the_production_default_refuses_private_targets():
    assert django_settings.WEBHOOK_ALLOW_PRIVATE_TARGETS is False


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_private_loopback_link_local_or_metadata_target_is_refused_with_a_clear_error(api, staff, url):
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "WEBHOOK_URL_PRIVATE"
    assert body["errors"] == [{"field": "url", "message": body["detail"], "code": "WEBHOOK_URL_PRIVATE"}]
    assert "private" in body["detail"]
    assert WebhookSubscription.objects.count() == 0
    assert not AuditEvent.objects.filter(action="webhook.created").exists()


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "gopher://127.0.0.1/", "file:///etc/passwd",
                                 "http://[::1/hook", "http://example.com:99999/", "http://example.com:port/"])
def test_a_url_that_is_not_http_or_malformed_is_refused(api, staff, url):
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "WEBHOOK_URL_NOT_HTTP"
    assert WebhookSubscription.objects.count() == 0


def test_a_name_that_resolves_to_a_private_address_is_refused(api, staff, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))])
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": "https://hooks.partner.example/in",
                                                                    "event_types": ["*"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "WEBHOOK_URL_PRIVATE"


def test_a_public_target_is_accepted(api, staff, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))])
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": "https://hooks.partner.example/in",
                                                                    "event_types": ["*"]}, format="json")
    assert response.status_code == 201


def test_the_setting_allows_a_private_target(api, staff, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    response = api(staff["supervisor"]).post("/api/v1/webhooks/", {"url": "http://10.0.0.5/hook",
                                                                    "event_types": ["*"]}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(("address", "refused"), [
    ("127.0.0.1", True), ("10.0.0.1", True), ("169.254.169.254", True), ("::1", True), ("fe80::1", True),
    ("::ffff:10.0.0.1", True), ("224.0.0.1", True), ("93.184.216.34", False), ("2606:4700:4700::1111", False),
])
def test_address_refused(address, refused):
    assert address_refused(address) is refused


class _Receiver:
    def __init__(self):
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.hits += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


def test_a_delivery_to_a_target_that_now_resolves_privately_is_refused_and_not_sent(settings):
    """A subscription made while a name resolved publicly (or with the setting on) gets no
    request once the target is private: the worker checks each time, and connects to the
    address it checked."""
    receiver = _Receiver()
    job = _Job(delivery_id=0, attempt=1, url=receiver.url, secrets=["whsec_x"], event_public_id="e", body=b"{}")
    try:
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
        status, error = _post(job)
        assert (status, receiver.hits) == (None, 0)
        assert error.startswith("refused:") and "127.0.0.1" in error
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
        assert _post(job) == (200, "")
        assert receiver.hits == 1
    finally:
        receiver.server.shutdown()


def test_the_service_refuses_too_not_only_the_api(staff):
    from branch_ops.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        webhook_subscription_create(actor=staff["supervisor"], url="http://169.254.169.254/", event_types=["*"])
    assert refused.value.code == "WEBHOOK_URL_PRIVATE"
