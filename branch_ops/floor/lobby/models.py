"""The lobby queue: what a branch serves at its counters, who sits at which counter, and
the tickets customers take at the kiosk.

Invariants the database keeps:
- a ticket number is unique per branch, service and day (the branch's local day);
- a ticket's timestamps and counter agree with its status (CHECKs per status), and never
  run backwards (called after taken, serving after called, done after both);
- a counter has at most one ticket called or being served (partial unique index);
- a staff member sits at one counter at a time (partial unique index);
- a priority ticket names the priority rule that allowed it, and only a priority ticket does.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branch_ops.models import Branch

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class LobbyService(models.Model):
    """A service the branch offers in its lobby (cash, service desk, complaints). Its
    tickets are numbered with ``letter`` in front (A001, B001...)."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="lobby_services")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=80)
    letter = models.CharField(_("ticket letter"), max_length=1)
    sort_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["branch", "sort_order", "letter"]
        verbose_name = _("lobby service")
        verbose_name_plural = _("lobby services")
        constraints = [
            models.UniqueConstraint(fields=["branch", "code"], name="lobby_service_code_unique"),
            models.UniqueConstraint(fields=["branch", "letter"], name="lobby_service_letter_unique"),
            models.CheckConstraint(condition=Q(letter__regex=r"^[A-Z]$"), name="lobby_service_letter_format"),
        ]

    def __str__(self):
        return f"{self.branch.code} {self.letter} {self.name}"


class PriorityRule(models.Model):
    """A reason a customer is served before others (elderly, disabled, pregnant...):
    reference data, loaded by migration 0002 and edited in the admin."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    sort_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("priority rule")
        verbose_name_plural = _("priority rules")

    def __str__(self):
        return self.name


class Counter(models.Model):
    """A counter (window or desk) of the branch that serves a set of lobby services.
    ``staff`` is who sits there now (signed in), if anyone."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="lobby_counters")
    number = models.CharField(_("number"), max_length=10)
    name = models.CharField(_("name"), max_length=80, blank=True)
    services = models.ManyToManyField(LobbyService, related_name="counters", verbose_name=_("services"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    signed_in_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["branch", "number"]
        verbose_name = pgettext_lazy("lobby", "counter")
        verbose_name_plural = pgettext_lazy("lobby", "counters")
        constraints = [
            models.UniqueConstraint(fields=["branch", "number"], name="lobby_counter_number_unique"),
            models.UniqueConstraint(fields=["staff"], condition=Q(staff__isnull=False),
                                    name="lobby_counter_one_per_staff"),
            models.CheckConstraint(condition=Q(staff__isnull=True, signed_in_at__isnull=True)
                                   | Q(staff__isnull=False, signed_in_at__isnull=False),
                                   name="lobby_counter_signed_in_consistent"),
        ]

    def __str__(self):
        return f"{self.branch.code} {self.number}"


class TicketSequence(models.Model):
    """The last ticket number given for one service on one day (numbers are taken with
    ``INSERT … ON CONFLICT DO UPDATE``, so concurrent kiosks never get the same one)."""

    service = models.ForeignKey(LobbyService, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "day"], name="lobby_sequence_unique")]

    def __str__(self):
        return f"{self.service_id} {self.day} {self.last_number}"


