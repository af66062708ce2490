"""Service-desk queue benchmark (issue #6): the queue page, the queue API and the customer
at a glance, at two data sizes, with 100,000 customers and 200,000 requests bulk-loaded in SQL.

    .venv/bin/python bench/desk_bench.py [--requests 100] [--no-readme]
    .venv/bin/python bench/run.py --only desk          (the same, from the bench runner)

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
account (the queue left-joins accounts). Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
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


def setup():
    from branch_ops.models import Branch, Currency
    from branch_ops.services import staff_create

    aed = Currency.objects.get(code="AED")
    branches = [Branch.objects.create(code=code, name=f"Bench {code}", currency=aed, time_zone="Asia/Dubai",
                                      country="AE") for code in ("DESKA", "DESKB")]
    csrs = [staff_create(actor=None, branch=b, username=f"csr.{b.code.lower()}", role="csr", password=PASSWORD).user
            for b in branches]
    return branches, csrs


def load_customers(branches) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CUSTOMERS_SQL, {"a": branches[0].pk, "b": branches[1].pk, "n": CUSTOMERS})


def load_requests(branches, csrs, first: int, last: int) -> float:
    from django.db import connection, transaction

    from customer_service.models import RequestKind

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_REQUESTS_SQL, {"kinds": list(RequestKind.values), "customers": CUSTOMERS, "a": branches[0].pk,
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


def measure(client, urls: dict[str, str], n: int) -> dict[str, tuple[float, float, int]]:
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
        out[label] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(ctx.captured_queries))
        say(f"  {label}: median {out[label][0]:.2f} ms, p95 {out[label][1]:.2f} ms, {out[label][2]} queries")
    return out


def explain(branch) -> list[str]:
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
        lines += [f"- `EXPLAIN ANALYZE` of the queue's {label} query at {LARGE:,} requests:", "", "  ```"]
        lines += [f"  {row}" for row in rows]
        lines += ["  ```", ""]
    return lines


def run(n: int) -> list[str]:
    """Build the data, measure at both sizes; the README subsection as lines."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False
    started = time.perf_counter()
    say("desk: staff, 100,000 customers ...")
    branches, csrs = setup()
    load_customers(branches)
    from accounts.models import Customer

    customer_number = Customer.objects.filter(home_branch=branches[0]).order_by("id").values_list(
        "number", flat=True)[500]
    client = Client()
    client.force_login(csrs[0])
    results = {}
    loaded = 0
    for size in (SMALL, LARGE):
        seconds = load_requests(branches, csrs, loaded + 1, size)
        say(f"desk: {size:,} requests ({size - loaded:,} loaded in {seconds:.1f} s), measuring ...")
        loaded = size
        # the glance page's customer gets a few requests of its own through the bulk rows already
        results[size] = measure(client, pages(customer_number), n)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE status IN ('draft','submitted','awaiting_approval','approved',"
                    "'in_progress')), count(*) FROM customer_service_servicerequest WHERE branch_id = %s",
                    [branches[0].pk])
        open_rows, branch_rows = cur.fetchone()
    plans = explain(branches[0])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        HEADING, "",
        f"Measured {now} (`bench/desk_bench.py`, also `bench/run.py --only desk`). {CUSTOMERS:,} customers and "
        f"{SMALL:,} then {LARGE:,} service requests bulk-loaded in SQL over two branches (at {LARGE:,}: the measured "
        f"branch has {branch_rows:,} requests, {open_rows:,} open). Each page as the branch's CSR through "
        f"`django.test.Client` in this process: {WARMUP} warm-up requests, {n} timed without the query log, one "
        f"counted. Target: under {TARGET_MS:g} ms median, the same number of queries at both sizes.", "",
        f"| page | median ms at {SMALL:,} | median ms at {LARGE:,} | p95 ms at {LARGE:,} | queries {SMALL:,} / "
        f"{LARGE:,} | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for label in results[SMALL]:
        small, large = results[SMALL][label], results[LARGE][label]
        met = "yes" if large[0] < TARGET_MS and small[2] == large[2] else "**no**"
        lines.append(f"| {label} | {small[0]:.2f} | {large[0]:.2f} | {large[1]:.2f} | {small[2]} / {large[2]} "
                     f"| {met} |")
    lines += ["", *plans, f"Desk part: {time.perf_counter() - started:.0f} s.", ""]
    return lines


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
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = APP_DB
    say(f"migrating throwaway database {APP_DB} ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        lines = run(args.requests)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    say()
    say("\n".join(lines))
    if not args.no_readme:
        write_readme(lines)
        say(f"written to {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
