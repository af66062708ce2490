import datetime as dt

import pytest
from django.utils import timezone

from branch_ops.errors import ApplicationError
from branch_ops.floor.lobby import services
from branch_ops.floor.lobby.models import Ticket
from branch_ops.floor.lobby.selectors import lobby_day_stats, lobby_summary
from tests.floor.lobby.conftest import seat

pytestmark = pytest.mark.django_db


def percentile(values, p):
    """Linear interpolation between closest ranks (what percentile_cont computes), by hand."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _served(branch, teller, service, taken, called, done, *, no_show=False):
    ticket = services.ticket_take(branch=branch, service=service)
    services.ticket_call(actor=teller, ticket_id=ticket.public_id)
    if no_show:
        services.ticket_no_show(actor=teller, ticket_id=ticket.public_id)
    else:
        services.ticket_done(actor=teller, ticket_id=ticket.public_id)
    Ticket.objects.filter(pk=ticket.pk).update(taken_at=taken, called_at=called, last_called_at=called,
                                               done_at=done)
    return ticket


def test_summary_figures_equal_a_hand_computation(branch, staff, lobby):
    teller = staff["teller"]
    seat(teller, "1")
    now = timezone.now()
    base = now - dt.timedelta(minutes=30)
    # (wait seconds, service seconds) of served cash tickets
    served = [(60, 120), (300, 240), (30, 90), (600, 60), (120, 300)]
    for i, (wait, service) in enumerate(served):
        taken = base + dt.timedelta(seconds=i)
        _served(branch, teller, "cash", taken, taken + dt.timedelta(seconds=wait),
                taken + dt.timedelta(seconds=wait + service))
    no_show_taken = base + dt.timedelta(seconds=10)
    _served(branch, teller, "cash", no_show_taken, no_show_taken + dt.timedelta(seconds=900),
            no_show_taken + dt.timedelta(seconds=960), no_show=True)
    first = services.ticket_take(branch=branch, service="cash")
    services.ticket_take(branch=branch, service="cash")
    services.ticket_take(branch=branch, service="desk")
    Ticket.objects.filter(pk=first.pk).update(taken_at=now - dt.timedelta(seconds=420))

    summary = lobby_summary(branch, now=now)
    cash = next(s for s in summary["services"] if s["code"] == "cash")
    waits = [w for w, _ in served] + [900]
    service_times = [s for _, s in served]
    assert cash["waiting"] == 2
    assert cash["longest_wait_seconds"] == pytest.approx(420)
    assert (cash["taken"], cash["called"], cash["served"], cash["no_show"]) == (8, 6, 5, 1)
    assert cash["wait_median_seconds"] == pytest.approx(percentile(waits, 0.5))
    assert cash["wait_p90_seconds"] == pytest.approx(percentile(waits, 0.9))
    assert cash["service_median_seconds"] == pytest.approx(percentile(service_times, 0.5))
    assert cash["service_p90_seconds"] == pytest.approx(percentile(service_times, 0.9))
    desk = next(s for s in summary["services"] if s["code"] == "desk")
    assert (desk["waiting"], desk["served"], desk["wait_median_seconds"]) == (1, 0, None)
    complaints = next(s for s in summary["services"] if s["code"] == "complaints")
    assert (complaints["waiting"], complaints["longest_wait_seconds"]) == (0, None)
    assert summary["total"]["waiting"] == 3
    assert summary["total"]["served"] == 5
    assert summary["total"]["wait_median_seconds"] == pytest.approx(percentile(waits, 0.5))

    today = lobby_day_stats(branch, services.branch_day(branch, now))
    assert today["services"][0]["wait_p90_seconds"] == cash["wait_p90_seconds"]
    assert today["services"][0]["longest_wait_seconds"] is None


def test_day_stats_of_a_past_day_and_a_future_day(branch, staff, lobby):
    seat(staff["teller"], "1")
    ticket = services.ticket_take(branch=branch, service="cash")
    services.ticket_call(actor=staff["teller"], ticket_id=ticket.public_id)
    services.ticket_done(actor=staff["teller"], ticket_id=ticket.public_id)
    yesterday = ticket.day - dt.timedelta(days=1)
    Ticket.objects.filter(pk=ticket.pk).update(day=yesterday)
    past = lobby_day_stats(branch, yesterday)
    assert past["total"]["served"] == 1
    assert lobby_summary(branch)["total"]["served"] == 0
    with pytest.raises(ApplicationError) as exc:
        lobby_day_stats(branch, ticket.day + dt.timedelta(days=1))
    assert exc.value.code == "FUTURE_DAY"


def test_demo_lobby_has_served_waiting_and_called_tickets(branch, staff):
    from branch_ops.floor.lobby.demo import seed_lobby_demo

    seed_lobby_demo(branch, {"teller": staff["teller"], "csr": staff["csr"]})
    summary = lobby_summary(branch)
    assert summary["total"]["served"] == 6
    assert summary["total"]["no_show"] == 1
    assert summary["total"]["waiting"] == 3
    called = Ticket.objects.get(status="called")
    assert (called.priority_rule.code, called.counter.number) == ("disabled", "1")