class Ticket(models.Model):
    """A customer's place in the lobby queue, from the kiosk to the counter.

    Waiting time is ``called_at - taken_at`` (the first call; a recall does not move it),
    service time ``done_at - called_at``. ``served_app``/``served_ref`` name the operation
    the customer was served as (an app label and that object's public id, as text, so
    that the lobby imports no app)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        CALLED = "called", pgettext_lazy("lobby ticket", "Called")
        SERVING = "serving", _("Being served")
        DONE = "done", pgettext_lazy("lobby ticket", "Served")
        NO_SHOW = "no_show", _("Did not come")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="lobby_tickets")
    service = models.ForeignKey(LobbyService, on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField(help_text="the branch's local day the ticket was taken")
    number = models.PositiveIntegerField()
    language = models.CharField(_("language"), max_length=10, default="en")
    priority = models.BooleanField(_("priority"), default=False)
    priority_rule = models.ForeignKey(PriorityRule, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets")
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    taken_at = models.DateTimeField()
    called_at = models.DateTimeField(null=True, blank=True)
    last_called_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    recall_count = models.PositiveSmallIntegerField(default=0)
    served_app = models.CharField(max_length=50, blank=True)
    served_ref = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]
        verbose_name = pgettext_lazy("lobby", "ticket")
        verbose_name_plural = pgettext_lazy("lobby", "tickets")
        indexes = [
            # call next: priority first, then the oldest, among the branch's waiting tickets
            models.Index(F("branch"), F("day"), F("priority").desc(), F("taken_at"), F("id"),
                         condition=Q(status="waiting"), name="lobby_ticket_waiting"),
            # summaries and day statistics
            models.Index(fields=["branch", "day", "service"], name="lobby_ticket_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["branch", "service", "day", "number"], name="lobby_ticket_number_unique"),
            models.UniqueConstraint(fields=["counter"], condition=Q(status__in=["called", "serving"]),
                                    name="lobby_ticket_one_per_counter"),
            models.CheckConstraint(condition=Q(status__in=["waiting", "called", "serving", "done", "no_show"]),
                                   name="lobby_ticket_status_known"),
            models.CheckConstraint(condition=Q(priority=True, priority_rule__isnull=False)
                                   | Q(priority=False, priority_rule__isnull=True),
                                   name="lobby_ticket_priority_has_rule"),
            models.CheckConstraint(condition=Q(number__gte=1), name="lobby_ticket_number_positive"),
            models.CheckConstraint(
                condition=(Q(status="waiting", called_at__isnull=True, last_called_at__isnull=True,
                             served_at__isnull=True, done_at__isnull=True, counter__isnull=True,
                             called_by__isnull=True, recall_count=0)
                           | Q(status="called", called_at__isnull=False, last_called_at__isnull=False,
                               served_at__isnull=True, done_at__isnull=True, counter__isnull=False,
                               called_by__isnull=False)
                           | Q(status="serving", called_at__isnull=False, last_called_at__isnull=False,
                               served_at__isnull=False, done_at__isnull=True, counter__isnull=False,
                               called_by__isnull=False)
                           | Q(status="done", called_at__isnull=False, last_called_at__isnull=False,
                               done_at__isnull=False, counter__isnull=False, called_by__isnull=False)
                           | Q(status="no_show", called_at__isnull=False, last_called_at__isnull=False,
                               served_at__isnull=True, done_at__isnull=False, counter__isnull=False,
                               called_by__isnull=False)),
                name="lobby_ticket_status_fields"),
            models.CheckConstraint(
                condition=(Q(called_at__isnull=True) | Q(called_at__gte=F("taken_at")))
                & (Q(last_called_at__isnull=True) | Q(last_called_at__gte=F("called_at")))
                & (Q(served_at__isnull=True) | Q(served_at__gte=F("called_at")))
                & (Q(done_at__isnull=True) | Q(done_at__gte=F("called_at")))
                & (Q(done_at__isnull=True) | Q(served_at__isnull=True) | Q(done_at__gte=F("served_at"))),
                name="lobby_ticket_times_in_order"),
            models.CheckConstraint(condition=Q(served_ref="") | (Q(status="done") & ~Q(served_app="")),
                                   name="lobby_ticket_served_ref_when_done"),
        ]

    def __str__(self):
        return self.code

    @property
    def code(self) -> str:
        """What the customer reads on the ticket and the lobby screen: A007."""
        return f"{self.service.letter}{self.number:03d}"

    @property
    def wait_seconds(self) -> int | None:
        return int((self.called_at - self.taken_at).total_seconds()) if self.called_at else None
