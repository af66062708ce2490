"""Lobby queue services: take a ticket (kiosk), sit down at and leave a counter, call the
next ticket (race-free), call one ticket, recall, no-show, start serving, done.

Every staff action is one durable transaction that locks what it changes first, writes an
audit event, and answers a coded, translated error with nothing changed when it refuses.

Call next: the counter's row is locked (one call at a time per counter), then the ticket is
chosen with ``SELECT … FOR UPDATE SKIP LOCKED``: priority tickets first, then the oldest,
among the branch's waiting tickets of the day for the services the counter serves. A ticket
another counter is calling at the same moment is locked by that transaction and skipped, so
two counters never get the same ticket and neither waits for the other. The database keeps
the rest (one ticket per counter, timestamps per status).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.audit import audit_event_write
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError, Conflict, Forbidden, NotFound
from branch_ops.floor.lobby.models import LANGUAGE_CODES, Counter, LobbyService, PriorityRule, Ticket
from branch_ops.models import Branch
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm

#: a service's numbers restart every day; past this the kiosk stops giving tickets for it
MAX_TICKETS_PER_SERVICE_DAY = 999
_SERVED_APP = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_SERVED_REF = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class LobbyError(ApplicationError):
    status_code = 400


# --- helpers ------------------------------------------------------------------------------------------

def _next_number(service: LobbyService, day: dt.date) -> int:
    """The next ticket number of ``service`` on ``day``: one upsert, safe under concurrency
    (a second kiosk waits on the row until the first commits, then takes the next one)."""
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO lobby_ticketsequence (service_id, day, last_number) VALUES (%s, %s, 1)
               ON CONFLICT (service_id, day) DO UPDATE SET last_number = lobby_ticketsequence.last_number + 1
               RETURNING last_number""",
            [service.pk, day],
        )
        return cur.fetchone()[0]


def _my_counter(actor, *, lock: bool = True) -> Counter:
    """The counter the actor sits at (row-locked), or a coded error."""
    profile = require_perm(actor, Perm.SERVE_LOBBY)
    qs = Counter.objects.filter(staff=actor, branch_id=profile.branch_id)
    if lock:
        qs = qs.select_for_update(no_key=True, of=("self",))
    counter = qs.select_related("branch").first()
    if counter is None:
        raise Conflict(_("Sign in at a counter first."), code="NOT_AT_COUNTER")
    return counter


def _lock_ticket(actor, public_id) -> Ticket:
    """A ticket of the actor's branch, row-locked; another branch's ticket does not exist."""
    profile = require_perm(actor, Perm.SERVE_LOBBY)
    try:
        pid = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except (ValueError, TypeError, AttributeError):
        pid = None
    ticket = None
    if pid is not None:
        ticket = (Ticket.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("service", "branch", "counter").filter(public_id=pid, branch_id=profile.branch_id)
                  .first())
    if ticket is None:
        raise NotFound(_("No such ticket."), code="TICKET_NOT_FOUND")
    return ticket


def _require_mine(actor, ticket: Ticket, counter: Counter) -> None:
    if ticket.counter_id != counter.pk:
        raise Forbidden(_("This ticket was called to another counter."), code="NOT_YOUR_TICKET")


def _wrong_state(ticket: Ticket):
    return Conflict(_("Ticket %(code)s is %(status)s: this cannot be done now.")
                    % {"code": ticket.code, "status": ticket.get_status_display()}, code="TICKET_WRONG_STATE")


def _audit(actor, action: str, ticket: Ticket, before: dict, after: dict) -> None:
    audit_event_write(actor=actor, action=action, obj=ticket, branch=ticket.branch, before=before,
                      after={"ticket": ticket.code, **after})


def _call(actor, ticket: Ticket, counter: Counter, now: dt.datetime) -> Ticket:
    ticket.status = Ticket.Status.CALLED
    ticket.counter = counter
    ticket.called_by = actor
    ticket.called_at = ticket.last_called_at = now
    ticket.save(update_fields=["status", "counter", "called_by", "called_at", "last_called_at"])
    _audit(actor, "lobby.ticket_called", ticket, {"status": "waiting"},
           {"status": "called", "counter": counter.number, "wait_seconds": ticket.wait_seconds})
    return ticket


def _require_free(counter: Counter) -> None:
    busy = Ticket.objects.filter(counter=counter, status__in=[Ticket.Status.CALLED, Ticket.Status.SERVING]).first()
    if busy is not None:
        raise Conflict(_("Finish ticket %(code)s first (done or no-show).") % {"code": busy.code},
                       code="COUNTER_BUSY")


