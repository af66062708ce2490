"""What every app shares: branches, currencies, staff, API tokens, the audit trail,
four-eyes approvals, idempotency records and the event outbox.

Invariants the database keeps itself (see migrations/0002_triggers.py):
- audit events are append-only and hash-chained per branch;
- an approval is never decided by the person who asked for it, only by a person whose role
  may decide its kind at its branch, and only once;
- outbox events carry the id of the transaction that wrote them, so the feed can be read in
  a gap-free order.
"""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from branch_ops.ids import uuid7
from branch_ops.roles import ROLE_CHOICES, Role, role_has


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(tz)s” is not a known time zone."), params={"tz": value})


class Currency(models.Model):
    """A currency the bank handles. ``minor_units`` is the ISO 4217 exponent; only active
    currencies can be used in new business."""

    code = models.CharField(_("code"), max_length=3, primary_key=True)
    numeric_code = models.CharField(_("numeric code"), max_length=3, blank=True)
    name = models.CharField(_("name"), max_length=80)
    minor_units = models.PositiveSmallIntegerField(_("minor units"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{3}$"), name="currency_code_iso"),
            models.CheckConstraint(condition=Q(minor_units__lte=4), name="currency_minor_units_range"),
        ]

    def __str__(self):
        return self.code


class Branch(models.Model):
    """A branch of the bank: its staff, drawers, vault, queues and reports are its own."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=120)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("currency"))
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 alpha-2"))
    weekend_days = models.JSONField(_("weekend days"), default=list, blank=True,
                                    help_text=_("weekdays the branch is closed, Monday = 0 … Sunday = 6"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9]{3,10}$"), name="branch_code_format"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Holiday(models.Model):
    """A day a branch is closed besides its weekend (a public or bank holiday)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["branch", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["branch", "date"], name="holiday_once_per_day")]

    def __str__(self):
        return f"{self.branch.code} {self.date} {self.name}"


class StaffProfile(models.Model):
    """A staff user's one role at one branch. ``kind=service`` marks an integration
    service account: it authenticates with API tokens only and never decides approvals."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        SERVICE = "service", _("Service account")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="staff", verbose_name=_("branch"))
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=[r.value for r in Role]), name="staff_role_known"),
            models.CheckConstraint(condition=Q(kind__in=["person", "service"]), name="staff_kind_known"),
        ]
        permissions = []  # the role table's permissions are created by roles.sync_role_groups

    def __str__(self):
        return f"{self.user.get_username()} ({self.role}, {self.branch.code})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has(self, perm) -> bool:
        return role_has(self.role, perm)


class ApiToken(models.Model):
    """A bearer token of a staff user or service account. Only a SHA-256 of the secret is
    kept; the secret is shown once, at creation."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: requests allowed per period for this token ("600/min"); blank: API_TOKEN_DEFAULT_RATE
    rate_limit = models.CharField(_("rate limit"), max_length=20, blank=True, default="")
    #: the token this one replaced (rotation)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by")

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.name})"


