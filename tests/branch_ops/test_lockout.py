"""Account lockout (django-axes) per user name and address, and anti-automation on API
tokens: guessing is slowed down for the guesser, not for the person at their desk."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.html import escape

from branch_ops.models import ApiToken
from tests.factories import PASSWORD


def _login(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def _guess(username, address, times):
    client = Client(REMOTE_ADDR=address)
    for _ in range(times):
        assert _login(client, username, "wrong-password").status_code in (200, 429)


def test_the_lockout_is_per_user_name_and_address(staff, settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    _guess("teller.dxb", "203.0.113.9", settings.AXES_FAILURE_LIMIT)

    locked = _login(Client(REMOTE_ADDR="203.0.113.9"), "teller.dxb")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # the teller at the branch's own address still signs in; so does a colleague from the guesser's
    assert _login(Client(REMOTE_ADDR="10.1.1.1"), "teller.dxb").status_code == 302
    assert _login(Client(REMOTE_ADDR="203.0.113.9"), "csr.dxb").status_code == 302


def test_one_failure_fewer_than_the_limit_does_not_lock(staff, settings):
    _guess("csr.dxb", "203.0.113.10", settings.AXES_FAILURE_LIMIT - 1)
    assert _login(Client(REMOTE_ADDR="203.0.113.10"), "csr.dxb").status_code == 302


def test_the_lockout_message_is_translated(staff, settings):
    from django.utils import translation

    _guess("teller.dxb", "203.0.113.11", settings.AXES_FAILURE_LIMIT)
    client = Client(REMOTE_ADDR="203.0.113.11")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    html = _login(client, "teller.dxb").content.decode()
    with translation.override("it"):
        expected = translation.gettext("Too many failed sign-in attempts. This account is locked for a while; "
                                       "ask your supervisor if you need it now.")
    assert escape(expected) in html
    assert expected.startswith("Troppi tentativi")
    assert 'lang="it"' in html


def test_the_api_sign_in_by_session_is_locked_too_with_a_problem_document(staff, settings):
    _guess("teller.dxb", "203.0.113.12", settings.AXES_FAILURE_LIMIT)
    # once locked, even the right password on the login page is refused from that address
    assert _login(Client(REMOTE_ADDR="203.0.113.12"), "teller.dxb").status_code == 429


@pytest.fixture
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_wrong_api_tokens_are_rate_limited_per_address(staff, settings, clean_cache):
    from branch_ops.services import api_token_issue, service_account_create

    settings.API_TOKEN_FAILURE_LIMIT = 3
    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    _token, raw = api_token_issue(actor=staff["supervisor"], username="core.dxb", name="core")
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(3):
        wrong = guesser.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer bo_guess{i}")
        assert (wrong.status_code, wrong.json()["code"]) == (401, "AUTHENTICATION_FAILED")
    throttled = guesser.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (throttled.status_code, throttled.json()["code"]) == (429, "RATE_LIMITED")
    assert int(throttled["Retry-After"]) == settings.API_TOKEN_FAILURE_WINDOW_SECONDS
    # the real client at its own address is not affected
    assert Client(REMOTE_ADDR="10.0.0.5").get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert ApiToken.objects.count() == 1


def test_a_right_token_does_not_count_as_a_failure(staff, settings, clean_cache):
    from branch_ops.services import api_token_issue, service_account_create

    settings.API_TOKEN_FAILURE_LIMIT = 2
    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    _token, raw = api_token_issue(actor=staff["supervisor"], username="core.dxb", name="core")
    client = Client(REMOTE_ADDR="10.0.0.6")
    for _ in range(5):
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
