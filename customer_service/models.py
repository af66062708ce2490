"""The service desk: service requests with one state machine for every kind, their
timeline, and what some kinds manage (debit cards, cheque books, loan applications).

Invariants the database keeps (migration 0002):
- a request's ``status`` always equals the ``to_status`` of its ``last_transition``, and a
  transition only goes from the request's current status (trigger);
- only the legal transitions of the state machine can be recorded (CHECK);
- transitions are append-only;
- a card stores a masked PAN only (CHECK on its shape): never a full card number or a PIN.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from accounts.models import BankAccount, Customer
from branch_ops.choices import choice_label
from branch_ops.models import Branch


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


#: the state machine: status -> the statuses it may go to
TRANSITIONS: dict[str, set[str]] = {
    "draft": {"submitted", "cancelled"},
    "submitted": {"awaiting_approval", "in_progress", "fulfilled", "cancelled"},
    "awaiting_approval": {"approved", "rejected", "cancelled"},
    "approved": {"in_progress", "fulfilled"},
    "in_progress": {"fulfilled", "cancelled"},
    "rejected": set(),
    "fulfilled": set(),
    "cancelled": set(),
}
OPEN_STATUSES = ["draft", "submitted", "awaiting_approval", "approved", "in_progress"]


class RequestKind(models.TextChoices):
    ACCOUNT_OPEN = "account_open", _("Account opening")
    ACCOUNT_CLOSE = "account_close", _("Account closing")
    ACCOUNT_UPDATE = "account_update", _("Account update")
    CARD_ISSUE = "card_issue", _("Debit card: issue")
    CARD_REPLACE = "card_replace", _("Debit card: replace")
    CARD_BLOCK = "card_block", _("Debit card: block")
    CARD_UNBLOCK = "card_unblock", _("Debit card: unblock")
    PIN_ISSUE = "pin_issue", _("PIN: issue")
    PIN_RESET = "pin_reset", _("PIN: reset")
    CHEQUE_BOOK = "cheque_book", _("Cheque book")
    CHEQUE_STOP = "cheque_stop", _("Stop a cheque")
    STATEMENT = "statement", _("Statement")
    LOAN_INTAKE = "loan_intake", _("Loan application")
    INQUIRY = "inquiry", _("Inquiry")


class ServiceRequest(models.Model):
    """A customer's request taken at the desk, of one kind, moving through the state
    machine; ``data`` holds what its kind needs."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="service_requests")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="service_requests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices,
                              default=RequestStatus.DRAFT)
    last_transition = models.OneToOneField("RequestTransition", on_delete=models.PROTECT, null=True, blank=True,
                                           related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    due_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["branch", "status", "due_at"], name="request_queue"),
            models.Index(fields=["assigned_to", "status"], name="request_mine"),
            models.Index(fields=["customer", "-created_at"], name="request_customer"),
            # the open queue in due order: a LIMIT 50 reads 50 index entries, not every open request.
            # It carries who the request is assigned to and who created it, so counting "mine"
            # (assigned to me or created by me) is an index-only scan, like counting the open
            # queue, instead of a visit to every open request's row in the table.
            models.Index(fields=["branch", "due_at", "id"], name="request_open_queue",
                         include=["assigned_to", "created_by"], condition=Q(status__in=OPEN_STATUSES)),
        ]

    def __str__(self):
        return f"{self.number} {self.kind} ({self.status})"

    # the queue shows both on every row: one translation each, not one per choice (branch_ops.choices)
    def get_kind_display(self) -> str:
        return choice_label(RequestKind, self.kind)

    def get_status_display(self) -> str:
        return choice_label(RequestStatus, self.status)


class RequestTransition(models.Model):
    """One step of a request's timeline: from which status to which, who, when and why."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="timeline")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_status="", to_status="draft")
                | Q(from_status="", to_status="submitted")
                | Q(from_status="draft", to_status__in=sorted(TRANSITIONS["draft"]))
                | Q(from_status="submitted", to_status__in=sorted(TRANSITIONS["submitted"]))
                | Q(from_status="awaiting_approval", to_status__in=sorted(TRANSITIONS["awaiting_approval"]))
                | Q(from_status="approved", to_status__in=sorted(TRANSITIONS["approved"]))
                | Q(from_status="in_progress", to_status__in=sorted(TRANSITIONS["in_progress"])),
                name="transition_legal",
            ),
        ]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class Card(models.Model):
    """A debit card on an account. Only a masked PAN and its last four digits are stored;
    a PIN never is (PIN issue and reset are events for the card processor)."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("Ordered")
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        REPLACED = "replaced", _("Replaced")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="cards")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    masked_pan = models.CharField(max_length=19)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ORDERED)
    block_reason = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    blocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(masked_pan__regex=r"^[0-9]{6}\*{6}[0-9]{4}$"),
                                   name="card_pan_masked_only"),
        ]

    def __str__(self):
        return self.masked_pan


class ChequeBook(models.Model):
    """A cheque book ordered for an account, tracked until handed to the customer."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("Ordered")
        PRINTED = "printed", _("Printed")
        RECEIVED = "received", _("Received at the branch")
        DELIVERED = "delivered", _("Delivered to the customer")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="cheque_books")
    leaves = models.PositiveSmallIntegerField()
    first_number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ORDERED)
    delivered_document = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(leaves__in=[25, 50]), name="cheque_book_leaves"),
            models.CheckConstraint(condition=~Q(status="delivered") | ~Q(delivered_document=""),
                                   name="cheque_book_delivered_with_identity"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.first_number}+{self.leaves}"


class StoppedCheque(models.Model):
    """A cheque number (or range) that must not be paid."""

    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    first_number = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(last_number__gte=models.F("first_number")),
                                              name="stopped_range_ordered")]

    def __str__(self):
        return f"stop {self.first_number}-{self.last_number}"


class ProductOffer(models.Model):
    """An offer the desk may make, with its rule as data: ``conditions`` says who it fits,
    e.g. ``{"lacks_product": "savings", "min_balance": 500000, "currency": "AED",
    "min_age": 18}`` (amounts in minor units)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    pitch = models.TextField(_("what to say"), blank=True)
    conditions = models.JSONField(default=dict)
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class OfferOutcome(models.Model):
    """What happened when a CSR offered a product to a customer."""

    class Outcome(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    offer = models.ForeignKey(ProductOffer, on_delete=models.PROTECT, related_name="outcomes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"{self.offer.code} {self.outcome}"
