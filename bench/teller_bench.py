"""Cash-window measurements of the benchmark (the teller issue), called by bench/run.py in its
throwaway database, on the 1,000,000-entry ledger that bench/ledger_bench.py loads.

A branch's cash window is set up through the real services (as tests/teller/conftest.py
does): denominations, cash settings and limits, a vault delivery, a drawer for a teller and
its session opened with a count. Then, in this process, with ``django.test.Client`` (no
network, no server: what is timed is Django's handling of the request):

- (a) API: ``POST /api/v1/teller/deposits/`` (JSON, a fresh ``Idempotency-Key`` each time);
- (b) form: the deposit form of ``GET /teller/?account=…``, posted with a fresh key each
  time (the view answers with the receipt);
- the bare posting: ``ledger_post`` of the same two lines (drawer cash debit, customer credit)
  in ``transaction.atomic()``, the reference each request is divided by.

Every request is checked (status, receipt). Timings are taken without the query log; the
queries are counted in a second pass with ``CaptureQueriesContext``.

All of that goes to one account (the hot account of the 1M-entry ledger), as the issue asks.
The service's structuring check reads every cash operation of the customer's day, so a
request gets a little slower with each deposit before it; the report gives that slope, and
a diagnostic run sends the same requests to 200 other customers in turn.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import itertools
import pstats
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

CURRENCY = "AED"
PASSWORD = "Bench-password-2026"
API_PATH = "/api/v1/teller/deposits/"
WINDOW_PATH = "/teller/"
DEPOSIT_AMOUNT = 1000  # 10.00 AED ...
DEPOSIT_TEXT = "10.00"  # ... as the teller types it (English)
DEPOSIT_NOTES = {"1000": 1}  # ... one 10 AED note
WARMUP_REQUESTS = 20
REQUESTS = 300
PROFILE_REQUESTS = 50
#: the diagnostic run spreads its deposits over this many customers (one account each)
SPREAD_CUSTOMERS = 200
TARGET_MS = 30.0
#: limits far above anything the run posts: no override, no large-cash report, no structuring alert
GENEROUS = 10**12
VAULT_DELIVERY = 10**10  # 100,000,000.00 AED


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- set-up ---------------------------------------------------------------------------------------

class _DepositFormParser(HTMLParser):
    """The inputs of the ``<form data-testid="deposit-form">`` of the teller window."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.action = None
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("data-testid") == "deposit-form":
            self.inside, self.action = True, a.get("action")
        elif self.inside and tag in ("input", "textarea", "select") and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.inputs[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


@dataclass
class DepositForm:
    action: str
    inputs: dict  # every input of the form as rendered (hidden account, key, csrf token, grid ...)
    get_ms: float  # the one GET of the window that rendered it
    get_queries: int

    def data(self) -> dict:
        """What the teller sends: the amount typed, one 10 AED note, a new key per form."""
        data = dict(self.inputs)
        data.update({"amount": DEPOSIT_TEXT, "idempotency_key": str(uuid.uuid4()),
                     **{f"d_{value}": str(qty) for value, qty in DEPOSIT_NOTES.items()}})
        return data


@dataclass
class Window:
    branch: object
    teller: object
    supervisor: object
    account: object  # BankAccount (the hot account of the 1M-entry ledger)
    drawer: object
    drawer_ledger: object  # LedgerAccount of the drawer's AED cash
    session: object  # DrawerSession
    client: object  # django.test.Client, logged in as the teller
    form: DepositForm | None = None


def setup_window(account) -> Window:
    """The cash window of ``account``'s branch, through the real services."""
    from django.conf import settings
    from django.db import transaction
    from django.test import Client

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.models import BankAccount
    from accounts.services import internal_account
    from branch_ops.models import Currency
    from branch_ops.money import Money
    from branch_ops.services import staff_create
    from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer
    from teller.reference_data import denominations_load
    from teller.services import drawer_cash_account, drawer_session_open

    if account.status != BankAccount.Status.ACTIVE or account.currency_id != CURRENCY:
        raise SystemExit(f"account {account.number} is {account.status} in {account.currency_id}; need active {CURRENCY}")
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    branch = account.branch
    low = branch.code.lower()
    teller = staff_create(actor=None, branch=branch, username=f"teller.{low}", role="teller", password=PASSWORD).user
    supervisor = staff_create(actor=None, branch=branch, username=f"cashsuper.{low}", role="supervisor",
                              password=PASSWORD).user

    denominations_load(Denomination, Currency)
    BranchCashSettings.objects.update_or_create(branch=branch, defaults={"large_cash_threshold": GENEROUS})
    for operation in (CashLimit.Operation.DEPOSIT, CashLimit.Operation.WITHDRAWAL, CashLimit.Operation.DRAWER_MAX):
        CashLimit.objects.update_or_create(branch=branch, role="teller", operation=operation, currency_id=CURRENCY,
                                           defaults={"max_amount": GENEROUS})
    with transaction.atomic():  # the vault's cash arrives: suspense -> vault cash
        ledger_post(kind="cash_delivery", branch=branch, description="bench cash delivery", lines=[
            Line(internal_account(branch=branch, kind="vault_cash", currency=CURRENCY), DEBIT,
                 Money(VAULT_DELIVERY, CURRENCY)),
            Line(internal_account(branch=branch, kind="suspense", currency=CURRENCY), CREDIT,
                 Money(VAULT_DELIVERY, CURRENCY))])
    drawer = Drawer.objects.create(branch=branch, code="BW1", teller=teller)
    session = drawer_session_open(actor=teller, counts={CURRENCY: {}})
    with transaction.atomic():
        drawer_ledger = drawer_cash_account(drawer, CURRENCY)

    client = Client()
    client.force_login(teller, backend="django.contrib.auth.backends.ModelBackend")
    return Window(branch=branch, teller=teller, supervisor=supervisor, account=account, drawer=drawer,
                  drawer_ledger=drawer_ledger, session=session, client=client)


def open_spread_accounts(window: Window, n: int = SPREAD_CUSTOMERS) -> list:
    """``n`` customers with one funded AED account each, the way the desk does it
    (``customer_create`` and ``account_open_request`` by a CSR, ``approval_decide`` by a
    supervisor, an opening balance from suspense)."""
    import ledger_bench as lb

    from accounts.services import customer_create
    from branch_ops.services import staff_create

    csr = staff_create(actor=None, branch=window.branch, username=f"cashcsr.{window.branch.code.lower()}",
                       role="csr", password=PASSWORD).user
    accounts = []
    for k in range(n):
        customer = customer_create(actor=csr, data={"full_name": f"Bench Cash Customer {k}"})
        desk = lb.Desk(branch=window.branch, csrs=[csr], supervisor=window.supervisor,
                       customer_number=customer.number)
        accounts.append(lb.open_account(desk))
    lb.fund(desk, accounts, 100_000)  # 1,000.00 AED each
    return accounts


def read_form(window: Window) -> DepositForm:
    """``GET /teller/?account=…`` once, and the deposit form it renders."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        response = window.client.get(WINDOW_PATH, {"account": window.account.number})
        elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {WINDOW_PATH}?account=… answered {response.status_code}")
    parser = _DepositFormParser()
    parser.feed(response.content.decode())
    missing = {"account", "amount", "idempotency_key", *(f"d_{v}" for v in DEPOSIT_NOTES)} - set(parser.inputs)
    if not parser.action or missing:
        raise SystemExit(f"the window's deposit form is not as expected: action {parser.action!r}, "
                         f"missing inputs {sorted(missing)}")
    return DepositForm(action=parser.action, inputs=parser.inputs, get_ms=elapsed,
                       get_queries=len(ctx.captured_queries))


# --- one operation of each kind ------------------------------------------------------------------

def api_op(window: Window, numbers: list[str] | None = None) -> Callable[[], None]:
    """One API deposit per call, to ``numbers`` in turn (default: the window's account)."""
    client = window.client
    turn = itertools.cycle(numbers or [window.account.number])

    def op() -> None:
        body = {"account": next(turn), "amount": {"amount": DEPOSIT_AMOUNT, "currency": CURRENCY},
                "denominations": DEPOSIT_NOTES}
        response = client.post(API_PATH, body, content_type="application/json",
                               headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 201:
            raise SystemExit(f"POST {API_PATH} answered {response.status_code}: {response.content[:300]!r}")

    return op


def form_op(window: Window, numbers: list[str] | None = None) -> Callable[[], None]:
    """One form deposit per call, to ``numbers`` in turn (default: the account whose window
    rendered the form); only the hidden ``account`` input changes."""
    client, form = window.client, window.form
    turn = itertools.cycle(numbers or [window.account.number])

    def op() -> None:
        response = client.post(form.action, {**form.data(), "account": next(turn)})
        if response.status_code != 200 or b'data-testid="receipt"' not in response.content:
            raise SystemExit(f"POST {form.action} answered {response.status_code} without a receipt: "
                             f"{response.content[:300]!r}")

    return op


def bare_op(window: Window) -> Callable[[], None]:
    """The ledger work of one deposit and nothing else: the same two lines, one commit."""
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from branch_ops.money import Money

    money = Money(DEPOSIT_AMOUNT, CURRENCY)
    drawer_ledger, customer_ledger = window.drawer_ledger, window.account.ledger_id
    teller, branch, number = window.teller, window.branch, window.account.number

    def op() -> None:
        with transaction.atomic():
            ledger_post(kind="cash_deposit", branch=branch, actor=teller, description="",
                        lines=[Line(drawer_ledger, DEBIT, money), Line(customer_ledger, CREDIT, money)],
                        metadata={"reference": "bench", "account": number, **money.as_dict()})

    return op


# --- measuring ------------------------------------------------------------------------------------

@dataclass
class Series:
    label: str
    samples_ms: list = field(default_factory=list)  # in the order measured, no query log
    queries: list = field(default_factory=list)  # per request of the counting pass
    odd: list = field(default_factory=list)  # (request index, count, statements that differ from the usual)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[int(0.95 * (len(ordered) - 1))]

    def median_of(self, part: slice) -> float:
        return statistics.median(self.samples_ms[part])

    @property
    def constant(self) -> bool:
        return min(self.queries) == max(self.queries)

    def queries_text(self) -> str:
        lo, hi = min(self.queries), max(self.queries)
        return f"{lo} (constant)" if lo == hi else f"{lo}-{hi} (**not constant**)"


def _normalise(sql: str) -> str:
    """A statement with its literal values blanked, to compare two requests' queries."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\s+", " ", sql).strip()


def timing_pass(ops: dict[str, Callable[[], None]], series: dict[str, Series], n: int) -> None:
    """``n`` rounds; each round runs every op once (interleaved, so every kind sees the same
    state of the database as the run goes on) and times it without the query log."""
    perf = time.perf_counter
    for _ in range(n):
        for name, op in ops.items():
            start = perf()
            op()
            series[name].samples_ms.append((perf() - start) * 1000)


def counting_pass(ops: dict[str, Callable[[], None]], series: dict[str, Series], n: int) -> None:
    """``n`` more rounds, each op under ``CaptureQueriesContext``: queries per request (BEGIN,
    SAVEPOINT and COMMIT included, as Django logs them). A request whose count differs from
    the usual one is kept with the statements that make the difference."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    captured: dict[str, list[list[str]]] = {name: [] for name in ops}
    for _ in range(n):
        for name, op in ops.items():
            connection.queries_log.clear()  # a deque of at most 9,000: a full one no longer grows
            with CaptureQueriesContext(connection) as ctx:
                op()
            captured[name].append([_normalise(q["sql"]) for q in ctx.captured_queries])
    for name, runs in captured.items():
        s = series[name]
        s.queries = [len(run) for run in runs]
        usual_count = Counter(s.queries).most_common(1)[0][0]
        usual = Counter(next(run for run in runs if len(run) == usual_count))
        for i, run in enumerate(runs):
            if len(run) != usual_count and len(s.odd) < 5:
                here = Counter(run)
                more = [f"+{sql[:100]}" for sql in (here - usual).elements()]
                fewer = [f"-{sql[:100]}" for sql in (usual - here).elements()]
                s.odd.append((i, len(run), (more + fewer)[:6]))


# where the time of one request goes, under cProfile: (label, module file, function name)
_PHASES = [
    ("Django's handler: middleware, URL, view, response (BaseHandler.get_response)",
     "django/core/handlers/base.py", "get_response"),
    ("  session load and save (SessionStore.load + save)", "django/contrib/sessions/backends/db.py", "load"),
    ("", "django/contrib/sessions/backends/db.py", "save"),
    ("  user from the session (auth.get_user)", "django/contrib/auth/__init__.py", "get_user"),
    ("  DRF: authentication, permissions, throttles (APIView.initial)", "rest_framework/views.py", "initial"),
    ("  teller form: account_detail (lookup + account.viewed audit event, own commit)", "accounts/selectors.py",
     "account_detail"),
    ("  form: building it and validating it (DepositForm, is_valid)", "teller/forms.py", "__init__"),
    ("", "django/forms/forms.py", "is_valid"),
    ("  run_idempotent (key lookup, the service, the stored response)", "branch_ops/idempotency.py",
     "run_idempotent"),
    ("    cash_deposit_post (one durable transaction, COMMIT included)", "teller/services/cash.py", "_cash_operation"),
    ("      idempotency begin + finish (INSERT, UPDATE of the key's record)", "branch_ops/idempotency.py", "begin"),
    ("", "branch_ops/idempotency.py", "finish"),
    ("      _lock_open_session (SELECT ... FOR NO KEY UPDATE)", "teller/services/cash.py", "_lock_open_session"),
    ("      _account (BankAccount + customer, branch)", "teller/services/cash.py", "_account"),
    ("      _clean_breakdown (denominations)", "teller/services/cash.py", "_clean_breakdown"),
    ("      _large_cash (branch cash settings)", "teller/services/cash.py", "_large_cash"),
    ("      _reference (nextval)", "teller/services/cash.py", "_reference"),
    ("      _needs_override (limits, drawer balance)", "teller/services/cash.py", "_needs_override"),
    ("      _post_cash (holdings, ledger, audit, outbox)", "teller/services/cash.py", "_post_cash"),
    ("        _adjust_holdings (denominations, get_or_create + UPDATE per note)", "teller/services/cash.py",
     "_adjust_holdings"),
    ("        ledger_post", "accounts/ledger.py", "ledger_post"),
    ("        _structuring_check (the customer's cash today)", "teller/services/cash.py", "_structuring_check"),
    ("        audit_event_write (all in the request)", "branch_ops/audit.py", "audit_event_write"),
    ("        event_publish", "branch_ops/outbox.py", "event_publish"),
    ("      drawer_cash_account (called twice: _needs_override, _post_cash)", "teller/services/cash.py",
     "drawer_cash_account"),
    ("  teller form: operation_by_reference", "teller/selectors.py", "operation_by_reference"),
    ("  template rendering (django.shortcuts.render)", "django/shortcuts.py", "render"),
    ("  JSON response rendering (DRF Response.rendered_content)", "rest_framework/response.py", "rendered_content"),
    ("require_perm (every permission check, the staff profile lookup)", "branch_ops/access.py", "require_perm"),
    ("COMMIT, all in the request (deferred triggers + WAL flush)", "psycopg/connection.py", "commit"),
    ("waiting on PostgreSQL: every cursor.execute", "psycopg/cursor.py", "execute"),  # Django's driver: psycopg 3
]


@dataclass
class Profile:
    label: str
    calls: int
    per_request_ms: float  # wall time per request under the profiler
    phases: list  # (label, ms per request under cProfile, share of the request)
    python_share: float  # share outside cursor.execute and COMMIT
    text: str  # pstats top functions


def profile_requests(label: str, op: Callable[[], None], calls: int = PROFILE_REQUESTS, top: int = 30) -> Profile:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(calls):
        op()
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    cumulative: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        owner = ""
        for phase, where, func in _PHASES:
            owner = phase or owner  # a blank label adds to the row above
            if name == func and (filename.endswith(where) or where == filename):
                cumulative[owner] = cumulative.get(owner, 0.0) + ct
    total = sum(ct for (f, _l, n), (_cc, _nc, _tt, ct, _c) in stats.stats.items()
                if n == "request" and f.endswith("django/test/client.py")) or wall
    phases = [(lab, cumulative[lab] / calls * 1000, cumulative[lab] / total)
              for lab, _w, _f in _PHASES if lab and cumulative.get(lab)]
    waiting = cumulative.get(_PHASES[-1][0], 0.0) + cumulative.get(_PHASES[-2][0], 0.0)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats(top)
    return Profile(label=label, calls=calls, per_request_ms=total / calls * 1000, phases=phases,
                   python_share=1 - waiting / total, text=out.getvalue())


# --- the whole measurement ------------------------------------------------------------------------

STRUCTURING = "        _structuring_check (the customer's cash today)"


@dataclass
class TellerResults:
    api: Series  # one account (the brief's method)
    form: Series
    bare: Series
    spread_api: Series  # diagnostic: deposits spread over SPREAD_CUSTOMERS customers
    spread_form: Series
    window: Window
    entries: int  # ledger entries when the measurement starts
    account_entries: int  # ... of them on the account deposited to
    ops_before: int  # the account's customer's cash operations today, before the timing pass
    ops_after: int  # ... after it
    slope_us: dict  # {"api"|"form": µs more per earlier cash operation of the customer that day}
    spread_customers: int
    spread_ops_max: int  # the most cash operations of the day of one spread customer, at the end
    requests: int
    spread_requests: int
    seconds: float
    profiles: list  # Profile of each request kind (spread accounts: a customer with few operations today)
    hot_profile: Profile | None  # the API on the one account at the end of the run (its customer's busy day)
    ops_at_hot_profile: int
    cpu: dict  # {"one account"|"spread": (this process's cores, the machine's cores)} during the timing passes


def _ledger_counts(account) -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE account_id = %s) FROM accounts_ledgerentry",
                    [account.ledger_id])
        return cur.fetchone()


def _cash_ops_today(window: Window, account=None) -> int:
    from teller.models import CashOperation

    return CashOperation.objects.filter(customer_id=(account or window.account).customer_id,
                                        session__business_date=window.session.business_date).count()


def _max_cash_ops_today(window: Window, accounts: list) -> int:
    from django.db.models import Count

    from teller.models import CashOperation

    found = (CashOperation.objects.filter(customer_id__in=[a.customer_id for a in accounts],
                                          session__business_date=window.session.business_date)
             .values("customer_id").annotate(n=Count("id")).order_by("-n").values_list("n", flat=True).first())
    return found or 0


@contextlib.contextmanager
def _cpu(out: dict, name: str, machine_busy: Callable[[], float]):
    """``out[name] = (this process's cores, the whole machine's cores busy)`` over the block."""
    wall0, cpu0, busy0 = time.perf_counter(), time.process_time(), machine_busy()
    yield
    wall = time.perf_counter() - wall0
    out[name] = ((time.process_time() - cpu0) / wall, (machine_busy() - busy0) / wall)
    say(f"    CPU during the {name} timing pass: this process {out[name][0]:.2f} core, the machine "
        f"{out[name][1]:.2f} cores busy")


def _report(s: Series) -> None:
    say(f"    {s.label}: median {s.median_ms:.2f} ms, p95 {s.p95_ms:.2f} ms, queries {s.queries_text()}")
    for i, n, diff in s.odd:
        say(f"      request {i} of the counting pass: {n} queries; " + "; ".join(diff))


def measure_teller(account, requests: int = REQUESTS, warmup: int = WARMUP_REQUESTS,
                   profile: bool = True) -> TellerResults:
    """Set up the cash window of ``account`` (an active AED account of the 1M-entry ledger)
    and measure the API deposit, the form deposit and the bare posting; then, as a
    diagnostic, the same two requests spread over many customers."""
    import ledger_bench as lb

    requests = max(3, requests)  # a median, a slope and a third to count need a few
    started = time.perf_counter()
    window = setup_window(account)
    window.form = read_form(window)
    entries, account_entries = _ledger_counts(account)
    say(f"  cash window of {window.branch.code}: teller {window.teller.username}, drawer {window.drawer.code} open; "
        f"account {account.number} ({account_entries:,} of the ledger's {entries:,} entries)")
    say(f"  GET {WINDOW_PATH}?account=… once: {window.form.get_ms:.1f} ms, {window.form.get_queries} queries; "
        f"deposit form posts to {window.form.action}")
    say(f"  opening {SPREAD_CUSTOMERS} more customers' accounts for the spread run ...")
    spread = open_spread_accounts(window)
    numbers = [a.number for a in spread]

    # 1. one account, as the issue asks
    ops = {"api": api_op(window), "form": form_op(window), "bare": bare_op(window)}
    series = {"api": Series("cash deposit, API"), "form": Series("cash deposit, teller form"),
              "bare": Series("bare ledger posting")}
    say(f"  warm-up: {warmup} of each ...")
    timing_pass(ops, {name: Series(name) for name in ops}, warmup)
    ops_before = _cash_ops_today(window)
    say(f"  timing: {requests} of each, interleaved (API, form, bare posting), one account ...")
    cpu = {}
    with _cpu(cpu, "one account", lb._machine_busy):
        timing_pass(ops, series, requests)
    ops_after = _cash_ops_today(window)
    say(f"  counting queries: {requests} more of each, under CaptureQueriesContext ...")
    counting_pass(ops, series, requests)
    for s in series.values():
        _report(s)
    slope = {}
    for k, name in enumerate(("api", "form")):  # the i-th round's API request follows 2i deposits, its form 2i + 1
        seen = [ops_before + 2 * i + k for i in range(len(series[name].samples_ms))]
        slope[name] = statistics.linear_regression(seen, series[name].samples_ms).slope * 1000
    say(f"    the customer's cash operations today: {ops_before:,} -> {ops_after:,} in the timing pass; each one "
        f"adds {slope['api']:.1f} µs (API) / {slope['form']:.1f} µs (form) to a request (least squares)")

    # 2. diagnostic: the same requests spread over many customers (a few cash operations each today)
    spread_ops = {"api": api_op(window, numbers), "form": form_op(window, numbers[len(numbers) // 2:]
                                                                  + numbers[:len(numbers) // 2])}
    spread_series = {"api": Series(f"cash deposit, API, {SPREAD_CUSTOMERS} customers in turn"),
                     "form": Series(f"cash deposit, teller form, {SPREAD_CUSTOMERS} customers in turn")}
    spread_requests = requests
    say(f"  diagnostic: {spread_requests} of each spread over {SPREAD_CUSTOMERS} customers, then "
        f"{spread_requests // 3} counted ...")
    timing_pass(spread_ops, {name: Series(name) for name in spread_ops}, warmup)
    with _cpu(cpu, "spread", lb._machine_busy):
        timing_pass(spread_ops, spread_series, spread_requests)
    counting_pass(spread_ops, spread_series, spread_requests // 3)
    for s in spread_series.values():
        _report(s)

    profiles, hot_profile, ops_at_hot = [], None, 0
    if profile:
        say(f"  cProfile: {PROFILE_REQUESTS} requests of each kind, spread over the {SPREAD_CUSTOMERS} customers ...")
        for name in ("api", "form"):
            p = profile_requests(spread_series[name].label, spread_ops[name])
            profiles.append(p)
            say(f"    {p.label}: {p.per_request_ms:.2f} ms per request under cProfile, {p.python_share:.0%} Python")
            for label, ms, share in p.phases:
                say(f"      {ms:6.2f} ms {share:5.0%}  {label}")
        ops_at_hot = _cash_ops_today(window)
        hot_profile = profile_requests(series["api"].label, ops["api"], calls=30)
        say(f"    {hot_profile.label}, one account, customer with {ops_at_hot:,} cash operations today: "
            f"{hot_profile.per_request_ms:.2f} ms per request under cProfile; _structuring_check "
            f"{dict((lab, ms) for lab, ms, _s in hot_profile.phases).get(STRUCTURING, 0.0):.2f} ms")
    return TellerResults(api=series["api"], form=series["form"], bare=series["bare"],
                         spread_api=spread_series["api"], spread_form=spread_series["form"], window=window,
                         entries=entries, account_entries=account_entries, ops_before=ops_before,
                         ops_after=ops_after, slope_us=slope, spread_customers=SPREAD_CUSTOMERS,
                         spread_ops_max=_max_cash_ops_today(window, spread), requests=requests,
                         spread_requests=spread_requests, seconds=time.perf_counter() - started,
                         profiles=profiles, hot_profile=hot_profile, ops_at_hot_profile=ops_at_hot, cpu=cpu)
