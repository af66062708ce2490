"""Service-desk queue benchmark (issue #6): the queue page, the queue API and the customer
at a glance, at two data sizes, with 100,000 customers and 200,000 requests bulk-loaded in SQL.

    .venv/bin/python bench/desk_bench.py [--requests 100] [--scale 1] [--no-readme]
    .venv/bin/python bench/run.py --only desk          (the same, from the bench runner;
                                                        also part of the full ``make bench``)

In a throwaway database ``bench_desk`` (Django's migrations, dropped at the end):

1. two branches, their staff through the real services; 100,000 customers (half per home
   branch) and first 20,000 requests in SQL (kinds and statuses mixed: about a third open,
   due times spread over ±30 days so some are overdue, a quarter assigned);
2. each measured page is requested through ``django.test.Client`` in this process (Django's
   time for the request, no network), as the branch's CSR: a warm-up, then ``--requests``
   timed without the query log, then one counted with ``CaptureQueriesContext``;
3. 180,000 more requests are loaded (200,000 in all) and the same is measured again: the
   query counts must be equal (no N+1), the medians show what the data size costs;
4. ``EXPLAIN ANALYZE`` of the queue's page query and count at the large size.

Bulk rows are a shortcut: requests are inserted with their status and no timeline (the
queue does not read timelines; the status trigger guards updates only), and without an
account (the queue left-joins accounts). ``--scale`` multiplies the customers and both
request counts (``--scale 0.05`` for a quick smoke run; the issue's figures are at 1).
Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
HEADING = "### Service-desk queue"
APP_DB = "bench_desk"
PASSWORD = "Bench-password-2026"
CUSTOMERS = 100_000
SMALL, LARGE = 20_000, 200_000
WARMUP = 10
TARGET_MS = 50.0
OPEN_SHARE = 0.34

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


_CUSTOMERS_SQL = """
INSERT INTO accounts_customer (public_id, number, full_name, latin_name, document_type, document_number,
    document_country, address, phone, email, preferred_language, risk_rating, politically_exposed, status,
    home_branch_id, created_at)
SELECT gen_random_uuid(), 'B' || lpad(g::text, 7, '0'), 'Bench Customer ' || g, '', 'passport', 'BP' || g, 'AE',
       '', '', '', 'en', 'low', false, 'active', CASE WHEN g %% 2 = 0 THEN %(a)s ELSE %(b)s END, now()
FROM generate_series(1, %(n)s) g
"""

# statuses weighted so that about a third are open (draft, submitted, awaiting, approved, in progress)
_REQUESTS_SQL = """
WITH kinds AS (SELECT %(kinds)s::text[] AS k),
     closed AS (SELECT ARRAY['fulfilled','fulfilled','fulfilled','cancelled','rejected','fulfilled']::text[] AS s),
     open AS (SELECT ARRAY['submitted','submitted','awaiting_approval','approved','in_progress','draft']::text[] AS s)
INSERT INTO customer_service_servicerequest (public_id, number, kind, customer_id, account_id, branch_id, created_by_id,
    assigned_to_id, status, last_transition_id, data, created_at, due_at)
SELECT gen_random_uuid(), 'BR' || lpad(g::text, 8, '0'),
       (SELECT k[1 + (g * 7) %% array_length(k, 1)] FROM kinds),
       (SELECT min(id) FROM accounts_customer) + (g * 7919) %% %(customers)s,
       NULL,
       CASE WHEN g %% 2 = 0 THEN %(a)s ELSE %(b)s END,
       CASE WHEN g %% 2 = 0 THEN %(csr_a)s ELSE %(csr_b)s END,
       CASE WHEN g %% 4 = 0 THEN (CASE WHEN g %% 2 = 0 THEN %(csr_a)s ELSE %(csr_b)s END) END,
       CASE WHEN (g * 13) %% 100 < %(open_pct)s THEN (SELECT s[1 + g %% 6] FROM open)
            ELSE (SELECT s[1 + g %% 6] FROM closed) END,
       NULL, '{}'::jsonb,
       now() - make_interval(mins => (g * 37) %% 86400),
       now() + make_interval(mins => ((g * 7919) %% 86400) - 43200)
