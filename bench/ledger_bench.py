"""Ledger measurements of the benchmark (called by bench/run.py, in its throwaway database).

1. Postings per second through ``accounts.services.transfer_post`` with 1, 2 and 4
   concurrent clients (forked processes, as gunicorn's sync workers are, each with its own
   database connection), each client moving money between its own accounts, chosen at
   random among 100 funded accounts.
2. A hot account: every posting credits the same account, 1 and 4 clients.
   Diagnostics: 4 clients at 4 branches (their own audit chains), 4 clients as threads of
   one process (sharing its GIL), CPU use during each run, and one transfer_post split into
   its parts under cProfile.
3. A ledger of 1,000,000 entries, bulk-loaded in SQL (and checked with ``ledger_verify``):
   median latency of a balance read, of a 100-line statement page and of a balance computed
   by summing every entry, on an account that holds about 100,000 of them.

Every figure is a measurement that the caller prints beside a reference of the same run.
"""

from __future__ import annotations

import collections
import cProfile
import datetime as dt
import io
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CURRENCY = "AED"
FUNDED_ACCOUNTS = 100
FUNDING = 100_000_000  # 1,000,000.00 AED each: random 1.00 transfers never run out
TRANSFER_AMOUNT = 100  # 1.00 AED
PASSWORD = "Bench-password-2026"

BULK_ACCOUNTS = 1_000  # customer accounts of the 1M-entry ledger (one of them hot)
BULK_TRANSACTIONS = 500_000  # 2 entries each: 1,000,000 entries
HOT_EVERY = 5  # every 5th transfer touches the hot account: ~100,000 of its entries
BULK_DAYS = 365
STATEMENT_DAYS = 30

READ_SECONDS = 3.0  # at most this long per read measurement
READ_CALLS = 500  # ... and at most this many calls


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- concurrent clients ---------------------------------------------------------------------------

@dataclass
class RunResult:
    clients: int
    ops_per_s: float
    ops: int
    errors: int
    first_error: str
    client_cpu: float | None  # CPU of this (client) process per wall second; None when clients are processes
    machine_cpu: float  # CPU of the whole machine (all processes, PostgreSQL included) per wall second
    processes: bool = False
    waits: dict | None = None  # {what the clients' backends were doing: share of the samples}

    def note(self) -> str:
        client = "" if self.client_cpu is None else f"client process {self.client_cpu:.2f} core, "
        text = f"{self.ops:,} postings; {client}machine {self.machine_cpu:.2f} cores busy"
        if self.errors:
            text += f"; {self.errors} errors, first: {self.first_error[:80]}"
        return text

    def waits_text(self) -> str:
        return ", ".join(f"{what} {share:.0%}" for what, share in (self.waits or {}).items() if share >= 0.005)


# What a client's backend is doing, from pg_stat_activity's (state, wait_event_type, wait_event)
_WAIT_NAMES = {
    ("active", None, None): "running (CPU)",
    ("idle in transaction", "Client", "ClientRead"): "in a transaction, waiting for its client",
    ("idle", "Client", "ClientRead"): "between transactions, waiting for its client",
    ("active", "Lock", "transactionid"): "waiting for a row lock",
    ("active", "Lock", "tuple"): "waiting for a row lock",
    ("active", "IO", "WalSync"): "COMMIT: flushing the WAL",
    ("active", "LWLock", "WALWrite"): "COMMIT: waiting for another's WAL flush",
}


