"""Load: K tellers at once posting cash deposits and withdrawals over HTTP against gunicorn,
on the 1,000,000-entry ledger of ``ledger_bench.build_big_ledger`` (bench/README.md, "Load
method"). Run by ``bench/run.py`` (``--only load`` for this part alone).

Everything is on 127.0.0.1: gunicorn (``chaos.run.Server``: production settings, sync
workers) serves the bench database; K client threads in this process, one teller each (own
drawer, own API token), send ``POST /api/v1/teller/deposits/`` and ``/withdrawals/`` of one
10 AED note to random accounts of the big ledger's 1,000, each with a fresh
``Idempotency-Key``, back to back for a bounded time. The reference, in the same run and
with the same K clients: ``GET /healthz`` (HTTP, gunicorn, Django, ``SELECT 1``).
"""

from __future__ import annotations

import http.client
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CURRENCY = "AED"
PASSWORD = "Bench-password-2026"
GENEROUS = 10**12
NOTES = {"1000": 1}  # one 10 AED note
AMOUNT = 1000
DRAWER_NOTES = {"1000": 20_000}  # each drawer starts with 200,000 AED in 10 AED notes
CLIENTS = 8
WORKERS = 4
SECONDS = 20.0
WARMUP = 2.0


def say(text: str = "") -> None:
    import sys

    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class Series:
    label: str
    samples_ms: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and 200 <= s < 300)

    @property
    def ops_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.samples_ms)
        return data[min(len(data) - 1, int(q * (len(data) - 1)))] if data else float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else float("nan")


@dataclass
class LoadResults:
    clients: int
    workers: int
    seconds: float
    entries: int
    accounts: int
    healthz: Series
    cash: Series
    single: Series  # the same requests from one client: the latency without queueing
    loadavg: tuple  # the machine's 1-minute load average before and after the cash runs
    verify_problems: int
    verify_entries: int


def setup_tellers(branch, clients: int) -> list[str]:
    """K tellers with an open drawer full of 10 AED notes and an API token each, through the
    services (as bench/teller_bench.py and chaos/run.py do)."""
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.services import internal_account
    from branch_ops.models import Currency
    from branch_ops.money import Money
    from branch_ops.services import api_token_issue, staff_create
    from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer
    from teller.reference_data import denominations_load
    from teller.services import drawer_session_open, vault_transfer_confirm, vault_transfer_request

    low = branch.code.lower()
    supervisor = staff_create(actor=None, branch=branch, username=f"loadsuper.{low}", role="supervisor",
                              password=PASSWORD).user
    denominations_load(Denomination, Currency)
    BranchCashSettings.objects.update_or_create(branch=branch, defaults={"large_cash_threshold": GENEROUS})
    for operation in ("deposit", "withdrawal", "drawer_max"):
        CashLimit.objects.update_or_create(branch=branch, role="teller", operation=operation, currency_id=CURRENCY,
                                           defaults={"max_amount": GENEROUS})
    stock = Money(10**10, CURRENCY)
    with transaction.atomic():
        ledger_post(kind="cash_delivery", branch=branch, description="load bench cash delivery", lines=[
            Line(internal_account(branch=branch, kind="vault_cash", currency=CURRENCY), DEBIT, stock),
            Line(internal_account(branch=branch, kind="suspense", currency=CURRENCY), CREDIT, stock)])
    tokens = []
    for k in range(clients):
        teller = staff_create(actor=None, branch=branch, username=f"loadteller{k}.{low}", role="teller",
                              password=PASSWORD).user
        Drawer.objects.create(branch=branch, code=f"LD{k:02d}", teller=teller)
        drawer_session_open(actor=teller, counts={CURRENCY: {}})
        transfer = vault_transfer_request(actor=teller, direction="to_drawer", currency=CURRENCY,
                                          denominations=DRAWER_NOTES)
        vault_transfer_confirm(actor=supervisor, transfer_id=transfer.public_id)
        _token, secret = api_token_issue(actor=teller, username=teller.username, name="load bench",
                                         rate_limit="9999999/min")
        tokens.append(secret)
    return tokens


def _call(port: int, method: str, path: str, body: dict | None, token: str | None) -> int:
    from chaos.run import http_call

    try:
        status, _data, _headers = http_call(port, method, path, body, token, str(uuid.uuid4()) if body else None,
                                            timeout=30)
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    return status


def run_clients(port: int, make_request, clients: int, seconds: float, warmup: float, label: str) -> Series:
    """``clients`` threads call ``make_request(k, rng)`` back to back; requests that start in
    the ``seconds`` after ``warmup`` count."""
    series = Series(label=label)
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + seconds

    def worker(k: int) -> None:
        rng = random.Random(k)
        while True:
            began = time.perf_counter()
            if began >= measure_to:
                return
            status = make_request(k, rng)
            took = (time.perf_counter() - began) * 1000
            if began >= measure_from:
                with lock:
                    series.statuses[status] += 1
                    if isinstance(status, int) and 200 <= status < 300:
                        series.samples_ms.append(took)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    series.seconds = seconds
    return series


