import re
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from branch_ops.middleware import LAST_SEEN_KEY
from branch_ops.models import Approval
from tests.factories import PASSWORD, CustomerFactory, make_totp_device, totp_code_for


def _login(client, username, password=PASSWORD, *, second_step=True):
    """Sign in through the page; a two-factor role also enters its code (a test device)."""
    response = client.post("/login/", {"username": username, "password": password})
    location = response.get("Location", "") if response.status_code == 302 else ""
    if second_step and location.startswith(("/login/code/", "/login/two-factor-setup/")):
        user = get_user_model().objects.get(username=username)
        if location.startswith("/login/two-factor-setup/"):
            make_totp_device(user)
        response = client.post("/login/code/", {"code": totp_code_for(user), "next": "/"})
    return response


def test_login_page_renders_with_vendored_assets_and_no_cdn(client, db):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert not re.search(r"(src|href)=\"https?://", html)


def test_a_wrong_password_gets_a_clear_message_and_no_session(client, staff):
    response = _login(client, "teller.dxb", "wrong-password")
    assert response.status_code == 200
    assert "The user name or password is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "teller.dxb", "wrong-password")
    response = _login(client, "teller.dxb")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another account from the same desk is not locked
    assert _login(Client(), "csr.dxb").status_code == 302


@pytest.mark.parametrize(("role", "heading"), [
    ("teller", "Teller window"), ("csr", "Service desk"), ("coordinator", "Service desk coordination"),
    ("supervisor", "Supervisor workspace"),
])
def test_each_role_signs_in_to_its_own_home(client, staff, role, heading):
    if role == "supervisor":  # a two-factor role: password, then the code
        make_totp_device(staff[role])
        assert _login(client, f"{role}.dxb", second_step=False)["Location"] == "/login/code/?next=%2F"
        response = client.post("/login/code/", {"code": totp_code_for(staff[role]), "next": "/"})
    else:
        response = _login(client, f"{role}.dxb")
    assert response.status_code == 302
    home = client.get(response["Location"])
    html = home.content.decode()
    assert heading in html
    assert ("Audit trail" in html) == (role == "supervisor")


def test_every_demo_login_reaches_its_roles_home(db):
    from branch_ops.demo import demo_logins, seed_demo

    assert seed_demo() is True
    assert seed_demo() is False  # running it twice adds nothing
    for username, password, role, _branch in demo_logins():
        client = Client()
        response = client.post("/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        if role in ("superuser", "supervisor"):  # demo devices hold the published demo secret
            assert response["Location"].startswith("/login/code/"), username
            user = get_user_model().objects.get(username=username)
            assert client.post("/login/code/", {"code": totp_code_for(user)}).status_code == 302, username
        page = client.get("/", follow=True)
        assert page.status_code == 200, username
        if role == "superuser":
            assert page.redirect_chain[-1][0] == "/admin/"
        else:
            assert 'data-testid="home-heading"' in page.content.decode()
            assert page.context["profile"].role == role


def test_an_idle_session_expires_with_a_message(client, staff):
    _login(client, "teller.dxb")
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - settings.STAFF_IDLE_TIMEOUT_SECONDS - 1
    session.save()

    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "Your session expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_idle_session_on_the_api_is_a_401_problem(client, staff):
    _login(client, "teller.dxb")
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - settings.STAFF_IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "SESSION_EXPIRED"


def test_csrf_protection_stays_on(staff):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "teller.dxb", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(("language", "direction", "text"), [
    ("ar", "rtl", "bootstrap.rtl.min.css"), ("it", "ltr", "Accedi"), ("zh-hans", "ltr", "登录"), ("en", "ltr", "Sign in"),
])
def test_pages_render_in_each_language_arabic_right_to_left(client, db, language, direction, text):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get("/login/").content.decode()
    assert f'lang="{language}" dir="{direction}"' in html
    assert text in html


def test_language_switcher_sets_the_language(client, staff):
    _login(client, "teller.dxb")
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    html = client.get("/").content.decode()
    assert 'dir="rtl"' in html
    assert "Teller window" not in html


def test_a_supervisor_approves_on_the_screen_through_the_same_service(client, staff, branch):
    from accounts.services import account_open_request

    customer = CustomerFactory(home_branch=branch)
    account = account_open_request(actor=staff["csr"], customer_number=customer.number, product="current",
                                   currency="AED")
    approval = Approval.objects.get(subject_id=str(account.public_id))
    _login(client, "supervisor.dxb")
    inbox = client.get("/approvals/").content.decode()
    assert str(approval.public_id) in inbox

    response = client.post(f"/approvals/{approval.public_id}/", {"decision": "approve", "reason": "ok"})

    assert response.status_code == 302
    approval.refresh_from_db()
    account.refresh_from_db()
    assert (approval.status, account.status) == ("approved", "active")


def test_the_requester_cannot_approve_on_the_screen(client, staff, branch):
    from accounts.services import account_open_request

    customer = CustomerFactory(home_branch=branch)
    account = account_open_request(actor=staff["supervisor"], customer_number=customer.number, product="current",
                                   currency="AED")
    approval = Approval.objects.get(subject_id=str(account.public_id))
    _login(client, "supervisor.dxb")
    page = client.get(f"/approvals/{approval.public_id}/").content.decode()
    assert 'value="approve"' not in page
    response = client.post(f"/approvals/{approval.public_id}/", {"decision": "approve", "reason": ""})
    assert response.status_code == 403  # refused, with the reason on the page
    assert "You cannot decide your own request." in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_a_foreign_branch_approval_page_is_not_found(client, staff, foreign_staff, other_branch):
    from accounts.services import account_open_request

    customer = CustomerFactory(home_branch=other_branch)
    account = account_open_request(actor=foreign_staff["csr"], customer_number=customer.number, product="current",
                                   currency="EUR")
    approval = Approval.objects.get(subject_id=str(account.public_id))
    _login(client, "supervisor.dxb")
    assert client.get(f"/approvals/{approval.public_id}/").status_code == 404


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_audit_trail_screen_is_for_supervisors_only(client, staff, role):
    _login(client, f"{role}.dxb")
    assert client.get("/audit/").status_code == 403


def test_supervisor_verifies_the_chain_on_the_screen(client, staff):
    _login(client, "supervisor.dxb")
    html = client.get("/audit/?verify=1").content.decode()
    assert "The chain is intact" in html


def test_every_message_is_translated_in_every_language():
    from branch_ops.i18n import untranslated

    assert untranslated() == {}


def test_check_deploy_is_clean_with_production_settings():
    env = {
        "PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-from-the-environment-0123456789",
        "DJANGO_ALLOWED_HOSTS": "branch.example.com", "HOME": "/tmp",
    }
    import os

    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
