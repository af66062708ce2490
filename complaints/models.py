"""Complaints: from the first word to the follow-up call, with deadline clocks that run in
the branch's business days and a breach recorded the moment a deadline passes.

Invariants the database keeps:
- a complaint has a category and a description (CHECKs);
- a deadline is breached at most once, and never before it was due (CHECK);
- a closed complaint has a decision (CHECK); a follow-up only after closing (CHECK).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import BankAccount, Customer, LedgerTransaction
from branch_ops.models import Branch, Currency


class Category(models.Model):
    """A complaint category, or a sub-category when it has a parent (reference data)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    payment_services = models.BooleanField(_("payment services"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")

    def __str__(self):
        return self.name


class Regime(models.Model):
    """A set of deadlines a complaint follows (reference data): acknowledgement and summary
    resolution in business days, the final response in calendar weeks or business days, and
    how far a recorded extension may take it."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    ack_business_days = models.PositiveSmallIntegerField(default=1)
    summary_business_days = models.PositiveSmallIntegerField(default=3)
    final_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    final_business_days = models.PositiveSmallIntegerField(null=True, blank=True)
    extended_final_business_days = models.PositiveSmallIntegerField(null=True, blank=True)
    amber_fraction = models.DecimalField(max_digits=3, decimal_places=2, default="0.75",
                                         help_text=_("share of the time used when a clock turns amber"))
    escalate_fraction = models.DecimalField(max_digits=3, decimal_places=2, default="0.80",
                                            help_text=_("share of the time used when a complaint is escalated"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(final_weeks__isnull=False) | Q(final_business_days__isnull=False),
                                   name="regime_has_final_deadline"),
        ]

    def __str__(self):
        return self.name


class Complaint(models.Model):
    class Channel(models.TextChoices):
        BRANCH = "branch", _("At the branch")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")
        ONLINE = "online", _("Online")

    class Status(models.TextChoices):
        LOGGED = "logged", _("Logged")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        INVESTIGATING = "investigating", _("Under investigation")
        DECIDED = "decided", pgettext_lazy("complaint status", "Decided")
        CLOSED = "closed", pgettext_lazy("complaint status", "Closed")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Upheld")
        PARTLY = "partly_upheld", _("Partly upheld")
        REJECTED = "rejected", pgettext_lazy("complaint decision", "Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="complaints")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints")
    complainant_name = models.CharField(_("complainant"), max_length=200)
    complainant_contact = models.CharField(_("contact"), max_length=200, blank=True)
    language = models.CharField(max_length=10, default="en")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    description = models.TextField(_("description"))
    amount_disputed = models.BigIntegerField(_("amount in dispute"), default=0)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    attachments = models.JSONField(default=list, blank=True, help_text="metadata only: name, type, size")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.LOGGED)
    escalated = models.BooleanField(default=False)
    extended = models.BooleanField(default=False)
    decision = models.CharField(max_length=15, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    redress_paid = models.BigIntegerField(default=0)
    final_response = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    follow_up_comment = models.TextField(blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["branch", "status", "received_at"], name="complaint_queue")]
        constraints = [
            models.CheckConstraint(condition=~Q(description=""), name="complaint_has_description"),
            models.CheckConstraint(condition=Q(amount_disputed__gte=0, redress_paid__gte=0),
                                   name="complaint_amounts_not_negative"),
            models.CheckConstraint(condition=~Q(status="closed") | (~Q(decision="") & Q(closed_at__isnull=False)),
                                   name="complaint_closed_has_decision"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(status="closed"),
                                   name="complaint_follow_up_after_close"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="complaint_satisfaction_range"),
        ]

    def __str__(self):
        return f"{self.number} {self.complainant_name}"


class Deadline(models.Model):
    """One clock of a complaint. ``breached_at`` is the moment the deadline passed unmet,
    recorded by the worker (never backdated before ``due_at``)."""

    class Kind(models.TextChoices):
        ACK = "ack", _("Acknowledgement")
        SUMMARY = "summary", _("Summary resolution")
        FINAL = "final", _("Final response")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind"], name="deadline_one_per_kind"),
            models.CheckConstraint(condition=Q(breached_at__isnull=True) | Q(breached_at__gte=F("due_at")),
                                   name="deadline_breach_not_before_due"),
        ]
        indexes = [models.Index(fields=["due_at"], condition=Q(met_at__isnull=True, breached_at__isnull=True),
                                name="deadline_running")]

    def __str__(self):
        return f"{self.complaint_id} {self.kind} {self.due_at:%Y-%m-%d}"


class ComplaintEntry(models.Model):
    """The complaint's timeline: notes, hand-overs, escalations, letters, decisions."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20)
    text = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    at = models.DateTimeField(db_default=Now())
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind} {self.at:%Y-%m-%d}"
