"""Background tasks of the platform, run by the procrastinate worker (``make worker``).

A task is thin: it names the work and calls a service. Each run gets its own request id
(``task-<name>-<hex>``) so its logs and audit events can be told apart.
"""

from __future__ import annotations

import contextlib
import uuid

from django.db import connections
from procrastinate.contrib.django import app

from branch_ops.request_context import reset_request_id, set_request_id


def _close_old_connections() -> None:
    """Django's close_old_connections, but never inside an open transaction (a test's)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


@contextlib.contextmanager
def task_context(name: str):
    """What a task runs inside: a request id, fresh database connections."""
    token = set_request_id(f"task-{name}-{uuid.uuid4().hex[:12]}")
    _close_old_connections()
    try:
        yield
    finally:
        _close_old_connections()
        reset_request_id(token)


@app.periodic(cron="* * * * * */5", periodic_id="webhooks-dispatch")
@app.task(queue="webhooks", name="branch_ops.webhooks_dispatch")
def webhooks_dispatch(timestamp: int | None = None) -> dict:
    """Every 5 s (and at once after a manual redeliver): new feed events become deliveries,
    then due deliveries are POSTed in order."""
    from branch_ops.webhooks import webhooks_deliver_due, webhooks_fan_out

    with task_context("webhooks"):
        created = webhooks_fan_out()
        attempted = webhooks_deliver_due(time_budget=20.0)
    return {"created": created, "attempted": attempted}
