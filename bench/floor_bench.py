"""The supervisor's floor (issue 8): server time and query count of the branch board and the
approval inbox, at two sizes of a branch's day, to show the query count does not grow.

    .venv/bin/python bench/floor_bench.py [--requests 60] [--no-readme]
    .venv/bin/python bench/run.py --only floor      (the same, from the benchmark runner)

In a throwaway database (``bench_floor``, built by Django's migrations and dropped at the
end), one branch is set up through the real services: 10 tellers with an open drawer each
(filled from the vault), customers with funded accounts, a CSR, a coordinator and two
supervisors. Then, in two steps:

- **small**: a quarter of the day: 500 cash deposits (50 per teller), 50 open service
  requests (of which 12 wait for a routine approval), 25 complaints, and pending approvals
  of four kinds (account openings, teller overrides, routine requests, complaint redress);
- **full**: the rest added: 2,000 cash deposits (200 per teller), 200 open requests, 100
  complaints, about four times the pending approvals (the inbox shows the 50 oldest).

At each size, in this process with ``django.test.Client`` (no network: Django's handling of
the request), as the second supervisor: ``GET /floor/board/`` and ``GET /floor/inbox/``,
warm-up, then ``--requests`` of each timed (``settings.DEBUG`` off, no query log), then one
of each under ``CaptureQueriesContext`` for the query count. Numbers are measurements, never
assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")

DB = "bench_floor"
PASSWORD = "Bench-password-2026"
CURRENCY = "AED"
TELLERS = 10
CUSTOMERS = 40
TARGET_MS = 50.0
WARMUP = 5
#: (cash deposits per teller, open requests, complaints, pending approvals of each kind) at each size
SIZES = {"small": (50, 50, 25, 6), "full": (200, 200, 100, 24)}
README_HEADING = "### Supervisor floor"


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class Floor:
    branch: object
    tellers: list
    csr: object
    supervisor: object  # approves the openings, decides nothing in the bench
    reader: object  # the supervisor whose board and inbox are timed
    accounts: list
    done: dict  # how much of each thing exists so far


@dataclass
class PageTiming:
    path: str
    median_ms: float
    p95_ms: float
    queries: int
    bytes: int


def setup_floor() -> Floor:
    from django.db import transaction

    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.models import BankAccount
    from accounts.services import account_open_request, customer_create, internal_account
    from branch_ops.approvals import approval_decide
    from branch_ops.models import Approval, Branch, Currency
    from branch_ops.money import Money
    from branch_ops.reference_data import currencies_load
    from branch_ops.roles import sync_role_groups
    from branch_ops.services import staff_create
    from complaints.models import Category, Regime
    from complaints.reference_data import complaints_reference_load
    from teller.models import BranchCashSettings, CashLimit, Denomination, Drawer
    from teller.reference_data import denominations_load
    from teller.services import drawer_session_open, vault_transfer_confirm, vault_transfer_request

    currencies_load(Currency)
    sync_role_groups()
    complaints_reference_load(Regime, Category)
    denominations_load(Denomination, Currency)
    branch = Branch.objects.create(code="BEN01", name="Bench branch", currency_id=CURRENCY, time_zone="Asia/Dubai",
                                   country="AE")

    def person(role, name):
        return staff_create(actor=None, branch=branch, username=name, role=role, password=PASSWORD).user

    csr, supervisor, reader = person("csr", "csr.ben"), person("supervisor", "sup.ben"), person("supervisor", "sup2.ben")
    person("coordinator", "coord.ben")
    # limits: deposits never need an override; withdrawals over 1,000 AED do (the bench's overrides)
    BranchCashSettings.objects.create(branch=branch, large_cash_threshold=10**12)
    for op, cap in (("deposit", 10**12), ("withdrawal", 100_000), ("drawer_max", 10**12)):
        CashLimit.objects.create(branch=branch, role="teller", operation=op, currency_id=CURRENCY, max_amount=cap)
    with transaction.atomic():
        ledger_post(kind="cash_delivery", branch=branch, lines=[
            Line(internal_account(branch=branch, kind="vault_cash", currency=CURRENCY), DEBIT, Money(10**10, CURRENCY)),
            Line(internal_account(branch=branch, kind="suspense", currency=CURRENCY), CREDIT,
                 Money(10**10, CURRENCY))])
    tellers = []
    for i in range(TELLERS):
        teller = person("teller", f"teller{i}.ben")
        Drawer.objects.create(branch=branch, code=f"W{i + 1:02d}", teller=teller)
        drawer_session_open(actor=teller, counts={CURRENCY: {}})
        transfer = vault_transfer_request(actor=teller, direction="to_drawer", currency=CURRENCY,
                                          denominations={"50000": 20})  # 10,000 AED
        vault_transfer_confirm(actor=supervisor, transfer_id=transfer.public_id)
        tellers.append(teller)
    accounts = []
    suspense = internal_account(branch=branch, kind="suspense", currency=CURRENCY)
    for k in range(CUSTOMERS):
        customer = customer_create(actor=csr, data={"full_name": f"Floor Bench Customer {k}"})
        account = account_open_request(actor=csr, customer_number=customer.number, product="current",
                                       currency=CURRENCY, reason="bench")
        approval = Approval.objects.get(subject_id=str(account.public_id), status="pending")
        approval_decide(approval_id=approval.public_id, actor=supervisor, approve=True, reason="bench")
        account = BankAccount.objects.select_related("ledger").get(pk=account.pk)
        with transaction.atomic():
            ledger_post(kind="opening_balance", branch=branch, lines=[
                Line(suspense, DEBIT, Money(50_000_000, CURRENCY)),
                Line(account.ledger, CREDIT, Money(50_000_000, CURRENCY))])
        accounts.append(account)
    return Floor(branch=branch, tellers=tellers, csr=csr, supervisor=supervisor, reader=reader, accounts=accounts,
                 done={"deposits": 0, "requests": 0, "complaints": 0, "approvals": 0})


def grow(floor: Floor, size: str) -> None:
    """Add what is missing to reach ``size`` (through the real services)."""
    from accounts.services import account_open_request, customer_create
    from branch_ops.money import Money
    from complaints.services import complaint_decide, complaint_log, complaint_redress
    from customer_service.services import request_create
    from teller.services import cash_deposit_post, cash_withdrawal_post

    per_teller, requests, complaints, approvals = SIZES[size]
    accounts = floor.accounts
    target = per_teller * TELLERS
    i = floor.done["deposits"]
    while i < target:
        teller = floor.tellers[i % TELLERS]
        cash_deposit_post(actor=teller, account_number=accounts[(i // TELLERS) % len(accounts)].number,
                          amount=Money(10_000, CURRENCY), denominations={"10000": 1})
        i += 1
    floor.done["deposits"] = i
    j = floor.done["requests"]
    while j < requests:
        account = accounts[j % len(accounts)]
        if j % 4 == 0:  # a routine approval for the coordinator and the supervisors
            request_create(actor=floor.csr, kind="account_update", customer_number=account.customer.number,
                           account_number=account.number, data={"phone": f"+971 50 000 {j:04d}"})
        else:
            request_create(actor=floor.csr, kind="card_issue", customer_number=account.customer.number,
                           account_number=account.number, data={})
        j += 1
    floor.done["requests"] = j
    c = floor.done["complaints"]
    while c < complaints:
        account = accounts[c % len(accounts)]
        complaint_log(actor=floor.csr, channel="branch", category="accounts.charges", description=f"Bench {c}",
                      customer_number=account.customer.number, account_number=account.number,
                      amount_disputed=Money(500_000, CURRENCY))
        c += 1
    floor.done["complaints"] = c
    a = floor.done["approvals"]
    from complaints.models import Complaint

    open_complaints = list(Complaint.objects.filter(branch=floor.branch, decision="").order_by("id"))
    while a < approvals:
        customer = customer_create(actor=floor.csr, data={"full_name": f"Floor Bench Applicant {a}"})
        account_open_request(actor=floor.csr, customer_number=customer.number, product="savings", currency=CURRENCY,
                             reason="bench")
        teller = floor.tellers[a % TELLERS]
        cash_withdrawal_post(actor=teller, account_number=accounts[a % len(accounts)].number,
                             amount=Money(150_000, CURRENCY), denominations={"50000": 3},
                             party={"document": "P1", "document_checked": True})
        complaint = open_complaints.pop(0)
        complaint_decide(actor=floor.csr, number=complaint.number, decision="upheld", reason="bench")
        complaint_redress(actor=floor.csr, number=complaint.number, amount=Money(150_000, CURRENCY), reason="")
        a += 1
    floor.done["approvals"] = a


def time_page(client, path: str, n: int) -> PageTiming:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    samples.sort()
    return PageTiming(path=path, median_ms=statistics.median(samples),
                      p95_ms=samples[min(len(samples) - 1, int(len(samples) * 0.95))],
                      queries=len(ctx.captured_queries), bytes=len(response.content))


def sign_in(client, user) -> None:
    """``force_login`` plus the second step a supervisor must pass: a confirmed TOTP device
    recorded in the session (what django-otp does after a good code) and a fresh
    re-authentication stamp, as tests/conftest.py does for the test client."""
    import secrets

    from django_otp import DEVICE_ID_SESSION_KEY

    from branch_ops.twofactor import AUTH_AT_KEY, totp_device_confirmed, totp_device_set, two_factor_required

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    if two_factor_required(user):
        device = totp_device_confirmed(user) or totp_device_set(user=user, key_hex=secrets.token_hex(20),
                                                                name="Bench authenticator")
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[AUTH_AT_KEY] = int(time.time())
    session.save()


def counts(floor: Floor) -> dict:
    from branch_ops.models import Approval
    from complaints.models import Complaint
    from customer_service.models import OPEN_STATUSES, ServiceRequest
    from teller.models import CashOperation

    return {
        "cash operations": CashOperation.objects.filter(session__drawer__branch=floor.branch).count(),
        "open requests": ServiceRequest.objects.filter(branch=floor.branch, status__in=OPEN_STATUSES).count(),
        "complaints": Complaint.objects.filter(branch=floor.branch).count(),
        "pending approvals": Approval.objects.filter(branch=floor.branch, status="pending").count(),
    }


def measure_floor(requests: int = 60) -> dict:
    """Set up, grow to each size, time both pages. Runs in the current (throwaway) database."""
    from django.conf import settings
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.perf_counter()
    say("floor: setting up a branch with 10 tellers ...")
    floor = setup_floor()
    client = Client()
    sign_in(client, floor.reader)
    results = {}
    for size in SIZES:
        t0 = time.perf_counter()
        grow(floor, size)
        say(f"  {size}: data in {time.perf_counter() - t0:.0f} s: {counts(floor)}")
        results[size] = {"counts": counts(floor),
                         "board": time_page(client, "/floor/board/", requests),
                         "inbox": time_page(client, "/floor/inbox/", requests)}
        for page in ("board", "inbox"):
            r = results[size][page]
            say(f"  {size} {r.path}: median {r.median_ms:.1f} ms, p95 {r.p95_ms:.1f} ms, {r.queries} queries")
    return {"sizes": results, "requests": requests, "seconds": time.perf_counter() - started}


def render(result: dict) -> list[str]:
    sizes = result["sizes"]
    lines = [
        README_HEADING, "",
        f"`GET /floor/board/` and `GET /floor/inbox/` as a supervisor, through `django.test.Client` in one process "
        f"(no network), {WARMUP} warm-up then {result['requests']} timed requests each with `DEBUG` off, then one "
        "more under `CaptureQueriesContext` for the query count (session, user and profile reads included). "
        f"The branch has {TELLERS} tellers with open drawers and {CUSTOMERS} funded customers; \"small\" is a "
        "quarter of the day, \"full\" the day the issue names. Target: under "
        f"{TARGET_MS:g} ms median, same query count at both sizes.",
        "",
        "| size | cash operations | open requests | complaints | pending approvals |",
        "|---|---:|---:|---:|---:|",
    ]
    for size, r in sizes.items():
        c = r["counts"]
        lines.append(f"| {size} | {c['cash operations']:,} | {c['open requests']} | {c['complaints']} "
                     f"| {c['pending approvals']} |")
    lines += ["", "| page | size | median ms | p95 ms | queries | bytes | target met? |", "|---|---|---:|---:|---:|---:|---|"]
    for page in ("board", "inbox"):
        for size, r in sizes.items():
            p = r[page]
            lines.append(f"| `{p.path}` | {size} | {p.median_ms:.1f} | {p.p95_ms:.1f} | {p.queries} | {p.bytes:,} "
                         f"| {'yes' if p.median_ms < TARGET_MS else 'no'} |")
    same = {page: len({r[page].queries for r in sizes.values()}) == 1 for page in ("board", "inbox")}
    lines += ["", "- query count constant across sizes: "
              + "; ".join(f"{page} {'yes' if ok else 'NO'}" for page, ok in same.items()) + ".",
              "- the inbox shows the 25 oldest pending items, each with its kind's context (four kinds here: account "
              "openings, teller overrides, routine requests, complaint redress), so its work does not grow with the "
              "number pending; the board's time grows a little with the data (it reads every running complaint "
              "clock to find its colour, and aggregates the open requests) while its query count stays the same.",
              f"- floor part: {result['seconds']:.0f} s (set-up, data, timing).", ""]
    return lines


def write_readme(lines: list[str]) -> None:
    """Replace (or add) this subsection under "Latest run" of bench/README.md."""
    import re

    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join([lines[0], "", f"Measured {now}, on its own (`bench/floor_bench.py`).", *lines[1:]]).rstrip()
    if README_HEADING in text:
        before, rest = text.split(README_HEADING, 1)
        after = re.search(r"^(### |## |Whole run:)", rest, re.MULTILINE)
        text = before + block + "\n\n" + (rest[after.start():] if after else "")
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page and size (default 60)")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = DB
    say(f"migrating throwaway database {DB} ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        result = measure_floor(args.requests)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    lines = render(result)
    say()
    say("\n".join(lines))
    if not args.no_readme:
        write_readme(lines)
        say("written to bench/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
