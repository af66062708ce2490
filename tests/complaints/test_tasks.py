"""The complaint clock as a procrastinate periodic task."""

import datetime as dt

from django.utils import timezone

from branch_ops.models import AuditEvent
from complaints.models import Deadline
from complaints.tasks import complaint_clock
from tests.complaints.test_complaints import _log, funded, reference  # noqa: F401 (fixtures)


def test_the_periodic_task_sweeps_and_its_audit_events_carry_a_task_request_id(staff, funded):  # noqa: F811
    complaint = _log(staff, funded)
    Deadline.objects.filter(complaint=complaint, kind="ack").update(due_at=timezone.now() - dt.timedelta(minutes=1))
    result = complaint_clock(timestamp=int(timezone.now().timestamp()))
    assert result["breached"] == 1
    event = AuditEvent.objects.get(action="complaint.deadline_breached")
    assert event.request_id.startswith("task-complaint-clock-")


def test_the_tasks_are_registered_as_periodic():
    from procrastinate.contrib.django import app

    periodic = {task.periodic_id: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic == {"webhooks-dispatch": "* * * * * */5", "complaint-clock": "* * * * * */30"}
