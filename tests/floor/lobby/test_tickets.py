import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from branch_ops.errors import ApplicationError
from branch_ops.floor.lobby import services
from branch_ops.floor.lobby.models import Counter, Ticket
from branch_ops.models import AuditEvent, OutboxEvent
from tests.floor.lobby.conftest import lobby_setup, seat

pytestmark = pytest.mark.django_db


def _take(branch, service="cash", **kw):
    return services.ticket_take(branch=branch, service=service, **kw)


def test_full_ticket_life(branch, staff, lobby):
    teller = staff["teller"]
    seat(teller, "1")
    ticket = _take(branch, language="ar")
    assert (ticket.code, ticket.status, ticket.language, ticket.priority) == ("A001", "waiting", "ar", False)

    called = services.ticket_call_next(actor=teller)
    assert called.pk == ticket.pk
    ticket.refresh_from_db()
    assert (ticket.status, ticket.counter.number, ticket.called_by, ticket.recall_count) == ("called", "1", teller, 0)
    first_call = ticket.called_at

    services.ticket_recall(actor=teller, ticket_id=ticket.public_id)
    services.ticket_start(actor=teller, ticket_id=ticket.public_id)
    services.ticket_done(actor=teller, ticket_id=ticket.public_id, served_ref="teller:OP-0001")
    ticket.refresh_from_db()
    assert ticket.status == "done"
    assert ticket.recall_count == 1
    assert ticket.called_at == first_call  # a recall does not move the waiting time
    assert ticket.taken_at <= ticket.called_at <= ticket.served_at <= ticket.done_at
    assert (ticket.served_app, ticket.served_ref) == ("teller", "OP-0001")
    actions = list(AuditEvent.objects.filter(object_id=str(ticket.public_id)).order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["lobby.ticket_called", "lobby.ticket_recalled", "lobby.ticket_started", "lobby.ticket_done"]
    assert OutboxEvent.objects.filter(event_type="lobby.ticket_done", aggregate_id=str(ticket.public_id)).count() == 1


def test_numbers_per_service_and_day(branch, lobby):
    assert [_take(branch).code for _ in range(3)] == ["A001", "A002", "A003"]
    assert _take(branch, "desk").code == "B001"
    assert _take(branch, "complaints").code == "C001"


def test_number_is_unique_in_the_database(branch, lobby):
    ticket = _take(branch)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(branch=branch, service=ticket.service, day=ticket.day, number=ticket.number,
                              taken_at=ticket.taken_at)


def test_priority_before_older_normal_tickets(branch, staff, lobby):
    seat(staff["teller"], "1")
    old = _take(branch)
    elderly = _take(branch, priority_rule="elderly")
    assert elderly.priority and elderly.priority_rule.code == "elderly"
    assert services.ticket_call_next(actor=staff["teller"]).pk == elderly.pk
    services.ticket_done(actor=staff["teller"], ticket_id=elderly.public_id)
    assert services.ticket_call_next(actor=staff["teller"]).pk == old.pk


def test_call_next_only_the_counters_services(branch, staff, lobby):
    seat(staff["csr"], "2")  # desk + complaints
    _take(branch, "cash")
    complaint = _take(branch, "complaints")
    assert services.ticket_call_next(actor=staff["csr"]).pk == complaint.pk
    services.ticket_no_show(actor=staff["csr"], ticket_id=complaint.public_id)
    with pytest.raises(ApplicationError) as exc:
        services.ticket_call_next(actor=staff["csr"])
    assert exc.value.code == "QUEUE_EMPTY"


def test_yesterdays_tickets_are_not_called(branch, staff, lobby):
    seat(staff["teller"], "1")
    stale = _take(branch)
    Ticket.objects.filter(pk=stale.pk).update(day=stale.day - dt.timedelta(days=1),
                                              taken_at=stale.taken_at - dt.timedelta(days=1))
    with pytest.raises(ApplicationError) as exc:
        services.ticket_call_next(actor=staff["teller"])
    assert exc.value.code == "QUEUE_EMPTY"


def _refused(code, fn, **kw):
    before = list(Ticket.objects.order_by("pk").values())
    with pytest.raises(ApplicationError) as exc:
        fn(**kw)
    assert exc.value.code == code
    assert list(Ticket.objects.order_by("pk").values()) == before  # nothing changed


def test_errors_wrong_state_branch_and_already_called(branch, other_branch, staff, foreign_staff, lobby):
    lobby_setup(other_branch)
    seat(staff["teller"], "1")
    seat(staff["supervisor"], "2")
    Counter.objects.get(branch=branch, number="2").services.add(lobby["services"]["cash"])
    seat(foreign_staff["teller"], "1")
    ticket = _take(branch)
    waiting = _take(branch)
    services.ticket_call(actor=staff["teller"], ticket_id=ticket.public_id)

    # someone else already called it
    _refused("TICKET_ALREADY_CALLED", services.ticket_call, actor=staff["supervisor"], ticket_id=ticket.public_id)
    # another counter's ticket
    _refused("NOT_YOUR_TICKET", services.ticket_done, actor=staff["supervisor"], ticket_id=ticket.public_id)
    # another branch's ticket does not exist for you
    _refused("TICKET_NOT_FOUND", services.ticket_done, actor=foreign_staff["teller"], ticket_id=ticket.public_id)
    _refused("TICKET_NOT_FOUND", services.ticket_call, actor=foreign_staff["teller"], ticket_id=waiting.public_id)
    # wrong state
    _refused("TICKET_WRONG_STATE", services.ticket_recall, actor=staff["supervisor"], ticket_id=waiting.public_id)
    _refused("TICKET_WRONG_STATE", services.ticket_no_show, actor=staff["teller"], ticket_id=waiting.public_id)
    # one ticket at a time per counter
    _refused("COUNTER_BUSY", services.ticket_call_next, actor=staff["teller"])
    services.ticket_done(actor=staff["teller"], ticket_id=ticket.public_id)
    _refused("TICKET_WRONG_STATE", services.ticket_done, actor=staff["teller"], ticket_id=ticket.public_id)
    _refused("TICKET_WRONG_STATE", services.ticket_recall, actor=staff["teller"], ticket_id=ticket.public_id)
    # not seated
    _refused("NOT_AT_COUNTER", services.ticket_call_next, actor=staff["csr"])
    _refused("TICKET_NOT_FOUND", services.ticket_done, actor=staff["teller"], ticket_id="not-a-uuid")


def test_kiosk_input_errors(branch, other_branch, lobby):
    with pytest.raises(ApplicationError) as exc:
        _take(branch, "loans")
    assert exc.value.code == "SERVICE_NOT_FOUND"
    with pytest.raises(ApplicationError) as exc:
        _take(other_branch, "cash")  # MIL01 has no services
    assert exc.value.code == "SERVICE_NOT_FOUND"
    with pytest.raises(ApplicationError) as exc:
        _take(branch, language="fr")
    assert exc.value.code == "INVALID_LANGUAGE"
    with pytest.raises(ApplicationError) as exc:
        _take(branch, priority_rule="vip")
    assert exc.value.code == "INVALID_PRIORITY_RULE"
    with pytest.raises(ApplicationError) as exc:
        services.parse_served_ref("just text")
    assert exc.value.code == "INVALID_SERVED_REF"
    assert Ticket.objects.count() == 0


def test_counter_sign_in_rules(branch, staff, lobby):
    seat(staff["teller"], "1")
    with pytest.raises(ApplicationError) as exc:
        seat(staff["csr"], "1")
    assert exc.value.code == "COUNTER_TAKEN"
    seat(staff["teller"], "2")  # moves
    assert Counter.objects.get(branch=branch, number="1").staff is None
    assert Counter.objects.get(branch=branch, number="2").staff == staff["teller"]
    _take(branch, "desk")
    ticket = services.ticket_call_next(actor=staff["teller"])
    with pytest.raises(ApplicationError) as exc:
        services.counter_sign_out(actor=staff["teller"])
    assert exc.value.code == "COUNTER_BUSY"
    services.ticket_done(actor=staff["teller"], ticket_id=ticket.public_id)
    services.counter_sign_out(actor=staff["teller"])
    assert Counter.objects.get(branch=branch, number="2").staff is None
    with pytest.raises(ApplicationError) as exc:
        seat(staff["teller"], "9")
    assert exc.value.code == "COUNTER_NOT_FOUND"


def test_database_refuses_inconsistent_tickets(branch, staff, lobby):
    ticket = _take(branch)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(status="done")  # no call, no counter, no done_at
    seat(staff["teller"], "1")
    services.ticket_call_next(actor=staff["teller"])
    other = _take(branch)
    with pytest.raises(IntegrityError), transaction.atomic():  # a second ticket called to the same counter
        Ticket.objects.filter(pk=other.pk).update(status="called", counter=lobby["counters"]["1"],
                                                  called_by=staff["teller"], called_at=other.taken_at,
                                                  last_called_at=other.taken_at)
    with pytest.raises(IntegrityError), transaction.atomic():  # called before it was taken
        Ticket.objects.filter(pk=ticket.pk).update(called_at=ticket.taken_at - dt.timedelta(seconds=1))
