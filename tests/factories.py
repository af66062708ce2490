"""Factories. Staff, customers and accounts are made through the real services where a
service exists, so tests start from states the product itself can reach."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from accounts.models import Customer
from branch_ops.models import Branch, Currency

PASSWORD = "Test-password-2026"


def currency(code: str) -> Currency:
    """A currency row (reloading the ISO table if a transactional test flushed it)."""
    found = Currency.objects.filter(code=code).first()
    if found is None:
        from branch_ops.reference_data import currencies_load

        currencies_load(Currency)
        found = Currency.objects.get(code=code)
    return found


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BR{n:03d}")
    name = factory.Sequence(lambda n: f"Branch {n}")
    currency = factory.LazyFunction(lambda: currency("AED"))
    time_zone = "Asia/Dubai"
    country = "AE"
    address = "1 Test Street"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    number = factory.Sequence(lambda n: f"T{n:07d}")
    full_name = factory.Faker("name")
    home_branch = factory.SubFactory(BranchFactory)


def make_staff(branch: Branch, role: str, username: str | None = None, *, service: bool = False):
    """A staff user with ``role`` at ``branch`` (through the staff service)."""
    from branch_ops.services import staff_create

    User = get_user_model()
    username = username or f"{role}.{branch.code.lower()}.{User.objects.count() + 1}"
    profile = staff_create(actor=None, branch=branch, username=username, role=role, password=PASSWORD)
    if service:
        profile.kind = profile.Kind.SERVICE
        profile.save(update_fields=["kind"])
    return profile.user


#: the TOTP key (hex) of devices made by :func:`make_totp_device`
TOTP_TEST_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key "12345678901234567890"


def make_totp_device(user, key_hex: str = TOTP_TEST_KEY):
    """A confirmed TOTP device with a known key for ``user`` (replacing any other)."""
    from branch_ops.twofactor import totp_device_set

    return totp_device_set(user=user, key_hex=key_hex, name="Test authenticator")


def totp_code_for(user) -> str:
    """A code ``user``'s confirmed device will accept now: codes are single use, so when the
    current time step was already used (a second sign-in within 30 s) this is the next
    step's code, which the device accepts as one step of clock drift (and waits if even
    that one was used)."""
    import time

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from branch_ops.twofactor import totp_code

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    assert device is not None, f"{user} has no confirmed TOTP device (make_totp_device)"
    now_t = int((time.time() - device.t0) // device.step) + device.drift
    t = max(now_t, device.last_t + 1)
    while t > now_t + device.tolerance:  # both usable steps are spent: wait for the next one
        time.sleep(1)
        now_t = int((time.time() - device.t0) // device.step) + device.drift
    return totp_code(device.key, at=device.t0 + t * device.step + device.step / 2)
