"""The cash window: drawers and their sessions, the vault, denominations, cash counts,
the teller's journal of cash operations, limits and settings.

Money is in the ledger (``accounts``): a drawer's cash in a currency *is* the balance of
its ``drawer_cash`` ledger account, the vault's the balance of the branch's ``vault_cash``
account. This app keeps what the ledger does not know: who holds which drawer today, which
notes and coins are in it, what was counted when, and the journal of operations.

Invariants the database keeps:
- at most one open (or counting) session per drawer, and per teller;
- denomination holdings never negative (CHECK);
- a session is signed off by someone other than its teller (CHECK);
- a count's total is the sum of its lines (the service writes both; a CHECK on each line).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import BankAccount, Customer, LedgerAccount, LedgerTransaction
from branch_ops.models import Branch, Currency


class Denomination(models.Model):
    """A note or coin of a currency, in minor units (a 50 AED note is 5000)."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        COIN = "coin", _("Coin")

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="denominations")
    value = models.BigIntegerField(_("value (minor units)"))
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["currency", "-value"]
        verbose_name = _("denomination")
        verbose_name_plural = _("denominations")
        constraints = [
            models.UniqueConstraint(fields=["currency", "value"], name="denomination_unique"),
            models.CheckConstraint(condition=Q(value__gt=0), name="denomination_positive"),
        ]

    def __str__(self):
        return f"{self.currency_id} {self.value} ({self.kind})"


class BranchCashSettings(models.Model):
    """A branch's cash rules: the large-cash reporting threshold (branch-currency minor units,
    for one operation and for one customer's operations of a business day), how long an
    exchange quote holds."""

    branch = models.OneToOneField(Branch, on_delete=models.PROTECT, related_name="cash_settings")
    large_cash_threshold = models.BigIntegerField(_("large-cash reporting threshold"))
    quote_validity_seconds = models.PositiveIntegerField(_("exchange quote validity (seconds)"), default=120)

    class Meta:
        verbose_name = _("branch cash settings")
        verbose_name_plural = _("branch cash settings")
        constraints = [
            models.CheckConstraint(condition=Q(large_cash_threshold__gt=0), name="cash_settings_positive"),
        ]

    def __str__(self):
        return f"{self.branch.code} cash settings"


class CashLimit(models.Model):
    """The most one operation may move in one currency without a supervisor's override, for
    a role at a branch; operation ``drawer_max`` is the most cash a drawer may hold in that
    currency. No row for an operation and currency means every such operation needs an
    override (a missing setting never lets cash through)."""

    class Operation(models.TextChoices):
        DEPOSIT = "deposit", _("Cash deposit")
        WITHDRAWAL = "withdrawal", _("Cash withdrawal")
        EXCHANGE = "exchange", _("Currency exchange")
        TRANSFER = "transfer", _("Transfer")
        PAYMENT = "payment", _("Outgoing payment")
        DRAWER_MAX = "drawer_max", _("Cash held in a drawer")

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="cash_limits")
    role = models.CharField(_("role"), max_length=20)
    operation = models.CharField(_("operation"), max_length=20, choices=Operation.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    max_amount = models.BigIntegerField(_("maximum amount"))

    class Meta:
        verbose_name = _("cash limit")
        verbose_name_plural = _("cash limits")
        constraints = [
            models.UniqueConstraint(fields=["branch", "role", "operation", "currency"], name="cash_limit_unique"),
            models.CheckConstraint(condition=Q(max_amount__gt=0), name="cash_limit_positive"),
        ]

    def __str__(self):
        return f"{self.branch.code} {self.role} {self.operation} ≤ {self.max_amount} {self.currency_id}"


class Drawer(models.Model):
    """A cash drawer at a branch, assigned to one teller; it holds several currencies."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="drawers")
    code = models.CharField(_("code"), max_length=20)
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drawers",
                               verbose_name=_("teller"))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["branch", "code"]
        verbose_name = _("drawer")
        verbose_name_plural = _("drawers")
        constraints = [models.UniqueConstraint(fields=["branch", "code"], name="drawer_code_unique")]

    def __str__(self):
        return f"{self.branch.code}/{self.code}"


class DrawerCash(models.Model):
    """The drawer's ledger account in one currency (its cash is that account's balance)."""

    drawer = models.ForeignKey(Drawer, on_delete=models.PROTECT, related_name="cash")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    ledger = models.OneToOneField(LedgerAccount, on_delete=models.PROTECT, related_name="drawer_cash")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["drawer", "currency"], name="drawer_cash_unique")]

    def __str__(self):
        return f"{self.drawer} {self.currency_id}"


class DrawerSession(models.Model):
    """One teller's day on one drawer: opened with a count, closed with a blind count,
    signed off by a supervisor."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("drawer session status", "Open")
        CLOSED = "closed", _("Closed, waiting for sign-off")
        SIGNED_OFF = "signed_off", _("Signed off")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    drawer = models.ForeignKey(Drawer, on_delete=models.PROTECT, related_name="sessions")
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(db_default=Now())
    closed_at = models.DateTimeField(null=True, blank=True)
    open_difference = models.JSONField(default=dict, blank=True,
                                       help_text="per currency: opening count minus the last close")
    variance = models.JSONField(default=dict, blank=True, help_text="per currency: counted minus expected at close")
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["drawer"], condition=Q(status="open"), name="session_one_open_per_drawer"),
            models.UniqueConstraint(fields=["teller"], condition=Q(status="open"), name="session_one_open_per_teller"),
            models.CheckConstraint(condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("teller")),
                                   name="session_not_self_signed_off"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False, signed_off_by__isnull=True)
                | Q(status="signed_off", closed_at__isnull=False, signed_off_by__isnull=False),
                name="session_status_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.drawer} {self.business_date} ({self.status})"


