"""Lobby queue under load: N counters (threads, each with its own database connection)
calling tickets at once over a queue of M tickets, through the real services.

    .venv/bin/python bench/lobby_bench.py [--tickets 2000] [--counters 20]
    .venv/bin/python bench/run.py --only lobby    (the same, from the benchmark runner)

In a throwaway database ``bench_lobby`` (Django's migrations, dropped at the end; bench/run.py
uses its own): one branch, the three usual services, N tellers each seated at a counter that
serves all three, and M tickets taken through ``ticket_take`` (every tenth with priority).
Then all N threads start together at a barrier; each loops ``ticket_call_next`` +
``ticket_done`` until the queue answers QUEUE_EMPTY. Printed:

- tickets taken per second (one thread, before the run);
- calls per second (call-next) and full cycles per second (call-next + done), over the
  wall time of the concurrent run;
- "no ticket served twice: yes/no" (every id returned to a counter, counted) and "every
  ticket served: yes/no" (the database's count of done tickets), plus the audit chain check;
- ``lobby_summary`` on the finished day: median ms over 50 calls, and its query count.

Measurements, never assertions: tests do not time anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_DB = "bench_lobby"
TICKETS = 2000
COUNTERS = 20
SUMMARY_CALLS = 50

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class LobbyResults:
    tickets: int
    counters: int
    take_per_s: float
    wall_s: float
    calls: int
    served_ids: list = field(default_factory=list)
    done_in_db: int = 0
    left: int = 0
    errors: list = field(default_factory=list)
    per_counter: list = field(default_factory=list)
    summary_ms: float = 0.0
    summary_queries: int = 0
    audit_ok: bool = False
    audit_events: int = 0

    @property
    def served_twice(self) -> int:
        return sum(1 for n in Tally(self.served_ids).values() if n > 1)

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.wall_s

    @property
    def all_served(self) -> bool:
        return self.done_in_db == self.tickets and len(set(self.served_ids)) == self.tickets and self.left == 0


def measure(tickets: int = TICKETS, counters: int = COUNTERS) -> LobbyResults:
    """Run in the current (throwaway) database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from branch_ops.audit import audit_chain_verify
    from branch_ops.errors import ApplicationError
    from branch_ops.floor.lobby import services
    from branch_ops.floor.lobby.models import Counter, PriorityRule, Ticket
    from branch_ops.floor.lobby.reference_data import lobby_services_default, priority_rules_load
    from branch_ops.floor.lobby.selectors import lobby_summary
    from branch_ops.models import Branch, Currency
    from branch_ops.reference_data import currencies_load
    from branch_ops.services import staff_create

    currencies_load(Currency)
    priority_rules_load(PriorityRule)
    branch, _ = Branch.objects.get_or_create(code="LOBBY1", defaults={
        "name": "Lobby bench", "currency": Currency.objects.get(code="AED"), "time_zone": "Asia/Dubai",
        "country": "AE"})
    svc = lobby_services_default(branch)
    users = []
    for n in range(1, counters + 1):
        counter, _ = Counter.objects.get_or_create(branch=branch, number=str(n))
        counter.services.set(svc)
        user = staff_create(actor=None, branch=branch, username=f"teller.lobby{n:02d}", role="teller",
                            password="Bench-password-2026").user
        services.counter_sign_in(actor=user, counter_number=str(n))
        users.append(user)

    say(f"  taking {tickets} tickets (one thread) ...")
    codes = [s.code for s in svc]
    start = time.perf_counter()
    for i in range(tickets):
        services.ticket_take(branch=branch, service=codes[i % len(codes)], language="en",
                             priority_rule="elderly" if i % 10 == 0 else None)
    take_per_s = tickets / (time.perf_counter() - start)

    say(f"  {counters} counters calling at once ...")
    barrier = threading.Barrier(counters + 1)
    served: list[list] = [[] for _ in users]
    errors: list = []

    def work(k: int, user) -> None:
        try:
            barrier.wait()
            while True:
                try:
                    ticket = services.ticket_call_next(actor=user)
                except ApplicationError as exc:
                    if exc.code != "QUEUE_EMPTY":
                        raise
                    return
                services.ticket_done(actor=user, ticket_id=ticket.public_id)
                served[k].append(ticket.pk)
        except Exception as exc:  # noqa: BLE001 - reported
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k, u)) for k, u in enumerate(users)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ids = [pk for chunk in served for pk in chunk]
    result = LobbyResults(tickets=tickets, counters=counters, take_per_s=take_per_s, wall_s=wall, calls=len(ids),
                          served_ids=ids, errors=errors, per_counter=sorted(len(c) for c in served))
    result.done_in_db = Ticket.objects.filter(branch=branch, status="done").count()
    result.left = Ticket.objects.filter(branch=branch).exclude(status="done").count()

    timings = []
    for _ in range(SUMMARY_CALLS):
        t = time.perf_counter()
        lobby_summary(branch)
        timings.append((time.perf_counter() - t) * 1000)
    result.summary_ms = statistics.median(timings)
    with CaptureQueriesContext(connection) as ctx:
        lobby_summary(branch)
    result.summary_queries = len(ctx.captured_queries)
    report = audit_chain_verify(branch=branch)
    result.audit_ok, result.audit_events = report.ok, report.events_checked
    return result


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def render(r: LobbyResults) -> list[str]:
    lines = [
        "### Lobby queue",
        "",
        f"{r.counters} counters (one Python thread and one database connection each) start together and loop "
        f"`ticket_call_next` + `ticket_done` over {r.tickets:,} waiting tickets until the queue is empty "
        "(every tenth ticket with priority; every counter serves all three services, so all contend for the same "
        "rows; SKIP LOCKED). Each cycle is two durable transactions, two audit events and one outbox event.",
        "",
        "| measurement | value |",
        "|---|---:|",
        f"| tickets taken (`ticket_take`, one thread) | {r.take_per_s:,.0f} /s |",
        f"| calls (call-next) per second, {r.counters} counters at once | {r.calls_per_s:,.0f} /s |",
        f"| full cycles (call-next + done) per second | {r.calls_per_s:,.0f} /s ({r.wall_s:.1f} s for {r.calls:,}) |",
        f"| tickets per counter (least / most) | {r.per_counter[0] if r.per_counter else 0} / "
        f"{r.per_counter[-1] if r.per_counter else 0} |",
        f"| `lobby_summary` on the finished day, median of {SUMMARY_CALLS} | {r.summary_ms:.2f} ms, "
        f"{r.summary_queries} quer{'y' if r.summary_queries == 1 else 'ies'} |",
        f"| no ticket served twice | {_yes(r.served_twice == 0)} |",
        f"| every ticket served ({r.done_in_db:,} done in the database, {r.left} left) | {_yes(r.all_served)} |",
        f"| audit chain intact ({r.audit_events:,} events) | {_yes(r.audit_ok)} |",
        "",
    ]
    if r.errors:
        lines += [f"- errors in counter threads: {len(r.errors)}; first: {r.errors[0]}", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--counters", type=int, default=COUNTERS)
    args = parser.parse_args(argv)

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = APP_DB
    say(f"migrating throwaway database {APP_DB} ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        result = measure(args.tickets, args.counters)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    say()
    say("\n".join(render(result)))
    say(f"no ticket served twice: {'yes' if result.served_twice == 0 else 'no'}")
    say(f"every ticket served: {'yes' if result.all_served else 'no'}")
    return 0 if result.served_twice == 0 and result.all_served and not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