def _sample_waits(database: str, stop: threading.Event, samples: collections.Counter) -> None:
    """Every 20 ms until ``stop``: what each client backend of ``database`` is doing (often
    enough for a few thousand samples a run, seldom enough that its own queries do not weigh
    on the rate measured meanwhile)."""
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    with psycopg.connect(dbname="postgres", host=params.get("HOST") or None, port=params.get("PORT") or None,
                         user=params.get("USER") or None, password=params.get("PASSWORD") or None,
                         autocommit=True) as conn:
        query = ("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                 "WHERE datname = %s AND backend_type = 'client backend'")
        while not stop.wait(0.02):
            for row in conn.execute(query, [database]):
                samples[_WAIT_NAMES.get(row, " ".join(str(x) for x in row if x))] += 1


def _shares(samples: collections.Counter) -> dict:
    total = sum(samples.values()) or 1
    return {what: n / total for what, n in samples.most_common()}


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _client_loop(op: Callable[[int], None], start: float, end: float) -> tuple[int, int, str]:
    """Call ``op`` back to back until ``end``; count the calls that complete in [start, end)."""
    count = errors = 0
    first_error = ""
    i = 0
    while True:
        try:
            op(i)
            ok = True
        except Exception as exc:  # counted and reported, never hidden
            ok = False
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
            if errors > 100:
                break
        i += 1
        now = time.perf_counter()
        if now >= end:
            break
        if ok and now >= start:
            count += 1
    return count, errors, first_error


def concurrent_rate(ops: list[Callable[[int], None]], seconds: float, warmup: float,
                    processes: bool = False, waits: bool = False) -> RunResult:
    """Run ``ops[k](i)`` back to back in one thread (or, with ``processes``, one forked
    process) per client, each with its own database connection; after ``warmup`` seconds
    count the calls that complete in the next ``seconds``, the same window for all. With
    ``waits``, also sample what the clients' backends are doing (pg_stat_activity)."""
    from django.db import connection

    n = len(ops)
    if processes:
        ctx = multiprocessing.get_context("fork")
        barrier, results = ctx.Barrier(n + 1), ctx.SimpleQueue()
        window = ctx.Array("d", 2)
        connection.close()  # a child never shares the parent's connection

        def child(k: int) -> None:
            try:
                barrier.wait()
                results.put((k, *_client_loop(ops[k], window[0], window[1])))
            finally:
                connection.close()

        workers = [ctx.Process(target=child, args=(k,), name=f"bench-client-{k}") for k in range(n)]
    else:
        barrier, out = threading.Barrier(n + 1), {}
        window = [0.0, 0.0]

        def thread(k: int) -> None:
            try:
                barrier.wait()
                out[k] = _client_loop(ops[k], window[0], window[1])
            finally:
                connection.close()  # this thread's own connection

        workers = [threading.Thread(target=thread, args=(k,), name=f"bench-client-{k}") for k in range(n)]
    for w in workers:
        w.start()
    window[0] = time.perf_counter() + warmup  # perf_counter is CLOCK_MONOTONIC: the same in a forked child
    window[1] = window[0] + seconds
    barrier.wait()
    database = connection.settings_dict["NAME"]
    time.sleep(max(0.0, window[0] - time.perf_counter()))
    cpu0, busy0 = time.process_time(), _machine_busy()
    stop, samples = threading.Event(), collections.Counter()
    sampler = None
    if waits:  # its own thread and connection: its CPU is the machine's, not the clients'
        sampler = threading.Thread(target=_sample_waits, args=(database, stop, samples), name="bench-waits")
        sampler.start()
    time.sleep(max(0.0, window[1] - time.perf_counter()))
    cpu, busy = time.process_time() - cpu0, _machine_busy() - busy0
    stop.set()
    if sampler is not None:
        sampler.join()
    for w in workers:
        w.join()
    if processes:
        rows = [results.get() for _ in range(n)]
        per_client = [tuple(r[1:]) for r in rows]
    else:
        per_client = [out[k] for k in range(n)]
    total = sum(c for c, _e, _f in per_client)
    errors = sum(e for _c, e, _f in per_client)
    first = next((f for _c, _e, f in per_client if f), "")
    return RunResult(clients=n, ops_per_s=total / seconds, ops=total, errors=errors, first_error=first,
                     client_cpu=None if processes else cpu / seconds, machine_cpu=busy / seconds,
                     processes=processes, waits=_shares(samples) if waits else None)


# --- accounts -------------------------------------------------------------------------------------

@dataclass
class Desk:
    """A branch with its staff: ``csrs`` post transfers (one per client), ``supervisor``
    approves account openings."""

    branch: object
    csrs: list
    supervisor: object
    customer_number: str
    accounts: list = field(default_factory=list)  # BankAccount, with .ledger


def make_desk(code: str, clients: int = 1) -> Desk:
    from accounts.services import customer_create
    from branch_ops.models import Branch, Currency
    from branch_ops.services import staff_create

    branch = Branch.objects.create(code=code, name=f"Bench {code}", currency=Currency.objects.get(code=CURRENCY),
                                   time_zone="Asia/Dubai", country="AE")
    low = code.lower()
    csrs = [staff_create(actor=None, branch=branch, username=f"csr{k}.{low}", role="csr", password=PASSWORD).user
            for k in range(clients)]
    supervisor = staff_create(actor=None, branch=branch, username=f"super.{low}", role="supervisor",
                              password=PASSWORD).user
    customer = customer_create(actor=csrs[0], data={"full_name": f"Bench Customer {code}"})
    return Desk(branch=branch, csrs=csrs, supervisor=supervisor, customer_number=customer.number)


def open_account(desk: Desk):
    """One account the way the desk opens it: CSR request, supervisor approval."""
    from accounts.models import BankAccount
    from accounts.services import account_open_request
    from branch_ops.approvals import approval_decide
    from branch_ops.models import Approval

    account = account_open_request(actor=desk.csrs[0], customer_number=desk.customer_number, product="current",
                                   currency=CURRENCY, reason="bench")
    approval = Approval.objects.get(kind="account.open", subject_type="accounts.bankaccount",
                                    subject_id=str(account.public_id), status=Approval.Status.PENDING)
    approval_decide(approval_id=approval.public_id, actor=desk.supervisor, approve=True, reason="bench")
    return BankAccount.objects.select_related("ledger", "branch").get(pk=account.pk)


def fund(desk: Desk, accounts: list, amount: int) -> None:
    """Opening balances from the branch's suspense account, one posting per account."""
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.services import internal_account
    from branch_ops.money import Money

    suspense = internal_account(branch=desk.branch, kind="suspense", currency=CURRENCY)
    with transaction.atomic():
        for account in accounts:
            ledger_post(kind="opening_balance", branch=desk.branch, description="bench opening balance",
                        lines=[Line(suspense, DEBIT, Money(amount, CURRENCY)),
                               Line(account.ledger, CREDIT, Money(amount, CURRENCY))])


def bulk_accounts(desk: Desk, n: int) -> list:
    """``n`` more active accounts of the desk's customer, written in bulk (ledger account,
    bank account, primary holder, numbers from the same sequence as the service uses)."""
    from django.db import connection, transaction

    from accounts.models import AccountHolder, BankAccount, Customer, LedgerAccount
    from accounts.numbers import account_number_from_serial

    customer = Customer.objects.get(number=desk.customer_number)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT nextval('accounts_account_serial') FROM generate_series(1, %s)", [n])
            numbers = [account_number_from_serial(serial) for (serial,) in cur.fetchall()]
        ledgers = LedgerAccount.objects.bulk_create([
            LedgerAccount(kind=LedgerAccount.Kind.CUSTOMER, currency_id=CURRENCY, branch=desk.branch, name=number,
                          debit_normal=False) for number in numbers])
        accounts = BankAccount.objects.bulk_create([
            BankAccount(number=number, customer=customer, product=BankAccount.Product.CURRENT, currency_id=CURRENCY,
                        branch=desk.branch, ledger=ledger, status=BankAccount.Status.ACTIVE)
            for number, ledger in zip(numbers, ledgers, strict=True)])
        AccountHolder.objects.bulk_create([AccountHolder(account=a, customer=customer, primary=True) for a in accounts])
    return accounts


# --- 1 and 2: postings per second -------------------------------------------------------------------

def transfer_statements() -> int:
    """How many SQL statements one transfer_post sends, counting any BEGIN and COMMIT (Django logs both)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import transfer_post
    from branch_ops.money import Money

    desk = _DESKS["main"]
    a, b = desk.accounts[0], desk.accounts[1]
    with CaptureQueriesContext(connection) as ctx:
        transfer_post(actor=desk.csrs[0], from_account=a.number, to_account=b.number,
                      amount=Money(TRANSFER_AMOUNT, CURRENCY), description="bench", idempotency_claim=None)
    return len(ctx.captured_queries)


_DESKS: dict[str, Desk] = {}


def setup_postings(max_clients: int) -> None:
    desk = make_desk("BENCHL", clients=max_clients)
    say(f"  opening {FUNDED_ACCOUNTS} + 1 accounts through account_open_request + approval_decide ...")
    desk.accounts = [open_account(desk) for _ in range(FUNDED_ACCOUNTS + 1)]
    fund(desk, desk.accounts, FUNDING)
    _DESKS["main"] = desk


def _transfer_op(actor, numbers: list[str], rng: random.Random, hot: str | None,
                 keyed: bool = False) -> Callable[[int], None]:
    """One client's transfer; ``keyed``: each with an ``Idempotency-Key`` claim of its own, as
    every screen and API transfer carries (the record is written by the posting statement)."""
    from accounts.services import transfer_post
    from branch_ops import idempotency
    from branch_ops.money import Money

    amount = Money(TRANSFER_AMOUNT, CURRENCY)
    render = lambda tx: (201, {"id": str(tx.public_id)})  # noqa: E731

    def op(i: int) -> None:
        if hot is None:
            source, target = rng.sample(numbers, 2)
        else:
            source, target = rng.choice(numbers), hot
        claim = None
        if keyed:
            claim = idempotency.Claim(user=actor, key=f"bench-{os.getpid()}-{rng.getrandbits(64):x}-{i}",
                                      scope="transfer", request_hash="bench", render=render)
        transfer_post(actor=actor, from_account=source, to_account=target, amount=amount,
                      description="bench transfer", idempotency_claim=claim)

    return op


def postings_rate(clients: int, seconds: float, warmup: float, *, hot: bool = False,
                  actors: list | None = None, processes: bool = False, waits: bool = False,
                  keyed: bool = False) -> RunResult:
    """``clients`` threads (or processes); each takes its own share of the funded accounts
    (disjoint, so uncontended) and transfers between two of them at random, or, with
    ``hot``, from one of them to the one hot account; ``keyed``: each transfer with an
    ``Idempotency-Key``."""
    desk = _DESKS["main"]
    hot_account, funded = desk.accounts[0], desk.accounts[1:]
    actors = actors or desk.csrs
    ops = []
    for k in range(clients):
        share = [a.number for a in funded[k::clients]]
        ops.append(_transfer_op(actors[k], share, random.Random(1000 * clients + k),
                                hot_account.number if hot else None, keyed=keyed))
    return concurrent_rate(ops, seconds, warmup, processes=processes, waits=waits)


def branch_actors(clients: int) -> list:
    """One CSR at each of ``clients`` branches: each client writes its own audit chain."""
    return [make_desk(f"BENCHB{k}").csrs[0] for k in range(clients)]


# where the time of one transfer_post goes, under cProfile: (label, module file, function name)
_PHASES = [
    ("transfer_post, all of it", "accounts/services.py", "transfer_post"),
    ("  ledger_post (one statement: look up and lock both accounts, write transaction, entries, totals, "
     "audit, outbox, if every rule holds)", "accounts/ledger.py", "ledger_post"),
    ("    _check_posting (only after a refusal: which rule broke, on the locked rows)", "accounts/ledger.py",
     "_check_posting"),
    ("    audit_event_row", "branch_ops/audit.py", "audit_event_row"),
    ("    event_row", "branch_ops/outbox.py", "event_row"),
    ("  COMMIT (deferred balance triggers + WAL flush)", "psycopg/connection.py", "commit"),
    ("  waiting on PostgreSQL: psycopg's wait, every statement", "psycopg/connection.py", "wait"),
]


@dataclass
class Profile:
    calls: int
    plain_ms: float  # one transfer_post without the profiler
    phases: list  # (label, ms per transfer under cProfile, share of transfer_post)
    python_share: float  # share of transfer_post outside cursor.execute and commit
    text: str  # pstats top functions


def profile_transfers(calls: int = 300, top: int = 25) -> Profile:
    """Time ``calls`` single-client transfer_post calls plainly, then under cProfile; split
    the profiled time into the phases of a transfer."""
    desk = _DESKS["main"]
    op = _transfer_op(desk.csrs[0], [a.number for a in desk.accounts[1:]], random.Random(7), None)
    for i in range(50):
        op(i)
    start = time.perf_counter()
    for i in range(calls):
        op(i)
    plain = (time.perf_counter() - start) / calls * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(calls):
        op(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    cumulative = {}
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        for label, where, func in _PHASES:
            if name == func and (filename.endswith(where) or where == filename):
                cumulative[label] = cumulative.get(label, 0.0) + ct
    total = cumulative.get(_PHASES[0][0], 0.0) or 1.0
    phases = [(label, cumulative.get(label, 0.0) / calls * 1000, cumulative.get(label, 0.0) / total)
              for label, _w, _f in _PHASES]
    waiting = cumulative.get(_PHASES[-1][0], 0.0)  # COMMIT waits in the same function
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    return Profile(calls=calls, plain_ms=plain, phases=phases, python_share=1 - waiting / total, text=out.getvalue())


# --- 3: the 1,000,000-entry ledger ------------------------------------------------------------------

_LOAD_SQL = """
SET LOCAL session_replication_role = replica;

CREATE TEMP TABLE bench_raw ON COMMIT DROP AS
WITH t AS (
    SELECT n,
           100 + (n * 7907) %% 9900 AS amount,
           (n * 7919) %% 999 AS i,
           ((n * 7919) %% 999 + 1 + (n * 104729) %% 998) %% 999 AS j
    FROM generate_series(1::bigint, %(transactions)s) AS n
)
SELECT n, 'D'::varchar(1) AS side,
       CASE WHEN n <= %(accounts)s THEN %(suspense)s::bigint
            WHEN n %% %(hot_every)s = 0 AND (n / %(hot_every)s) %% 2 = 1 THEN %(hot)s::bigint
            ELSE (%(others)s::bigint[])[i + 1] END AS account_id,
       CASE WHEN n = 1 THEN %(hot_funding)s::bigint WHEN n <= %(accounts)s THEN %(funding)s::bigint
            ELSE amount END AS amount
FROM t
UNION ALL
SELECT n, 'C'::varchar(1),
       CASE WHEN n = 1 THEN %(hot)s::bigint
            WHEN n <= %(accounts)s THEN (%(others)s::bigint[])[n - 1]
            WHEN n %% %(hot_every)s = 0 AND (n / %(hot_every)s) %% 2 = 0 THEN %(hot)s::bigint
            WHEN n %% %(hot_every)s = 0 THEN (%(others)s::bigint[])[i + 1]
            ELSE (%(others)s::bigint[])[j + 1] END,
       CASE WHEN n = 1 THEN %(hot_funding)s::bigint WHEN n <= %(accounts)s THEN %(funding)s::bigint
            ELSE amount END
FROM t;

INSERT INTO accounts_ledgertransaction (id, public_id, kind, description, branch_id, created_by_id, posted_at,
                                        reverses_id, metadata)
SELECT %(base)s::bigint + n, gen_random_uuid(),
       CASE WHEN n <= %(accounts)s THEN 'opening_balance' ELSE 'transfer' END,
       'bench load', %(branch)s, NULL, %(t0)s::timestamptz + (n - 1) * %(step)s::interval, NULL, '{}'::jsonb
FROM generate_series(1::bigint, %(transactions)s) AS n;

INSERT INTO accounts_ledgerentry (transaction_id, account_id, side, amount, currency_id, account_version,
                                  balance_after, posted_at)
SELECT %(base)s::bigint + r.n, r.account_id, r.side, r.amount, a.currency_id,
       a.version + row_number() OVER w,
       CASE WHEN a.debit_normal THEN a.posted_debits - a.posted_credits ELSE a.posted_credits - a.posted_debits END
           + sum(CASE WHEN (r.side = 'D') = a.debit_normal THEN r.amount ELSE -r.amount END) OVER w,
       %(t0)s::timestamptz + (r.n - 1) * %(step)s::interval
FROM bench_raw r JOIN accounts_ledgeraccount a ON a.id = r.account_id
WINDOW w AS (PARTITION BY r.account_id ORDER BY r.n ROWS UNBOUNDED PRECEDING)
ORDER BY r.n, r.side DESC;

UPDATE accounts_ledgeraccount a
SET posted_debits = a.posted_debits + s.debits, posted_credits = a.posted_credits + s.credits,
    version = a.version + s.entries
FROM (SELECT account_id, coalesce(sum(amount) FILTER (WHERE side = 'D'), 0) AS debits,
             coalesce(sum(amount) FILTER (WHERE side = 'C'), 0) AS credits, count(*) AS entries
      FROM bench_raw GROUP BY account_id) s
WHERE a.id = s.account_id;

SELECT setval(pg_get_serial_sequence('accounts_ledgertransaction', 'id'), %(base)s::bigint + %(transactions)s);
"""


@dataclass
class BigLedger:
    hot: object  # BankAccount (select_related ledger, branch)
    entries: int
    hot_entries: int
    load_seconds: float
    verify_seconds: float
    verify_report: object
    t0: dt.datetime


def build_big_ledger() -> BigLedger:
    """1,000 accounts (the hot one through the services, the rest in bulk) and 500,000
    two-entry transactions over the past year, in SQL; then ``ledger_verify``."""
    from django.db import connection, transaction

    from accounts.ledger import ledger_verify
    from accounts.services import internal_account

    desk = make_desk("BENCHS")
    hot = open_account(desk)
    others = bulk_accounts(desk, BULK_ACCOUNTS - 1)
    suspense = internal_account(branch=desk.branch, kind="suspense", currency=CURRENCY)
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=BULK_DAYS)
    step = dt.timedelta(days=BULK_DAYS) / BULK_TRANSACTIONS
    say(f"  loading {BULK_TRANSACTIONS:,} transactions / {2 * BULK_TRANSACTIONS:,} entries over {BULK_ACCOUNTS:,} "
        f"accounts in SQL (triggers off for the load) ...")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('accounts_ledgertransaction', 'id'))")
        (base,) = cur.fetchone()
        cur.execute(_LOAD_SQL, {
            "transactions": BULK_TRANSACTIONS, "accounts": BULK_ACCOUNTS, "hot_every": HOT_EVERY,
            "suspense": suspense.pk, "hot": hot.ledger_id, "others": [a.ledger_id for a in others],
            "hot_funding": FUNDING * 100, "funding": FUNDING, "base": base, "branch": desk.branch.pk,
            "t0": t0, "step": step,
        })
    with connection.cursor() as cur:  # autocommit: VACUUM cannot run in a transaction
        cur.execute("VACUUM ANALYZE accounts_ledgerentry")
        cur.execute("VACUUM ANALYZE accounts_ledgertransaction")
        cur.execute("ANALYZE accounts_ledgeraccount")
        cur.execute("SELECT count(*) FROM accounts_ledgerentry")
        (entries,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM accounts_ledgerentry WHERE account_id = %s", [hot.ledger_id])
        (hot_entries,) = cur.fetchone()
    load = time.perf_counter() - start
    say(f"  loaded in {load:.1f} s; ledger_verify ...")
    start = time.perf_counter()
    report = ledger_verify()
    verify = time.perf_counter() - start
    return BigLedger(hot=hot, entries=entries, hot_entries=hot_entries, load_seconds=load, verify_seconds=verify,
                     verify_report=report, t0=t0)


@dataclass
class Latency:
    median_ms: float
    p95_ms: float
    calls: int


def latency(fn: Callable[[], object], warmup_calls: int = 5) -> Latency:
    for _ in range(warmup_calls):
        fn()
    samples = []
    deadline = time.perf_counter() + READ_SECONDS
    while len(samples) < READ_CALLS and time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return Latency(median_ms=statistics.median(samples), p95_ms=samples[int(0.95 * (len(samples) - 1))],
                   calls=len(samples))


@dataclass
class Reads:
    select1: Latency
    balance: Latency
    statement: Latency
    summing: Latency
    statement_lines: int
    statement_range: tuple[dt.date, dt.date]
    balance_value: int


def measure_reads(big: BigLedger) -> Reads:
    import zoneinfo

    from django.db import connection

    from accounts.models import LedgerAccount
    from accounts.selectors import account_statement, ledger_balance_by_summing

    hot = big.hot
    ledger_id = hot.ledger_id

    def select1() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    def balance_read() -> int:
        ledger = LedgerAccount.objects.get(pk=ledger_id)
        return ledger.balance + ledger.available

    zone = zoneinfo.ZoneInfo(hot.branch.time_zone)
    start = (big.t0 + dt.timedelta(days=BULK_DAYS // 2 - STATEMENT_DAYS // 2)).astimezone(zone).date()
    end = start + dt.timedelta(days=STATEMENT_DAYS - 1)

    def statement_page():
        return account_statement(account=hot, start=start, end=end, limit=100)

    ledger = LedgerAccount.objects.get(pk=ledger_id)
    page = statement_page()
    if len(page.lines) != 100 or page.next_cursor is None:
        raise SystemExit(f"statement page has {len(page.lines)} lines; expected a full page of 100")
    summed = ledger_balance_by_summing(ledger)
    if summed != ledger.balance:
        raise SystemExit(f"summing gives {summed}, the stored balance is {ledger.balance}")
    return Reads(select1=latency(select1), balance=latency(balance_read), statement=latency(statement_page),
                 summing=latency(lambda: ledger_balance_by_summing(ledger), warmup_calls=2),
                 statement_lines=len(page.lines), statement_range=(start, end), balance_value=ledger.balance)
