"""Customers, their bank accounts, and the double-entry ledger.

Customers and accounts are the bank's, not a branch's: staff at any branch can find and
serve them (every look is audited). ``home_branch`` is where the relationship is kept.

The ledger's invariants are kept by PostgreSQL itself (migration 0003):
- a ledger transaction commits only if it has at least two entries and, for each currency,
  its debits equal its credits (a deferred constraint trigger, checked at commit);
- entries and transactions are append-only;
- each entry's currency is its account's currency;
- a customer account's available balance never goes below zero (balance - holds +
  overdraft limit >= 0) and a cash account (drawer, vault) never below zero (CHECKs);
- a transaction is reversed at most once (a unique key).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Least, Now
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

from branch_ops.constraints import AnyOf
from branch_ops.ids import uuid7
from branch_ops.models import Branch, Currency


class Customer(models.Model):
    """A person the bank knows (KYC). ``number`` is the customer number people quote;
    the primary key never leaves the database."""

    class DocumentType(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
        DRIVING_LICENCE = "driving_licence", _("Driving licence")

    class Risk(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        DECEASED = "deceased", _("Deceased")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("customer number"), max_length=20, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    latin_name = models.CharField(_("name in Latin script"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    document_type = models.CharField(_("identity document"), max_length=20, choices=DocumentType.choices,
                                     blank=True)
    document_number = models.CharField(_("document number"), max_length=40, blank=True)
    document_country = models.CharField(_("issuing country"), max_length=2, blank=True)
    document_expiry = models.DateField(_("document expiry"), null=True, blank=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, default="en")
    risk_rating = models.CharField(_("risk rating"), max_length=10, choices=Risk.choices, default=Risk.LOW)
    politically_exposed = models.BooleanField(_("politically exposed person"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    home_branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_country", "document_number"],
                condition=~Q(document_number=""),
                name="customer_document_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=["active", "blocked", "deceased", "closed"]),
                                   name="customer_status_known"),
        ]
        indexes = [
            GinIndex(fields=["full_name"], opclasses=["gin_trgm_ops"], name="customer_name_trgm"),
            GinIndex(fields=["latin_name"], opclasses=["gin_trgm_ops"], name="customer_latin_trgm"),
            models.Index(fields=["document_number"], name="customer_document"),
            models.Index(fields=["phone"], name="customer_phone"),
        ]

    def __str__(self):
        return f"{self.number} {self.full_name}"


class LedgerAccount(models.Model):
    """One account of the ledger, in one currency: a customer account or an internal one
    (a drawer's or the vault's cash, FX position, cash over/short, fees, redress expense,
    suspense, clearing). Totals and ``version`` change in the same transaction as the
    entries that change them; reading a balance is O(1)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer account")
        DRAWER_CASH = "drawer_cash", _("Drawer cash")
        VAULT_CASH = "vault_cash", _("Vault cash")
        FX_POSITION = "fx_position", _("FX position")
        CASH_OVER_SHORT = "cash_over_short", _("Cash over/short")
        FEES = "fees", _("Fee income")
        REDRESS = "redress", _("Redress expense")
        SUSPENSE = "suspense", _("Suspense")
        CLEARING = "clearing", _("Outgoing payments clearing")

    #: kinds whose balance is debits - credits (assets and expenses); the rest are credits - debits
    DEBIT_NORMAL = {"drawer_cash", "vault_cash", "redress", "cash_over_short", "suspense", "fx_position"}
    CASH_KINDS = {"drawer_cash", "vault_cash"}

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # no index of its own: nothing looks ledger accounts up by currency alone (the entries'
    # foreign key uses the (id, currency) key below)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120)
    debit_normal = models.BooleanField()
    posted_debits = models.BigIntegerField(default=0)
    posted_credits = models.BigIntegerField(default=0)
    pending_debits = models.BigIntegerField(default=0)
    overdraft_limit = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    #: The status of the customer's bank account on this ledger account ("" for internal
    #: accounts), copied by a trigger on every change of ``BankAccount.status`` (accounts
    #: migration 0007) and refused if written otherwise. It lives here so that the posting's
    #: locking SELECT reads it from the row it locks, which PostgreSQL re-reads after a lock
    #: wait: a closing that committed meanwhile is seen without a second statement.
    bank_status = models.CharField(max_length=10, blank=True, default="", editable=False)

    class Meta:
        constraints = [
            # (each condition is written to be short as PostgreSQL stores it: every UPDATE of the
            # totals reads and prepares all of them again; branch_ops.constraints says why)
            models.CheckConstraint(
                condition=GreaterThanOrEqual(
                    Least("posted_debits", "posted_credits", "pending_debits", "overdraft_limit", "version"), 0),
                name="ledger_totals_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="customer")
                | Q(posted_credits__gte=models.F("posted_debits") + models.F("pending_debits") - models.F("overdraft_limit")),
                name="ledger_customer_within_overdraft",
            ),
            models.CheckConstraint(
                condition=~Q(AnyOf(models.F("kind"), ["drawer_cash", "vault_cash"]))
                | Q(posted_debits__gte=models.F("posted_credits")),
                name="ledger_cash_not_negative",
            ),
            models.CheckConstraint(condition=Q(overdraft_limit=0) | Q(kind="customer"),
                                   name="ledger_overdraft_only_customer"),
            # (a known kind on its normal side is the foreign key ledger_normal_side_by_kind to
            # LedgerKind, migration 0012: checked when the kind or side is written, not by every
            # totals UPDATE as a CHECK constraint would be)
            # the key an entry's (account, currency) refers to: an entry is in its account's
            # currency (the foreign key entry_currency_is_account_currency, migration 0008)
            models.UniqueConstraint(fields=["id", "currency"], name="ledger_account_id_currency"),
            # one internal account of each kind per branch and currency
            models.UniqueConstraint(
                fields=["branch", "kind", "currency"],
                condition=Q(kind__in=["vault_cash", "fx_position", "cash_over_short", "fees", "redress", "suspense",
                                      "clearing"]),
                name="ledger_one_internal_per_branch",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency_id})"

    @property
    def balance(self) -> int:
        """Ledger balance in minor units, positive on the account's normal side."""
        if self.debit_normal:
            return self.posted_debits - self.posted_credits
        return self.posted_credits - self.posted_debits

    @property
    def available(self) -> int:
        """What can be paid out now: balance - holds + overdraft limit."""
        return self.balance - self.pending_debits + self.overdraft_limit


