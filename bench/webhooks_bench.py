"""Webhook delivery throughput: one worker process, one subscription, a loopback receiver
that answers 200 at once. Measures fan-out (feed -> delivery rows) and delivery (lease,
POST, record) separately. Runs in a scratch database ``bench_webhooks`` (dropped at the end).

    .venv/bin/python bench/webhooks_bench.py [--events 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_DB_NAME"] = "bench_webhooks"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branch_ops.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from branch_ops.models import Branch, Currency
    from branch_ops.outbox import event_publish
    from branch_ops.services import staff_create
    from branch_ops.webhooks import webhook_subscription_create, webhooks_deliver_due, webhooks_fan_out

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        currency, _ = Currency.objects.get_or_create(code="AED", defaults={"name": "Dirham", "minor_units": 2})
        branch = Branch.objects.create(code=f"WB{int(time.time()) % 100000}", name="Bench", currency=currency,
                                       time_zone="Asia/Dubai", country="AE")
        boss = staff_create(actor=None, branch=branch, username=f"super.{branch.code.lower()}", role="supervisor",
                            password="Bench-password-2026").user
        webhook_subscription_create(actor=boss, url=f"http://127.0.0.1:{server.server_port}/hook", event_types=["*"])
        with transaction.atomic():
            for n in range(args.events):
                event_publish(event_type="bench.event", aggregate=None, aggregate_type="bench", aggregate_id=str(n),
                              payload={"n": n, "text": "x" * 200}, branch=branch)
        t0 = time.perf_counter()
        created = 0
        while True:
            batch = webhooks_fan_out()
            created += batch
            if not batch:
                break
        fan_out = time.perf_counter() - t0
        t0 = time.perf_counter()
        sent = 0
        while sent < created:
            sent += webhooks_deliver_due(max_deliveries=10_000, time_budget=600)
        deliver = time.perf_counter() - t0
        print(f"events: {args.events}; fan-out: {created / fan_out:,.0f} deliveries/s created "
              f"({fan_out * 1000:.0f} ms); delivery: {sent / deliver:,.0f} POSTs/s "
              f"({deliver / sent * 1000:.2f} ms each: lease transaction + POST + record transaction)")
    finally:
        server.shutdown()
        connection.close()
        import psycopg

        p = connection.settings_dict
        with psycopg.connect(dbname="postgres", user=p["USER"], host=p["HOST"] or None, port=p["PORT"] or None,
                             autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_webhooks WITH (FORCE)")


if __name__ == "__main__":
    main()
