"""Small helpers several test modules share."""

import time

from django.db import connection


def wait_until_committed_events_are_past_the_horizon(timeout=60.0):
    """The event feed's horizon is the cluster's oldest running transaction: a transaction
    of another database on the same server (a parallel test worker, a benchmark) delays the
    feed — never reorders it. Wait for that, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > "
                        "coalesce((SELECT max(txid) FROM branch_ops_outboxevent), 0)")
            if cur.fetchone()[0] or time.monotonic() > deadline:
                return
        time.sleep(0.05)
