"""Customers and their bank accounts. The ledger (issue "Accounts") grows here; for now a
customer record and an account record are enough for the platform's demo data.

Customers and accounts are the bank's, not a branch's: staff at any branch can find and
serve them (every look is audited). ``home_branch`` is where the relationship is kept.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from branch_ops.models import Branch, Currency


class Customer(models.Model):
    """A person the bank knows (KYC). ``number`` is the customer number people quote;
    the primary key never leaves the database."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("customer number"), max_length=20, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    latin_name = models.CharField(_("name in Latin script"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, default="en")
    home_branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.number} {self.full_name}"


class BankAccount(models.Model):
    """A customer's account in one currency."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        DORMANT = "dormant", _("Dormant")
        CLOSED = "closed", _("Closed")

    class Product(models.TextChoices):
        CURRENT = "current", _("Current account")
        SAVINGS = "savings", _("Savings account")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("account number"), max_length=34, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    product = models.CharField(_("product"), max_length=20, choices=Product.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    opened_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["number"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "frozen", "dormant", "closed"]),
                name="account_status_known",
            ),
        ]

    def __str__(self):
        return f"{self.number} ({self.currency_id})"