class DrawerHolding(models.Model):
    """How many notes/coins of one denomination the drawer holds during a session."""

    session = models.ForeignKey(DrawerSession, on_delete=models.PROTECT, related_name="holdings")
    denomination = models.ForeignKey(Denomination, on_delete=models.PROTECT)
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "denomination"], name="holding_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="holding_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.denomination}"


class CashCount(models.Model):
    """A count of one currency by denomination: at open, at close, at a vault transfer."""

    class Moment(models.TextChoices):
        OPEN = "open", _("Opening count")
        CLOSE = "close", _("Closing count")
        VAULT = "vault", _("Vault transfer")

    session = models.ForeignKey(DrawerSession, on_delete=models.PROTECT, related_name="counts")
    moment = models.CharField(max_length=10, choices=Moment.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    total = models.BigIntegerField()
    expected = models.BigIntegerField(null=True, blank=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counted_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="count_total_not_negative")]

    def __str__(self):
        return f"{self.moment} {self.total} {self.currency_id}"


class CashCountLine(models.Model):
    count = models.ForeignKey(CashCount, on_delete=models.PROTECT, related_name="lines")
    denomination = models.ForeignKey(Denomination, on_delete=models.PROTECT)
    quantity = models.IntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0), name="count_line_not_negative")]

    def __str__(self):
        return f"{self.quantity} × {self.denomination}"


