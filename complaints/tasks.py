"""The complaint clock on the background worker: every 30 seconds, record breaches and
escalations (``manage.py complaint_clock`` runs the same service by hand)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from branch_ops.tasks import task_context
from complaints.services import deadlines_sweep


@app.periodic(cron="* * * * * */30", periodic_id="complaint-clock")
@app.task(queue="clocks", name="complaints.complaint_clock")
def complaint_clock(timestamp: int | None = None) -> dict:
    with task_context("complaint-clock"):
        return deadlines_sweep()
