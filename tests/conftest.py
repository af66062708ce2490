import pytest
from rest_framework.test import APIClient

from tests.factories import BranchFactory, make_staff

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