def measure_load(big, clients: int = CLIENTS, seconds: float = SECONDS, workers: int = WORKERS) -> LoadResults:
    from django.db import connection, connections

    from accounts.ledger import ledger_verify
    from accounts.models import BankAccount
    from chaos.run import Server

    branch = big.hot.branch
    numbers = list(BankAccount.objects.filter(branch=branch, currency_id=CURRENCY, status="active")
                   .values_list("number", flat=True))
    say(f"  load: {clients} tellers (drawer, token) at {branch.code}; gunicorn with {workers} workers ...")
    tokens = setup_tellers(branch, clients)
    database = connection.settings_dict["NAME"]
    connections.close_all()
    log_dir = Path(__file__).resolve().parent.parent / ".chaos"
    log_dir.mkdir(exist_ok=True)
    server = Server(database, workers, log_dir)
    party = {"name": "Bench Customer", "document": "P0000000", "document_checked": True}
    try:
        server.wait_ready()

        def healthz(k: int, rng: random.Random):
            return _call(server.port, "GET", "/healthz", None, None)

        def cash(k: int, rng: random.Random):
            body = {"account": rng.choice(numbers), "amount": {"amount": AMOUNT, "currency": CURRENCY},
                    "denominations": NOTES}
            if rng.random() < 0.5:
                return _call(server.port, "POST", "/api/v1/teller/deposits/", body, tokens[k])
            return _call(server.port, "POST", "/api/v1/teller/withdrawals/", {**body, "party": party}, tokens[k])

        say(f"  load: GET /healthz, {clients} clients, {seconds:g} s (reference) ...")
        ref = run_clients(server.port, healthz, clients, seconds, WARMUP, "GET /healthz")
        say(f"    {ref.ops_per_s:,.0f} req/s, p50 {ref.p50:.1f} ms, p95 {ref.pct(0.95):.1f} ms")
        load_before = os.getloadavg()[0]
        say(f"  load: cash deposits and withdrawals, {clients} clients, {seconds:g} s ...")
        cash_series = run_clients(server.port, cash, clients, seconds, WARMUP,
                                  "POST teller/deposits/ and /withdrawals/")
        say(f"    {cash_series.ops_per_s:,.0f} ops/s, p50 {cash_series.p50:.1f} ms, p95 {cash_series.pct(0.95):.1f} ms; "
            f"answers {dict(cash_series.statuses)}")
        say(f"  load: the same from 1 client, {seconds / 2:g} s ...")
        single = run_clients(server.port, cash, 1, seconds / 2, WARMUP, "1 client")
        say(f"    {single.ops_per_s:,.0f} ops/s, p50 {single.p50:.1f} ms, p95 {single.pct(0.95):.1f} ms")
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
    report = ledger_verify()
    return LoadResults(clients=clients, workers=workers, seconds=seconds, entries=big.entries, accounts=len(numbers),
                       healthz=ref, cash=cash_series, single=single, loadavg=(load_before, load_after),
                       verify_problems=len(report.problems),
                       verify_entries=report.entries_checked)


def render(r: LoadResults) -> list[str]:
    c, h = r.cash, r.healthz
    others = {s: n for s, n in c.statuses.items() if not (isinstance(s, int) and 200 <= s < 300)}
    return [
        "### Load",
        "",
        f"{r.clients} client threads in this process, one teller each (own drawer, own API token), against gunicorn "
        f"on 127.0.0.1 ({r.workers} sync workers, production settings) on the 1M-entry ledger ({r.entries:,} entries "
        f"when loaded): each posts a cash deposit or a withdrawal (at random) of one 10 AED note to a random one of "
        f"its {r.accounts:,} accounts, with a fresh Idempotency-Key, back to back; {WARMUP:g} s warm-up, then "
        f"{r.seconds:g} s counted. Latency is the client's (connect, request, answer). Reference: `GET /healthz` "
        "with the same clients, just before.",
        "",
        "| measurement | ops/s | p50 ms | p95 ms | p99 ms | ratio to reference ops/s |",
        "|---|---:|---:|---:|---:|---:|",
        f"| reference: `GET /healthz` (HTTP + Django + `SELECT 1`), {r.clients} clients | {h.ops_per_s:,.0f} "
        f"| {h.p50:.1f} | {h.pct(0.95):.1f} | {h.pct(0.99):.1f} | 1.00 |",
        f"| cash deposits + withdrawals over HTTP, {r.clients} tellers | {c.ops_per_s:,.0f} | {c.p50:.1f} "
        f"| {c.pct(0.95):.1f} | {c.pct(0.99):.1f} | {c.ops_per_s / h.ops_per_s if h.ops_per_s else 0:.2f}x |",
        f"| diagnostic: the same requests from 1 client ({r.seconds / 2:g} s) | {r.single.ops_per_s:,.0f} "
        f"| {r.single.p50:.1f} | {r.single.pct(0.95):.1f} | {r.single.pct(0.99):.1f} "
        f"| {r.single.ops_per_s / h.ops_per_s if h.ops_per_s else 0:.2f}x |",
        "",
        f"- the machine's 1-minute load average: {r.loadavg[0]:.1f} before the cash runs, {r.loadavg[1]:.1f} after "
        f"({os.cpu_count()} cores; more than about 2 + this run means other work on the machine).",
        f"- answers other than 2xx during the counted time: {others or 'none'}.",
        f"- `ledger_verify()` after the run: {r.verify_entries:,} entries, {r.verify_problems} problems.",
        "",
    ]