class CashOperation(models.Model):
    """One line of the teller's journal: a cash deposit, withdrawal, exchange, transfer or
    payment at the window, with what the ledger does not know (who brought the cash, the
    document checked, the notes that changed hands)."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Cash deposit")
        WITHDRAWAL = "withdrawal", _("Cash withdrawal")
        EXCHANGE = "exchange", _("Currency exchange")
        PAYMENT = "payment", _("Outgoing payment")
        VAULT_IN = "vault_in", _("Cash from the vault")
        VAULT_OUT = "vault_out", _("Cash to the vault")
        VARIANCE = "variance", _("Count variance")

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        AWAITING_OVERRIDE = "awaiting_override", _("Waiting for a supervisor")
        REFUSED = "refused", _("Refused")
        REVERSED = "reversed", _("Reversed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    session = models.ForeignKey(DrawerSession, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    reversed_by = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="reverses")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    amount = models.BigIntegerField()
    denominations = models.JSONField(default=dict, help_text="{value in minor units: quantity} that changed hands")
    party = models.JSONField(default=dict, blank=True,
                             help_text="who brought or took the cash: name, document, for a third party")
    details = models.JSONField(default=dict, blank=True,
                               help_text="what the kind needs: exchange quote and notes out, payment beneficiary")
    ledger_transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True,
                                              related_name="cash_operation")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cash_operation_amount_positive"),
            models.CheckConstraint(condition=~Q(status="posted") | Q(ledger_transaction__isnull=False),
                                   name="cash_operation_posted_has_ledger"),
        ]
        indexes = [models.Index(fields=["customer", "created_at"], name="cash_op_customer_day")]

    def __str__(self):
        return f"{self.reference} {self.kind} {self.amount} {self.currency_id}"


class VaultTransfer(models.Model):
    """Cash moving between the vault and a drawer: the teller asks, the vault custodian (a
    supervisor, never the same person) confirms, and only then does it post."""

    class Direction(models.TextChoices):
        TO_DRAWER = "to_drawer", _("Vault to drawer")
        TO_VAULT = "to_vault", _("Drawer to vault")

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("vault transfer status", "Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(DrawerSession, on_delete=models.PROTECT, related_name="vault_transfers")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    amount = models.BigIntegerField()
    denominations = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_default=Now())
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ledger_transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True,
                                              related_name="vault_transfer")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="vault_transfer_positive"),
            models.CheckConstraint(condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("requested_by")),
                                   name="vault_transfer_not_self_confirmed"),
        ]

    def __str__(self):
        return f"{self.direction} {self.amount} {self.currency_id} ({self.status})"


class LargeCashReport(models.Model):
    """What a currency transaction report needs, for one cash operation at or over the
    threshold (in branch-currency equivalent)."""

    operation = models.OneToOneField(CashOperation, on_delete=models.PROTECT, related_name="large_cash_report")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    person_name = models.CharField(max_length=200)
    document = models.CharField(max_length=80)
    occupation = models.CharField(max_length=120)
    source_of_funds = models.CharField(max_length=200)
    amount_branch_currency = models.BigIntegerField()
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"CTR {self.operation.reference}"


class StructuringAlert(models.Model):
    """Several cash operations of one customer in one business day that add up over the
    threshold while each stays under it: raised once per customer and day, for the
    supervisor's queue."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    total_branch_currency = models.BigIntegerField()
    operations = models.ManyToManyField(CashOperation, related_name="structuring_alerts")
    created_at = models.DateTimeField(db_default=Now())
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "business_date"], name="structuring_once_a_day")]

    def __str__(self):
        return f"structuring {self.customer_id} {self.business_date}"


class ExchangeRate(models.Model):
    """One entry of a branch's rate board: how many units of the branch currency the bank
    pays for one unit of ``currency`` (``buy``) and asks for it (``sell``). A change adds a
    new row and retires the old one, so the history stays."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="rates")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    buy = models.DecimalField(max_digits=18, decimal_places=8)
    sell = models.DecimalField(max_digits=18, decimal_places=8)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(db_default=Now())
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["branch", "currency", "-set_at"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "currency"], condition=Q(active=True),
                                    name="rate_one_active_per_currency"),
            models.CheckConstraint(condition=Q(buy__gt=0, sell__gt=0, buy__lte=F("sell")), name="rate_spread_valid"),
        ]

    def __str__(self):
        return f"{self.branch.code} {self.currency_id} {self.buy}/{self.sell}"


class ExchangeQuote(models.Model):
    """A rate locked for a short time for one exchange: what the customer gives and gets."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    quoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    from_amount = models.BigIntegerField()
    to_currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    to_amount = models.BigIntegerField()
    rate = models.DecimalField(max_digits=24, decimal_places=12, help_text="to units per from unit")
    rates_used = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(from_amount__gt=0, to_amount__gt=0), name="quote_amounts_positive"),
            models.CheckConstraint(condition=~Q(from_currency=F("to_currency")), name="quote_two_currencies"),
        ]

    def __str__(self):
        return f"{self.from_amount} {self.from_currency_id} -> {self.to_amount} {self.to_currency_id}"


class OutgoingPayment(models.Model):
    """A payment from a customer's account to another bank: the account is debited, the
    branch's outgoing-payments clearing account credited, and core banking gets the
    ``payment.outgoing`` event to send it on."""

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        REVERSED = "reversed", _("Reversed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    amount = models.BigIntegerField()
    beneficiary_name = models.CharField(max_length=140)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    remittance = models.CharField(max_length=140, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.POSTED)
    ledger_transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT,
                                              related_name="outgoing_payment")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self):
        return f"{self.reference} {self.amount} {self.currency_id} to {self.iban}"
