"""Prometheus metrics (prometheus-client), served at ``/metrics``.

In-process metrics: request latency by route name, postings by kind, webhook attempts by
outcome. With gunicorn's several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory (``make serve`` does): each process writes its samples there and a scrape
adds them up. Gauges read from the database at scrape time (so every process reports the
same truth): approvals waiting per branch, outbox feed lag, webhook backlog, worker
heartbeat age.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

REQUEST_LATENCY = Histogram(
    "branchops_http_request_duration_seconds", "Time to answer a request, by route name.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POSTINGS = Counter("branchops_postings", "Ledger transactions committed, by kind.", ["kind"])
WEBHOOK_ATTEMPTS = Counter("branchops_webhook_attempts", "Webhook POSTs, by outcome.", ["outcome"])


class DatabaseCollector(Collector):
    """Gauges computed by a few cheap queries at scrape time."""

    def collect(self):
        from django.db.models import Count

        from branch_ops.models import Approval
        from branch_ops.outbox import feed_lag_seconds
        from branch_ops.webhooks import webhook_pending_stats

        waiting = GaugeMetricFamily("branchops_approvals_waiting", "Approvals pending a decision, by branch.",
                                    labels=["branch"])
        for row in (Approval.objects.filter(status=Approval.Status.PENDING).values("branch__code")
                    .annotate(n=Count("id")).order_by("branch__code")):
            waiting.add_metric([row["branch__code"]], row["n"])
        yield waiting
        yield GaugeMetricFamily("branchops_outbox_lag_seconds",
                                "Age of the oldest committed outbox event the feed cannot hand out yet "
                                "(held back by an open transaction).", value=feed_lag_seconds())
        count, age = webhook_pending_stats()
        yield GaugeMetricFamily("branchops_webhook_pending_deliveries", "Webhook deliveries waiting.", value=count)
        yield GaugeMetricFamily("branchops_webhook_oldest_pending_seconds",
                                "Age of the event of the oldest waiting webhook delivery.", value=age)
        heartbeat = worker_heartbeat_age()
        yield GaugeMetricFamily("branchops_worker_heartbeat_age_seconds",
                                "Seconds since the freshest worker heartbeat (-1: no worker).",
                                value=-1 if heartbeat is None else heartbeat)


def worker_heartbeat_age() -> float | None:
    """Seconds since the last heartbeat of any procrastinate worker, or None if none."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM now() - max(last_heartbeat)) FROM procrastinate_workers")
        (age,) = cur.fetchone()
    return None if age is None else float(age)


def render_metrics() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUEST_LATENCY, POSTINGS, WEBHOOK_ATTEMPTS):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


__all__ = ["POSTINGS", "REGISTRY", "REQUEST_LATENCY", "WEBHOOK_ATTEMPTS", "render_metrics"]
