"""The client address behind reverse proxies (``branch_ops.client_address``): X-Forwarded-For
counts only when it came from a trusted proxy, the same for the sign-in lockout (axes), the
bearer-token failure limit, DRF throttling and /metrics."""

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory

from branch_ops.client_address import client_ip
from branch_ops.throttling import TokenRateThrottle
from tests.factories import PASSWORD

PROXY = "10.0.0.2"
PROXY_NET = "10.0.0.0/24"


def _request(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = [PROXY_NET]
    cache.clear()
    yield settings
    cache.clear()


# --- the rule ---------------------------------------------------------------------------------

def test_by_default_no_proxy_is_trusted_and_the_header_is_ignored(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert client_ip(_request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(behind_one_proxy):
    assert client_ip(_request(PROXY, "203.0.113.5")) == "203.0.113.5"


def test_a_spoofed_header_from_an_untrusted_client_is_ignored(behind_one_proxy):
    # the client reached the app directly (not through the proxy) and wrote its own header
    assert client_ip(_request("203.0.113.66", "198.51.100.1")) == "203.0.113.66"


def test_addresses_the_client_wrote_in_front_of_the_proxys_are_ignored(behind_one_proxy):
    # nginx's $proxy_add_x_forwarded_for keeps what the client sent and appends the real address
    assert client_ip(_request(PROXY, "198.51.100.1, 203.0.113.5")) == "203.0.113.5"


def test_two_proxies_each_must_be_trusted(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    settings.TRUSTED_PROXY_NETWORKS = ["10.0.0.0/24", "10.0.1.0/24"]
    assert client_ip(_request("10.0.0.2", "198.51.100.1, 203.0.113.5, 10.0.1.9")) == "203.0.113.5"
    # the second hop is not a proxy of ours: that hop is the client, whatever it claimed before
    assert client_ip(_request("10.0.0.2", "198.51.100.1, 203.0.113.77")) == "203.0.113.77"


def test_garbage_in_the_header_falls_back_to_the_proxy(behind_one_proxy):
    assert client_ip(_request(PROXY, "not-an-address")) == PROXY
    assert client_ip(_request(PROXY, "")) == PROXY
    assert client_ip(_request(PROXY)) == PROXY


def test_ports_and_ipv6_are_understood(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = ["::1/128", "127.0.0.1/32"]
    assert client_ip(_request("::1", "[2001:db8::7]:4431")) == "2001:db8::7"
    assert client_ip(_request("127.0.0.1", "203.0.113.5:5123")) == "203.0.113.5"
    assert client_ip(_request("::ffff:127.0.0.1", "203.0.113.5")) == "203.0.113.5"


def test_axes_and_drf_throttling_use_the_same_address(behind_one_proxy):
    trusted = _request(PROXY, "203.0.113.5")
    spoofed = _request("203.0.113.66", "198.51.100.1")
    assert get_client_ip_address(trusted) == TokenRateThrottle().get_ident(trusted) == "203.0.113.5"
    assert get_client_ip_address(spoofed) == TokenRateThrottle().get_ident(spoofed) == "203.0.113.66"


# --- through the real pages -------------------------------------------------------------------

def _login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_the_lockout_counts_the_client_behind_the_proxy_not_the_proxy(staff, behind_one_proxy):
    proxy = Client(REMOTE_ADDR=PROXY)
    for _ in range(behind_one_proxy.AXES_FAILURE_LIMIT):
        _login(proxy, "teller.dxb", "wrong-password", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]
    assert _login(proxy, "teller.dxb", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # the teller at the branch, through the same proxy, is not locked out by the guesser
    assert _login(proxy, "teller.dxb", PASSWORD, HTTP_X_FORWARDED_FOR="10.20.0.15").status_code == 302


def test_a_guesser_cannot_escape_the_lockout_with_a_spoofed_header(staff, behind_one_proxy):
    # straight to the app, a new X-Forwarded-For on every try: all of them count for its own address
    guesser = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(behind_one_proxy.AXES_FAILURE_LIMIT):
        _login(guesser, "teller.dxb", "wrong-password", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.66"]
    locked = _login(guesser, "teller.dxb", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert locked.status_code == 429


def test_wrong_tokens_are_counted_per_client_behind_the_proxy(staff, behind_one_proxy):
    from branch_ops.services import api_token_issue, service_account_create

    behind_one_proxy.API_TOKEN_FAILURE_LIMIT = 2
    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    _token, raw = api_token_issue(actor=staff["supervisor"], username="core.dxb", name="core")
    proxy = Client(REMOTE_ADDR=PROXY)
    for i in range(2):
        wrong = proxy.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer bo_guess{i}", HTTP_X_FORWARDED_FOR="198.51.100.7")
        assert wrong.status_code == 401
    guesser = proxy.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (guesser.status_code, guesser.json()["code"]) == (429, "RATE_LIMITED")
    # another client behind the same proxy is not held up by the guesser
    other = proxy.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_FORWARDED_FOR="10.20.0.15")
    assert other.status_code == 200


def test_a_spoofed_header_does_not_reset_the_token_failure_count(staff, behind_one_proxy):
    behind_one_proxy.API_TOKEN_FAILURE_LIMIT = 2
    guesser = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(2):
        guesser.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer bo_guess{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    again = guesser.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer bo_guess9", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert (again.status_code, again.json()["code"]) == (429, "RATE_LIMITED")


def test_metrics_behind_a_local_proxy_answer_only_the_allowed_client(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = ["127.0.0.1/32"]
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.9.0.4"]
    settings.METRICS_TOKEN = ""
    client = Client()
    # nginx on the same machine: REMOTE_ADDR is 127.0.0.1 for everyone, the header names the client
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.0.4").status_code == 200
    # and a client straight at gunicorn cannot claim an allowed address
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.9.0.4").status_code == 403