class LedgerKind(models.Model):
    """A kind of ledger account and the side its balance is kept on (``debit_normal``: debits
    minus credits). A ledger account's (kind, debit_normal) must be a row of this table: the
    foreign key ``ledger_normal_side_by_kind`` (accounts migration 0012). PostgreSQL checks it
    when an account is created or its kind or side changes, and never for the totals UPDATE of
    a posting, which reads and prepares every CHECK constraint of the ledger account table
    again. The rows come from ``LedgerAccount.Kind`` and ``LedgerAccount.DEBIT_NORMAL``
    (``accounts.reference_data``), loaded by the migration and after every migrate or flush."""

    code = models.CharField(primary_key=True, max_length=20, choices=LedgerAccount.Kind.choices)
    debit_normal = models.BooleanField()

    class Meta:
        constraints = [
            # the key the ledger accounts' (kind, debit_normal) refers to
            models.UniqueConstraint(fields=["code", "debit_normal"], name="ledger_kind_code_side"),
        ]

    def __str__(self):
        return self.code


class BankAccount(models.Model):
    """A customer's account in one currency; its money is the balance of ``ledger``."""

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
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts",
                                 verbose_name=_("primary holder"))
    holders = models.ManyToManyField(Customer, through="AccountHolder", related_name="held_accounts")
    product = models.CharField(_("product"), max_length=20, choices=Product.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    ledger = models.OneToOneField(LedgerAccount, on_delete=models.PROTECT, related_name="bank_account")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    opened_at = models.DateTimeField(db_default=Now())
    closed_at = models.DateTimeField(null=True, blank=True)

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


class AccountHolder(models.Model):
    """A customer who holds an account (the primary holder and any joint holders)."""

    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="holder_links")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "customer"], name="holder_once_per_account"),
            models.UniqueConstraint(fields=["account"], condition=Q(primary=True), name="holder_one_primary"),
        ]

    def __str__(self):
        return f"{self.customer_id} holds {self.account_id}"