# --- the kiosk ----------------------------------------------------------------------------------------

def ticket_take(*, branch: Branch, service: str | LobbyService, language: str = "en",
                priority_rule: str | None = None, idempotency_claim=None) -> Ticket:
    """A customer takes a ticket for ``service`` (its code) at ``branch``'s kiosk. No
    staff actor: the kiosk is the branch's device (docs/lobby.md)."""
    if language not in LANGUAGE_CODES:
        raise LobbyError(_("Unknown language."), code="INVALID_LANGUAGE", field="language")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        code = service.code if isinstance(service, LobbyService) else service
        found = LobbyService.objects.filter(branch=branch, code=code, active=True).first()
        if found is None:
            raise NotFound(_("This branch offers no such service."), code="SERVICE_NOT_FOUND", field="service")
        rule = None
        if priority_rule:
            rule = PriorityRule.objects.filter(code=priority_rule, active=True).first()
            if rule is None:
                raise LobbyError(_("Unknown priority rule."), code="INVALID_PRIORITY_RULE", field="priority_rule")
        now = timezone.now()
        day = branch_day(branch, now)
        number = _next_number(found, day)
        if number > MAX_TICKETS_PER_SERVICE_DAY:
            raise Conflict(_("No more tickets for this service today."), code="QUEUE_FULL", field="service")
        ticket = Ticket.objects.create(branch=branch, service=found, day=day, number=number, language=language,
                                       priority=rule is not None, priority_rule=rule, taken_at=now)
        idempotency.finish(idempotency_claim, ticket)
    return ticket


# --- counters -----------------------------------------------------------------------------------------

def counter_sign_in(*, actor, counter_number: str) -> Counter:
    """Sit down at a counter of the own branch (leaving the one the actor sat at, if it is
    free of tickets)."""
    profile = require_perm(actor, Perm.SERVE_LOBBY)
    with transaction.atomic(durable=True):
        target = Counter.objects.filter(branch_id=profile.branch_id, number=counter_number, active=True).first()
        if target is None:
            raise NotFound(_("No such counter."), code="COUNTER_NOT_FOUND", field="counter")
        mine = Counter.objects.filter(staff=actor).values_list("pk", flat=True).first()
        ids = sorted({target.pk, *([mine] if mine else [])})
        locked = {c.pk: c for c in Counter.objects.select_for_update(no_key=True, of=("self",))
                  .filter(pk__in=ids).order_by("pk")}
        target = locked[target.pk]
        if target.staff_id == actor.pk:
            return target
        if target.staff_id is not None:
            raise Conflict(_("Someone else sits at this counter."), code="COUNTER_TAKEN", field="counter")
        if mine:
            _require_free(locked[mine])
            Counter.objects.filter(pk=mine).update(staff=None, signed_in_at=None)
        target.staff = actor
        target.signed_in_at = timezone.now()
        target.save(update_fields=["staff", "signed_in_at"])
        audit_event_write(actor=actor, action="lobby.counter_signed_in", obj=target, object_id=target.number,
                          after={"counter": target.number})
    return target


def counter_sign_out(*, actor) -> Counter:
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        _require_free(counter)
        counter.staff = None
        counter.signed_in_at = None
        counter.save(update_fields=["staff", "signed_in_at"])
        audit_event_write(actor=actor, action="lobby.counter_signed_out", obj=counter, object_id=counter.number,
                          before={"counter": counter.number})
    return counter


# --- tickets at the counter ---------------------------------------------------------------------------

def ticket_call_next(*, actor, counter: Counter | None = None, idempotency_claim=None) -> Ticket:
    """Call the next ticket to the actor's counter: priority first, then the oldest, of the
    services the counter serves. ``counter`` (optional) must be the one the actor sits at."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        mine = _my_counter(actor)
        if counter is not None and counter.pk != mine.pk:
            raise Forbidden(_("You do not sit at this counter."), code="NOT_YOUR_COUNTER")
        _require_free(mine)
        now = timezone.now()
        ticket = (Ticket.objects.select_for_update(of=("self",), skip_locked=True)
                  .select_related("service", "branch")
                  .filter(branch_id=mine.branch_id, day=branch_day(mine.branch, now), status=Ticket.Status.WAITING,
                          service__in=mine.services.filter(active=True).values("pk"))
                  .order_by("-priority", "taken_at", "id").first())
        if ticket is None:
            raise NotFound(_("Nobody is waiting for the services of this counter."), code="QUEUE_EMPTY")
        _call(actor, ticket, mine, now)
        idempotency.finish(idempotency_claim, ticket)
    return ticket


def ticket_call(*, actor, ticket_id) -> Ticket:
    """Call one waiting ticket (chosen from the list) to the actor's counter."""
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        ticket = _lock_ticket(actor, ticket_id)
        if ticket.status != Ticket.Status.WAITING:
            if ticket.called_by_id is not None and ticket.called_by_id != actor.pk:
                raise Conflict(_("Ticket %(code)s was already called by someone else.") % {"code": ticket.code},
                               code="TICKET_ALREADY_CALLED")
            raise _wrong_state(ticket)
        if not counter.services.filter(pk=ticket.service_id).exists():
            raise Forbidden(_("Your counter does not serve this ticket's service."), code="SERVICE_NOT_AT_COUNTER")
        _require_free(counter)
        _call(actor, ticket, counter, timezone.now())
    return ticket


