"""Demo data of the lobby: the three usual services, three counters, and a morning of
tickets: some served, one no-show, one at the teller's counter now, a few waiting (one with
priority). Tickets go through the real services; to give them waits of minutes rather than
milliseconds, the demo then moves their times back — something no service allows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from branch_ops.floor.lobby import services
from branch_ops.floor.lobby.models import Counter, PriorityRule, Ticket
from branch_ops.floor.lobby.reference_data import lobby_services_default, priority_rules_load

#: (service, language, priority rule, minutes waited, minutes served or None for a no-show)
SERVED = [
    ("cash", "en", None, 4, 3), ("cash", "ar", None, 7, 5), ("desk", "it", None, 12, 15),
    ("cash", "zh-hans", "elderly", 1, 4), ("complaints", "en", None, 9, 20), ("desk", "ar", None, 6, None),
    ("cash", "en", None, 3, 2),
]
WAITING = [("cash", "ar", None), ("desk", "en", None), ("cash", "it", "disabled"), ("complaints", "zh-hans", None)]


def seed_lobby_demo(branch, users: dict) -> None:
    priority_rules_load(PriorityRule)
    svc = {s.code: s for s in lobby_services_default(branch)}
    for number, name, codes in (("1", "Cash 1", ("cash",)), ("2", "Cash 2", ("cash",)),
                                ("3", "Service desk", ("desk", "complaints"))):
        counter, _ = Counter.objects.get_or_create(branch=branch, number=number, defaults={"name": name})
        counter.services.set([svc[c] for c in codes])
    teller, csr = users["teller"], users["csr"]
    services.counter_sign_in(actor=teller, counter_number="1")
    services.counter_sign_in(actor=csr, counter_number="3")
    start = timezone.now() - dt.timedelta(hours=2)
    for i, (code, lang, rule, waited, served) in enumerate(SERVED):
        actor = teller if code == "cash" else csr
        ticket = services.ticket_take(branch=branch, service=code, language=lang, priority_rule=rule)
        services.ticket_call(actor=actor, ticket_id=ticket.public_id)
        taken = start + dt.timedelta(minutes=10 * i)
        called = taken + dt.timedelta(minutes=waited)
        if served is None:
            services.ticket_no_show(actor=actor, ticket_id=ticket.public_id)
            done = called + dt.timedelta(minutes=2)
        else:
            services.ticket_done(actor=actor, ticket_id=ticket.public_id)
            done = called + dt.timedelta(minutes=served)
        Ticket.objects.filter(pk=ticket.pk).update(taken_at=taken, called_at=called, last_called_at=called,
                                                   done_at=done)
    for i, (code, lang, rule) in enumerate(WAITING):
        ticket = services.ticket_take(branch=branch, service=code, language=lang, priority_rule=rule)
        Ticket.objects.filter(pk=ticket.pk).update(taken_at=timezone.now() - dt.timedelta(minutes=12 - 3 * i))
    services.ticket_call_next(actor=teller)  # the teller has a customer called now