class LedgerTransaction(models.Model):
    """One posting: two or more entries that balance per currency. Append-only; a mistake
    is undone by a new transaction whose ``reverses`` points at the original (at most one)."""

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    kind = models.CharField(max_length=30)
    description = models.CharField(max_length=200, blank=True)
    # (branch, posted_at) below serves every branch lookup: no second index on branch alone
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    posted_at = models.DateTimeField(db_default=Now())
    # at most one reversal of a transaction: the partial unique key below (only reversals are in
    # it, so an ordinary posting inserts no key of its own there)
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="reversed_by", db_index=False)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["branch", "posted_at"], name="ledger_tx_branch_time")]
        constraints = [
            models.UniqueConstraint(fields=["reverses"], condition=Q(reverses__isnull=False),
                                    name="ledger_reversed_at_most_once"),
        ]

    def __str__(self):
        return f"{self.kind} {self.public_id}"


class LedgerEntry(models.Model):
    """A debit or credit of a positive amount on one ledger account, recording that
    account's version and balance right after it."""

    class Side(models.TextChoices):
        DEBIT = "D", _("Debit")
        CREDIT = "C", _("Credit")

    # Every index here is written by every posting, so there are only the ones reads use:
    # the account's lookups go through (account, version) and (account, posted_at, id), and
    # nothing looks entries up by currency.
    # ``account`` and ``currency`` are held by one composite foreign key instead of one each,
    # (account_id, currency_id) -> the ledger account's (id, currency_id) (migration 0008):
    # an entry exists only on an existing account and in that account's currency, and the
    # account's currency is a known one (its own foreign key). One key check per entry at
    # COMMIT, where there were two and a trigger's query.
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False,
                                db_constraint=False)
    side = models.CharField(max_length=1, choices=Side.choices)
    amount = models.BigIntegerField()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    account_version = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    posted_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="entry_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="entry_side_known"),
            models.UniqueConstraint(fields=["account", "account_version"], name="entry_account_version_unique"),
        ]
        indexes = [
            models.Index(fields=["account", "posted_at", "id"], name="entry_statement"),
        ]

    def __str__(self):
        return f"{self.side} {self.amount} {self.currency_id} on {self.account_id}"


class Hold(models.Model):
    """An amount reserved on a customer account (a pending debit): it lowers the available
    balance until it is posted or voided, exactly once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    settled_at = models.DateTimeField(null=True, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="hold")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="pending", settled_at__isnull=True, transaction__isnull=True)
                | Q(status="posted", settled_at__isnull=False, transaction__isnull=False)
                | Q(status="voided", settled_at__isnull=False, transaction__isnull=True),
                name="hold_status_consistent",
            ),
        ]

    def __str__(self):
        return f"hold {self.amount} on {self.account_id} ({self.status})"


class SpecimenSignature(models.Model):
    """A customer's specimen signature (a PNG or JPEG image), captured at the desk and shown
    to the teller at a withdrawal for comparison. The newest one is the one in force."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="signatures")
    image = models.BinaryField()
    content_type = models.CharField(max_length=20)
    captured_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    captured_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-captured_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(content_type__in=["image/png", "image/jpeg"]),
                                              name="signature_image_type")]

    def __str__(self):
        return f"signature of {self.customer_id}"