FROM generate_series(%(first)s, %(last)s) g
"""


@dataclass
class PageTiming:
    median_ms: float
    p95_ms: float
    queries: int


@dataclass
class DeskResults:
    customers: int
    small: int  # service requests at the first size ...
    large: int  # ... and at the second (the 200,000)
    requests: int  # timed requests per page and size
    pages: dict = field(default_factory=dict)  # {label: {size: PageTiming}}
    branch_rows: int = 0  # requests of the measured branch at the large size ...
    open_rows: int = 0  # ... of them open
    plans: list = field(default_factory=list)  # README lines: EXPLAIN ANALYZE of the page and count queries
    seconds: float = 0.0
    measured_at: str = ""  # UTC, when the measurement started

    def met(self, label: str) -> bool:
        """The issue's target: under TARGET_MS median at the large size, the same queries at both."""
        small, large = self.pages[label][self.small], self.pages[label][self.large]
        return large.median_ms < TARGET_MS and small.queries == large.queries


def setup():
    from branch_ops.models import Branch, Currency
    from branch_ops.services import staff_create

    aed = Currency.objects.get(code="AED")
    branches = [Branch.objects.create(code=code, name=f"Bench {code}", currency=aed, time_zone="Asia/Dubai",
                                      country="AE") for code in ("DESKA", "DESKB")]
    csrs = [staff_create(actor=None, branch=b, username=f"csr.{b.code.lower()}", role="csr", password=PASSWORD).user
            for b in branches]
    return branches, csrs


def load_customers(branches, customers: int) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CUSTOMERS_SQL, {"a": branches[0].pk, "b": branches[1].pk, "n": customers})


def load_requests(branches, csrs, first: int, last: int, customers: int) -> float:
    from django.db import connection, transaction

    from customer_service.models import RequestKind

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_REQUESTS_SQL, {"kinds": list(RequestKind.values), "customers": customers, "a": branches[0].pk,
                          "b": branches[1].pk, "csr_a": csrs[0].pk, "csr_b": csrs[1].pk,
                          "open_pct": int(OPEN_SHARE * 100), "first": first, "last": last})
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE customer_service_servicerequest")
        cur.execute("ANALYZE accounts_customer")
    return time.perf_counter() - start


def pages(customer_number: str) -> dict[str, str]:
    return {
        "queue page (open, first 50)": "/desk/requests/",
        "queue page, kind + overdue filter": "/desk/requests/?kind=card_issue&overdue=true",
        "queue page, mine": "/desk/requests/?mine=true&open=true",
        "queue API (open, first page)": "/api/v1/service-requests/?open=true",
        "customer at a glance (desk)": f"/desk/customers/{customer_number}/",
    }


def measure(client, urls: dict[str, str], n: int) -> dict[str, PageTiming]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = {}
    for label, url in urls.items():
        for _ in range(WARMUP):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        samples.sort()
        page = out[label] = PageTiming(median_ms=statistics.median(samples),
                                       p95_ms=samples[int(len(samples) * 0.95) - 1], queries=len(ctx.captured_queries))
        say(f"  {label}: median {page.median_ms:.2f} ms, p95 {page.p95_ms:.2f} ms, {page.queries} queries")
    return out


def explain(branch, size: int) -> list[str]:
    from django.db import connection

    from customer_service.models import OPEN_STATUSES

    plans = []
    with connection.cursor() as cur:
        for label, sql in [
            ("page", "SELECT id FROM customer_service_servicerequest WHERE branch_id = %s AND status = ANY(%s) "
                     "ORDER BY due_at, id LIMIT 50"),
            ("count", "SELECT count(*) FROM customer_service_servicerequest WHERE branch_id = %s AND status = ANY(%s)"),
        ]:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) " + sql, [branch.pk, OPEN_STATUSES])
            plans.append((label, [row[0] for row in cur.fetchall()]))
    lines = []
    for label, rows in plans:
        lines += [f"- `EXPLAIN ANALYZE` of the queue's {label} query at {size:,} requests:", "", "  ```"]
        lines += [f"  {row}" for row in rows]
        lines += ["  ```", ""]
    return lines


