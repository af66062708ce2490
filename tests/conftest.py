import time

import pytest
from rest_framework.test import APIClient

from tests.factories import BranchFactory, make_staff, make_totp_device

ROLES = ["teller", "csr", "coordinator", "supervisor"]


@pytest.fixture
def branch(db):
    return BranchFactory(code="DXB01", name="Dubai Main")


@pytest.fixture
def other_branch(db):
    return BranchFactory(code="MIL01", name="Milano Centro", time_zone="Europe/Rome", country="IT")


@pytest.fixture
def staff(branch):
    """One user per role at ``branch``, plus a second supervisor."""
    users = {role: make_staff(branch, role, f"{role}.dxb") for role in ROLES}
    users["supervisor2"] = make_staff(branch, "supervisor", "supervisor2.dxb")
    return users


@pytest.fixture
def foreign_staff(other_branch):
    return {role: make_staff(other_branch, role, f"{role}.mil") for role in ROLES}


@pytest.fixture
def api():
    """An API client acting as a given user: ``api(user)``."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs ~0.3 s a user; tests make hundreds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in the default language: a request or a service that activated
    Arabic or Italian in this thread must not leak into the next test (an amount typed
    as "20,000" reads as 20 in Italian)."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch):
    """``client.force_login(user)`` stands for a complete sign-in: the password *and*, for a
    two-factor role, the TOTP code (a device is made on the fly and recorded in the session,
    as django-otp does after a code), with a fresh re-authentication stamp. Enforcement
    itself stays on: tests of the second step sign in through the real pages
    (tests/branch_ops/test_two_factor.py)."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY

        from branch_ops.twofactor import AUTH_AT_KEY, totp_device_confirmed, two_factor_required

        session = self.session
        if two_factor_required(user):
            device = totp_device_confirmed(user) or make_totp_device(user)
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[AUTH_AT_KEY] = int(time.time())
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