def ticket_recall(*, actor, ticket_id) -> Ticket:
    """Call the same ticket again (the lobby screen shows it on top once more)."""
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        ticket = _lock_ticket(actor, ticket_id)
        if ticket.status != Ticket.Status.CALLED:
            raise _wrong_state(ticket)
        _require_mine(actor, ticket, counter)
        ticket.recall_count += 1
        ticket.last_called_at = timezone.now()
        ticket.save(update_fields=["recall_count", "last_called_at"])
        _audit(actor, "lobby.ticket_recalled", ticket, {"recall_count": ticket.recall_count - 1},
               {"recall_count": ticket.recall_count})
    return ticket


def ticket_start(*, actor, ticket_id) -> Ticket:
    """The customer came to the counter: serving starts."""
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        ticket = _lock_ticket(actor, ticket_id)
        if ticket.status != Ticket.Status.CALLED:
            raise _wrong_state(ticket)
        _require_mine(actor, ticket, counter)
        ticket.status = Ticket.Status.SERVING
        ticket.served_at = timezone.now()
        ticket.save(update_fields=["status", "served_at"])
        _audit(actor, "lobby.ticket_started", ticket, {"status": "called"}, {"status": "serving"})
    return ticket


def _close(actor, ticket: Ticket, status: str, now: dt.datetime) -> None:
    before = ticket.status
    ticket.status = status
    ticket.done_at = now
    ticket.save(update_fields=["status", "done_at", "served_app", "served_ref"])
    service_seconds = int((now - ticket.called_at).total_seconds())
    after = {"status": status, "wait_seconds": ticket.wait_seconds}
    if status == Ticket.Status.DONE:
        after |= {"service_seconds": service_seconds,
                  "served_as": f"{ticket.served_app}:{ticket.served_ref}" if ticket.served_app else ""}
    _audit(actor, f"lobby.ticket_{status}", ticket, {"status": before}, after)
    event_publish(event_type=f"lobby.ticket_{status}", aggregate=ticket, branch=ticket.branch,
                  payload={"ticket": ticket.code, "service": ticket.service.code, "day": ticket.day.isoformat(),
                           "counter": ticket.counter.number if ticket.counter_id else None, **after})


def ticket_no_show(*, actor, ticket_id) -> Ticket:
    """The called customer did not come."""
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        ticket = _lock_ticket(actor, ticket_id)
        if ticket.status != Ticket.Status.CALLED:
            raise _wrong_state(ticket)
        _require_mine(actor, ticket, counter)
        _close(actor, ticket, Ticket.Status.NO_SHOW, timezone.now())
    return ticket


def parse_served_ref(value: str | None) -> tuple[str, str]:
    """``"teller:2f1c…"`` → ("teller", "2f1c…"): the app label and the public id of the
    operation the customer was served as. Empty → ("", "")."""
    value = (value or "").strip()
    if not value:
        return "", ""
    app, sep, ref = value.partition(":")
    if not sep or not _SERVED_APP.match(app) or not _SERVED_REF.match(ref):
        raise LobbyError(_("Name the operation as app:reference, e.g. teller:OP-123."), code="INVALID_SERVED_REF",
                         field="served_ref")
    return app, ref


def ticket_done(*, actor, ticket_id, served_ref: str | None = None) -> Ticket:
    """The customer was served (optionally as the operation ``served_ref``, "app:public id")."""
    app, ref = parse_served_ref(served_ref)
    with transaction.atomic(durable=True):
        counter = _my_counter(actor)
        ticket = _lock_ticket(actor, ticket_id)
        if ticket.status not in (Ticket.Status.CALLED, Ticket.Status.SERVING):
            raise _wrong_state(ticket)
        _require_mine(actor, ticket, counter)
        ticket.served_app, ticket.served_ref = app, ref
        _close(actor, ticket, Ticket.Status.DONE, timezone.now())
    return ticket
