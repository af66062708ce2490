"""Two-factor sign-in (TOTP) and re-authentication, through the real pages with
enforcement fully on (no force_login here: it counts as a complete sign-in)."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from branch_ops.models import ApiToken, AuditEvent, StaffProfile
from branch_ops.twofactor import AUTH_AT_KEY, base32_to_hex, totp_code
from tests.factories import PASSWORD, make_totp_device, totp_code_for


def _password(client, username, password=PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def _signed_in(client):
    return "_auth_user_id" in client.session


# --- who must pass a second step ---------------------------------------------------------------

def test_a_supervisor_without_a_device_is_taken_to_enrolment_before_anything_else(client, staff):
    response = _password(client, "supervisor.dxb")
    assert response["Location"] == "/login/two-factor-setup/?next=%2F"
    # every other page, the API and the admin wait for the second step
    assert client.get("/").url.startswith("/login/two-factor-setup/?next=")
    assert client.get("/floor/inbox/").url == "/login/two-factor-setup/?next=%2Ffloor%2Finbox%2F"
    api = client.get("/api/v1/me/")
    assert (api.status_code, api.json()["code"]) == (401, "TWO_FACTOR_REQUIRED")

    page = client.get("/login/two-factor-setup/?next=/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html  # the QR code is an image: no script
    device = TOTPDevice.objects.get(user=staff["supervisor"], confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    assert secret in html.replace(" ", "") and base32_to_hex(secret) == device.key
    from tests.branch_ops.test_security_headers import audit

    assert audit(page).problems == []


def test_enrolment_is_confirmed_by_the_first_code_and_audited(client, staff):
    _password(client, "supervisor.dxb")
    client.get("/login/two-factor-setup/")
    device = TOTPDevice.objects.get(user=staff["supervisor"], confirmed=False)

    wrong = client.post("/login/two-factor-setup/", {"code": "000000", "next": "/floor/inbox/"})
    assert wrong.status_code == 400
    assert client.get("/").status_code == 302  # still held at the second step

    device.refresh_from_db()
    device.throttling_failure_timestamp = None  # skip django-otp's 1 s wait after a wrong code
    device.save()
    response = client.post("/login/two-factor-setup/", {"code": totp_code(device.key), "next": "/floor/inbox/"})
    # the backup codes, shown once, then on to where the person was going
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10 and response.context["next"] == "/floor/inbox/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="two_factor.enrolled", actor=staff["supervisor"]).count() == 1


def test_a_supervisor_with_a_device_enters_a_code_and_it_works_only_once(staff):
    make_totp_device(staff["supervisor"])
    first = Client()
    assert _password(first, "supervisor.dxb")["Location"] == "/login/code/?next=%2F"
    code = totp_code_for(staff["supervisor"])
    assert first.post("/login/code/", {"code": code})["Location"] == "/"
    assert first.get("/").status_code == 200

    # the same code in a second sign-in is refused (single use), the next one works
    second = Client()
    _password(second, "supervisor.dxb")
    reused = second.post("/login/code/", {"code": code})
    assert reused.status_code == 400
    assert "already used" in reused.content.decode()
    assert second.get("/").status_code == 302
    TOTPDevice.objects.filter(user=staff["supervisor"]).update(throttling_failure_timestamp=None)
    assert second.post("/login/code/", {"code": totp_code_for(staff["supervisor"])}).status_code == 302
    assert second.get("/").status_code == 200


def test_wrong_codes_are_throttled_even_the_right_one_waits(client, staff):
    make_totp_device(staff["supervisor"])
    _password(client, "supervisor.dxb")
    assert client.post("/login/code/", {"code": "12345x"}).status_code == 400  # malformed counts too
    response = client.post("/login/code/", {"code": totp_code_for(staff["supervisor"])})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    assert TOTPDevice.objects.get(user=staff["supervisor"]).throttling_failure_count == 1


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_other_roles_sign_in_with_the_password_alone(client, staff, role):
    assert _password(client, f"{role}.dxb")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_roles_that_need_a_second_step_are_a_setting(client, staff, settings):
    settings.OTP_REQUIRED_ROLES = ["teller", "supervisor"]
    assert _password(client, "teller.dxb")["Location"].startswith("/login/two-factor-setup/")


def test_a_service_account_token_is_not_asked_for_a_code(api, staff):
    from branch_ops.services import api_token_issue, service_account_create

    service_account_create(actor=staff["supervisor"], username="core.sup", role="supervisor")
    _token, raw = api_token_issue(actor=staff["supervisor"], username="core.sup", name="core")
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_the_admin_signs_in_through_the_staff_pages_and_its_second_step(db):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    make_totp_device(admin)
    client = Client()
    assert client.get("/admin/").url == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/").url == "/login/?next=%2Fadmin%2F"
    assert _password(client, "root", next_url="/admin/")["Location"] == "/login/code/?next=%2Fadmin%2F"
    assert client.get("/admin/").url.startswith("/login/code/")
    assert client.post("/login/code/", {"code": totp_code_for(admin), "next": "/admin/"})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_demo_supervisors_have_the_published_demo_secret_and_demo_totp_prints_the_code(db, capsys):
    from branch_ops.demo import DEMO_TOTP_SECRET, seed_demo

    seed_demo()
    user = get_user_model().objects.get(username="super.dxb")
    assert TOTPDevice.objects.get(user=user, confirmed=True).key == base32_to_hex(DEMO_TOTP_SECRET)
    call_command("demo_totp", "super.dxb")
    code = capsys.readouterr().out.strip()
    assert code == totp_code(base32_to_hex(DEMO_TOTP_SECRET)) or len(code) == 6
    client = Client()
    _password(client, "super.dxb", "BranchOps-demo-2026")
    assert client.post("/login/code/", {"code": totp_code_for(user)}).status_code == 302
    # a device that does not hold the demo secret is refused
    make_totp_device(user)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("demo_totp", "super.dxb")
    assert not TOTPDevice.objects.filter(user__staff__role="teller").exists()


# --- re-authentication before sensitive actions ------------------------------------------------

def _age_the_sign_in(client, seconds):
    session = client.session
    session[AUTH_AT_KEY] = int(time.time()) - seconds
    session.save()


def test_issuing_a_token_from_an_old_session_needs_the_password_and_code_again(client, staff, settings):
    from branch_ops.services import service_account_create

    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    client.force_login(staff["supervisor"])
    _age_the_sign_in(client, settings.REAUTH_MAX_AGE_SECONDS + 1)
    body = {"service_account": "core.dxb", "name": "core"}
    before = (ApiToken.objects.count(), StaffProfile.objects.count())

    refused = client.post("/api/v1/tokens/", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "REAUTH_REQUIRED"
    assert refused.json()["reauthenticate"] == "/reauthenticate/"
    made = client.post("/api/v1/service-accounts/", {"username": "robot.x", "role": "teller"},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert made.json()["code"] == "REAUTH_REQUIRED"
    assert (ApiToken.objects.count(), StaffProfile.objects.count()) == before
    assert client.get("/api/v1/tokens/").status_code == 200  # reading needs no fresh sign-in

    page = client.get("/reauthenticate/?next=/api/docs/")
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    assert client.post("/reauthenticate/", {"password": "wrong", "code": "000000", "next": "/"}).status_code == 400
    TOTPDevice.objects.filter(user=staff["supervisor"]).update(throttling_failure_timestamp=None)
    wrong_code = client.post("/reauthenticate/", {"password": PASSWORD, "code": "000000", "next": "/"})
    assert wrong_code.status_code == 400
    TOTPDevice.objects.filter(user=staff["supervisor"]).update(throttling_failure_timestamp=None)
    ok = client.post("/reauthenticate/", {"password": PASSWORD, "code": totp_code_for(staff["supervisor"]),
                                          "next": "/api/docs/"})
    assert ok["Location"] == "/api/docs/"
    assert client.post("/api/v1/tokens/", body, content_type="application/json").status_code == 201


def test_a_fresh_session_issues_without_being_asked(client, staff):
    from branch_ops.services import service_account_create

    service_account_create(actor=staff["supervisor"], username="core.dxb", role="teller")
    client.force_login(staff["supervisor"])
    response = client.post("/api/v1/tokens/", {"service_account": "core.dxb", "name": "x"},
                           content_type="application/json")
    assert response.status_code == 201


def test_wrong_passwords_at_re_authentication_count_towards_the_lockout(client, staff, settings):
    client.force_login(staff["teller"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/reauthenticate/", {"password": "wrong", "next": "/"})
    response = client.post("/reauthenticate/", {"password": PASSWORD, "next": "/"})
    assert response.status_code == 429


def test_changing_staff_in_the_admin_from_an_old_session_asks_again(client, db, settings):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    victim = get_user_model().objects.create_user("someone", password=PASSWORD)
    client.force_login(admin)
    _age_the_sign_in(client, settings.REAUTH_MAX_AGE_SECONDS + 1)
    url = f"/admin/auth/user/{victim.pk}/change/"
    assert client.get(url).status_code == 200  # looking is fine
    response = client.post(url, {"username": "someone", "is_active": "on", "is_superuser": "on"})
    assert response.url == f"/reauthenticate/?next={url.replace('/', '%2F')}"
    victim.refresh_from_db()
    assert not victim.is_superuser


def test_an_idle_supervisor_session_ends_and_must_sign_in_again_with_a_code(client, staff, settings):
    from branch_ops.middleware import LAST_SEEN_KEY

    make_totp_device(staff["supervisor"])
    _password(client, "supervisor.dxb")
    client.post("/login/code/", {"code": totp_code_for(staff["supervisor"])})
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - settings.STAFF_IDLE_TIMEOUT_SECONDS - 1
    session.save()
    assert client.get("/").url == "/login/?next=%2F"
    assert not _signed_in(client)
    # a new sign-in asks for the code again
    assert _password(client, "supervisor.dxb")["Location"].startswith("/login/code/")
