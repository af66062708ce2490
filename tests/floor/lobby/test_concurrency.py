"""Counters calling at once, with real threads and their own database connections."""

import threading
from collections import Counter as Tally

import pytest
from django.db import connection

from branch_ops.errors import ApplicationError
from branch_ops.floor.lobby import services
from branch_ops.floor.lobby.models import Counter, Ticket
from tests.factories import BranchFactory, make_staff
from tests.floor.lobby.conftest import lobby_setup, seat


def _run(workers):
    errors = []

    def wrap(fn):
        def inner():
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()
        return inner

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_two_counters_calling_next_at_once_get_two_different_tickets():
    branch = BranchFactory(code="DXB01")
    lobby_setup(branch, {"1": ("cash",), "2": ("cash",)})
    a, b = make_staff(branch, "teller", "teller.one"), make_staff(branch, "teller", "teller.two")
    seat(a, "1")
    seat(b, "2")
    for _ in range(2):
        services.ticket_take(branch=branch, service="cash")
    barrier = threading.Barrier(2)
    got = {}

    def call(user):
        def go():
            barrier.wait()
            got[user.username] = services.ticket_call_next(actor=user).pk
        return go

    _run([call(a), call(b)])
    assert len(got) == 2 and got["teller.one"] != got["teller.two"]
    assert Ticket.objects.filter(status="called").count() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_counters_over_a_hundred_tickets_serve_each_exactly_once():
    branch = BranchFactory(code="DXB01")
    lobby_setup(branch, {str(n): ("cash", "desk") for n in range(1, 21)})
    users = [make_staff(branch, "teller", f"teller.{n:02d}") for n in range(1, 21)]
    for n, user in enumerate(users, start=1):
        seat(user, str(n))
    for i in range(100):
        services.ticket_take(branch=branch, service="cash" if i % 2 else "desk",
                             priority_rule="elderly" if i % 10 == 0 else None)
    barrier = threading.Barrier(20)
    served: list[int] = []

    def counter(user):
        def go():
            barrier.wait()
            while True:
                try:
                    ticket = services.ticket_call_next(actor=user)
                except ApplicationError as exc:
                    assert exc.code == "QUEUE_EMPTY"
                    return
                services.ticket_done(actor=user, ticket_id=ticket.public_id)
                served.append(ticket.pk)
        return go

    _run([counter(u) for u in users])
    tally = Tally(served)
    assert max(tally.values()) == 1  # no ticket served twice
    assert len(tally) == 100
    assert Ticket.objects.filter(status="done").count() == 100
    assert Ticket.objects.exclude(status="done").count() == 0
    assert not Counter.objects.filter(tickets__status__in=["called", "serving"]).exists()


@pytest.mark.django_db(transaction=True)
def test_kiosks_taking_tickets_at_once_get_distinct_numbers():
    branch = BranchFactory(code="DXB01")
    lobby_setup(branch)
    barrier = threading.Barrier(8)
    numbers: list[int] = []

    def take():
        barrier.wait()
        for _ in range(5):
            numbers.append(services.ticket_take(branch=branch, service="cash").number)

    _run([take] * 8)
    assert sorted(numbers) == list(range(1, 41))
