"""The complaints panel of the desk's customer page.

The customer page belongs to the service desk (``customer_service``), which must not
import ``complaints``. The floor composes them instead: the desk page loads this panel
with HTMX (``hx-get`` on load, a plain link without JavaScript), and the panel reads
``complaints.selectors`` only. The panel shows what the complaint queue shows the viewer
(a supervisor every complaint of the branch, others the ones they own or took), limited to
this customer: open ones first with the colour of their next deadline, then the last few
closed ones.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from branch_ops.access import require_perm
from branch_ops.errors import ApplicationError
from branch_ops.roles import Perm
from complaints import selectors as complaint_selectors
from complaints.services import clock_colour

#: a clock's colour as a Bootstrap badge (as on the complaints list)
CLOCK_CSS = {"green": "success", "amber": "warning", "red": "danger", "done": "secondary"}
CLOSED_SHOWN = 5


def customer_complaints(*, actor, customer_number: str, now=None) -> dict:
    """The customer's complaints the actor may see: ``open`` (each with its next deadline
    and colour, most urgent first) and the latest ``closed`` ones."""
    now = now or timezone.now()
    complaints = list(complaint_selectors.complaint_queue(actor=actor).filter(customer__number=customer_number))
    open_rows, closed = [], []
    for complaint in complaints:
        if complaint.status == "closed":
            closed.append(complaint)
            continue
        pending = sorted((d for d in complaint.deadlines.all() if not d.met_at), key=lambda d: d.due_at)
        deadline = pending[0] if pending else None
        colour = clock_colour(deadline, complaint.regime, now) if deadline else "done"
        open_rows.append({"complaint": complaint, "deadline": deadline, "colour": colour, "css": CLOCK_CSS[colour]})
    open_rows.sort(key=lambda row: row["deadline"].due_at if row["deadline"] else now)
    closed.sort(key=lambda c: c.received_at, reverse=True)
    return {"open": open_rows, "closed": closed[:CLOSED_SHOWN]}


@login_required
@require_GET
def customer_complaints_panel(request, customer_number: str):
    try:
        profile = require_perm(request.user, Perm.LOG_COMPLAINT)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None
    panel = customer_complaints(actor=request.user, customer_number=customer_number)
    template = "floor/_customer_complaints.html" if request.htmx else "floor/customer_complaints.html"
    return render(request, template, {**panel, "customer_number": customer_number,
                                      "time_zone": profile.branch.time_zone})
