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