def measure_desk(n: int, scale: float = 1.0) -> DeskResults:
    """Build the data, measure at both sizes (in the current, throwaway database)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False
    started = time.perf_counter()
    result = DeskResults(customers=max(2, round(CUSTOMERS * scale)), small=max(2, round(SMALL * scale)),
                         large=max(4, round(LARGE * scale)), requests=n,
                         measured_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    say(f"desk: staff, {result.customers:,} customers ...")
    branches, csrs = setup()
    load_customers(branches, result.customers)
    from accounts.models import Customer

    mine = Customer.objects.filter(home_branch=branches[0]).order_by("id").values_list("number", flat=True)
    customer_number = mine[min(500, result.customers // 2 - 1)]
    client = Client()
    client.force_login(csrs[0])
    loaded = 0
    for size in (result.small, result.large):
        seconds = load_requests(branches, csrs, loaded + 1, size, result.customers)
        say(f"desk: {size:,} requests ({size - loaded:,} loaded in {seconds:.1f} s), measuring ...")
        loaded = size
        # the glance page's customer gets a few requests of its own through the bulk rows already
        for label, page in measure(client, pages(customer_number), n).items():
            result.pages.setdefault(label, {})[size] = page
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE status IN ('draft','submitted','awaiting_approval','approved',"
                    "'in_progress')), count(*) FROM customer_service_servicerequest WHERE branch_id = %s",
                    [branches[0].pk])
        result.open_rows, result.branch_rows = cur.fetchone()
    result.plans = explain(branches[0], result.large)
    result.seconds = time.perf_counter() - started
    return result


def render(r: DeskResults) -> list[str]:
    """The README subsection as lines."""
    small, large = r.small, r.large
    lines = [
        HEADING, "",
        f"Measured {r.measured_at} (`bench/desk_bench.py`, also `bench/run.py --only desk`). {r.customers:,} customers and "
        f"{small:,} then {large:,} service requests bulk-loaded in SQL over two branches (at {large:,}: the measured "
        f"branch has {r.branch_rows:,} requests, {r.open_rows:,} open). Each page as the branch's CSR through "
        f"`django.test.Client` in this process: {WARMUP} warm-up requests, {r.requests} timed without the query log, "
        f"one counted. Target: under {TARGET_MS:g} ms median, the same number of queries at both sizes.", "",
        f"| page | median ms at {small:,} | median ms at {large:,} | p95 ms at {large:,} | queries {small:,} / "
        f"{large:,} | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for label, by_size in r.pages.items():
        s, g = by_size[small], by_size[large]
        met = "yes" if r.met(label) else "**no**"
        lines.append(f"| {label} | {s.median_ms:.2f} | {g.median_ms:.2f} | {g.p95_ms:.2f} | {s.queries} / {g.queries} "
                     f"| {met} |")
    lines += ["", *r.plans, f"Desk part: {r.seconds:.0f} s.", ""]
    return lines


def measure_own_db(n: int, scale: float = 1.0) -> DeskResults:
    """``measure_desk`` in this bench's own throwaway database (created, then dropped): the
    100,000 customers stay out of the other parts' database. Django must be set up."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    old_test_name = connection.settings_dict.setdefault("TEST", {}).get("NAME")
    connection.settings_dict["TEST"]["NAME"] = APP_DB
    say(f"migrating throwaway database {APP_DB} ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        return measure_desk(n, scale)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        connection.settings_dict["TEST"]["NAME"] = old_test_name


def write_readme(lines: list[str]) -> None:
    """Replace (or add) this subsection of bench/README.md, keeping the rest."""
    import re

    text = README.read_text() if README.exists() else "# Benchmarks\n\n"
    body = "\n".join(lines).rstrip() + "\n\n"
    if HEADING in text:
        before, rest = text.split(HEADING, 1)
        after = re.search(r"^(### |## |Whole run:)", rest, re.MULTILINE)
        text = before + body + (rest[after.start():] if after else "")
    else:
        text = text.rstrip() + "\n\n" + body
    README.write_text(text.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page and size (default 100)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the 100,000 customers and 20,000/200,000 requests (default 1; 0.05 to smoke-test)")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)

    import django

    django.setup()
    lines = render(measure_own_db(args.requests, args.scale))
    say()
    say("\n".join(lines))
    if not args.no_readme:
        write_readme(lines)
        say(f"written to {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