class AuditChainHead(models.Model):
    """The last sequence number and hash of one audit chain: one of the 64 lanes of a branch
    (``chain_key = branch id + lane × 2^40``; branch 0: no branch). Maintained only by the
    audit insert trigger."""

    chain_key = models.BigIntegerField(primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    # the hash before last_hash: lets one UPDATE advance the head and hand the trigger both
    last_prev_hash = models.CharField(max_length=64, default="")

    def __str__(self):
        return f"chain {self.chain_key} @ {self.last_seq}"


class AuditEvent(models.Model):
    """One thing a person (or service account) did: who, in which role and branch, what
    action on which object, what it was before and after. Append-only (a trigger refuses
    UPDATE and DELETE) and hash-chained per branch lane (ADR 0008): ``hash`` = SHA-256 over the previous
    event's hash and this row's content, computed by PostgreSQL on insert."""

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    chain_key = models.BigIntegerField(default=0, editable=False)
    seq = models.BigIntegerField(default=0, editable=False)
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    # (branch, occurred_at) below serves every branch lookup: no second index on branch alone
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=80, blank=True)
    customer_ref = models.CharField(max_length=40, blank=True)  # indexed below, exact match only
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [models.UniqueConstraint(fields=["chain_key", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["branch", "-occurred_at"], name="audit_branch_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # searched by exact customer number: no varchar_pattern_ops twin for LIKE
            models.Index(fields=["customer_ref"], name="audit_customer"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}"


class Approval(models.Model):
    """A request for a second person's decision (four eyes). ``kind`` names a registered
    approval kind (see :mod:`branch_ops.approvals`); ``subject_*`` says what it approves;
    ``decider_roles`` are the roles that may decide it, fixed when it is requested."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="approvals")
    subject_type = models.CharField(max_length=80)
    subject_id = models.CharField(max_length=80)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    decider_roles = models.JSONField(default=list)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_default=Now())
    request_reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="approval_not_self_decided",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                    | Q(status__in=["approved", "rejected"], decided_by__isnull=False, decided_at__isnull=False)
                    | Q(status="cancelled", decided_at__isnull=False)
                ),
                name="approval_status_consistent",
            ),
            # at most one pending approval of a kind for one subject
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status="pending"),
                name="approval_one_pending_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["branch", "status", "requested_at"], name="approval_inbox")]

    def __str__(self):
        return f"{self.kind} {self.subject_type}:{self.subject_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class IdempotencyRecord(models.Model):
    """One use of an ``Idempotency-Key`` by one user. Inserted in the same transaction as
    the work it guards, so a retry can never do the work twice; the response is stored so
    the same key and body replay it, and another body with the same key is a 409."""

    # no index of its own: the unique (user, key) index below leads with the user
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now())
    result_type = models.CharField(max_length=80, blank=True)
    result_id = models.CharField(max_length=80, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self):
        return f"{self.key} ({self.scope})"


class OutboxEvent(models.Model):
    """An event for core banking, written in the same transaction as the change. ``txid``
    (set by a trigger to the writing transaction's id) lets the feed hand out events only
    once every transaction that could still add an earlier one has finished."""

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    txid = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(db_default=Now())
    event_type = models.CharField(max_length=80)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    aggregate_type = models.CharField(max_length=80)
    aggregate_id = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["txid", "id"], name="outbox_feed_order")]

    def __str__(self):
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"


class WebhookSubscription(models.Model):
    """Where a branch's outbox events are POSTed. The secret signs each delivery
    (HMAC-SHA256); after a rotation the previous secret also signs until
    ``previous_secret_expires_at``. The secrets are kept as written: signing needs them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="webhook_subscriptions",
                               verbose_name=_("branch"))
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    #: event types delivered (``["*"]``: every type)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    #: feed position up to which events were turned into deliveries
    cursor = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        constraints = [
            models.CheckConstraint(condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                                   name="webhook_url_http"),
            models.CheckConstraint(condition=Q(active=True) | Q(deactivated_at__isnull=False),
                                   name="webhook_deactivated_at"),
        ]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscription. Delivered strictly in feed order per subscription:
    only the oldest delivery that is still ``pending`` is ever attempted."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up")

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="+")
    #: the event's feed position, copied so the order is an index scan
    txid = models.BigIntegerField()
    event_seq = models.BigIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    #: given up once ``attempts`` reaches this (a manual redeliver raises it)
    give_up_after = models.PositiveIntegerField(default=8)
    next_attempt_at = models.DateTimeField(db_default=Now())
    #: a worker that is sending this delivery holds it until then (no lock over the network)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["subscription", "txid", "event_seq"], condition=Q(status="pending"),
                         name="webhook_delivery_pending"),
        ]

    def __str__(self):
        return f"{self.subscription_id}:{self.event_id} {self.status}"


class WebhookAttempt(models.Model):
    """The delivery log: one row per POST."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error}"
