"""Floor screens: the approval inbox (and an approval's own page), the branch board, the
audit trail search and the daily report. Thin: parse, check the role, call one service
or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from branch_ops import approvals
from branch_ops.access import access_approval, require_perm, staff_profile
from branch_ops.errors import ApplicationError
from branch_ops.floor import charts
from branch_ops.floor.audit_search import audit_csv_rows, audit_search, audit_verify
from branch_ops.floor.board import branch_board
from branch_ops.floor.inbox import approval_inbox, approval_item, may_decide
from branch_ops.floor.report import daily_report, daily_report_csv
from branch_ops.forms import DecisionForm
from branch_ops.models import Approval
from branch_ops.roles import Perm


def _profile_or_403(request, perm: Perm | None = None):
    try:
        return require_perm(request.user, perm) if perm else staff_profile(request.user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


# --- approvals ---------------------------------------------------------------------------------------

@login_required
def inbox(request):
    """Everything waiting for my decision (with its context), and my own requests."""
    profile = _profile_or_403(request)
    found = approval_inbox(actor=request.user)
    mine = (Approval.objects.select_related("requested_by", "decided_by")
            .filter(branch=profile.branch, requested_by=request.user).order_by("-requested_at")[:20])
    deciders = profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)
    template = "floor/_inbox.html" if request.htmx else "floor/inbox.html"
    return render(request, template, {"inbox": found, "mine": mine, "may_decide": deciders,
                                      "decision_form": DecisionForm()})


@login_required
@require_POST
def inbox_decide(request, approval_id):
    """Approve or reject from the inbox; under HTMX, answers with the item's new card."""
    form = DecisionForm(request.POST)
    error, status = None, 200
    if not form.is_valid() or form.cleaned_data["decision"] not in ("approve", "reject"):
        error, status = _("Choose approve or reject."), 400
    else:
        try:
            approvals.approval_decide(approval_id=approval_id, actor=request.user,
                                      approve=form.cleaned_data["decision"] == "approve",
                                      reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            error = exc.message
            status = exc.status_code
    if status in (403, 404) and not request.htmx:
        # refused (not your branch, not your role): say so with the status, not a redirect
        return render(request, "error.html", {"message": error}, status=status)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Approved.") if form.cleaned_data["decision"] == "approve" else _("Rejected."))
        return redirect("approval-inbox")
    try:
        approval = access_approval(user=request.user, public_id=approval_id)
    except ApplicationError as exc:
        return render(request, "floor/_inbox_gone.html", {"approval_id": approval_id, "error": exc.message},
                      status=exc.status_code)
    item = approval_item(actor=request.user, approval=approval)
    return render(request, "floor/_inbox_item.html", {
        "item": item, "error": error, "can_decide": may_decide(request.user.staff, request.user, approval),
        "reason": form.data.get("reason", ""),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def approval_detail(request, approval_id):
    """One approval: its context, the decision (or withdrawal) form, and — while it waits —
    a status line that polls, so the requester sees the decision at once."""
    profile = _profile_or_403(request)
    try:
        approval = access_approval(user=request.user, public_id=approval_id)
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    refused = None
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "cancel":
                approvals.approval_cancel(approval_id=approval.public_id, actor=request.user,
                                          reason=form.cleaned_data["reason"])
                messages.success(request, _("Your request was withdrawn."))
            else:
                approve = form.cleaned_data["decision"] == "approve"
                approvals.approval_decide(approval_id=approval.public_id, actor=request.user, approve=approve,
                                          reason=form.cleaned_data["reason"])
                messages.success(request, _("Approved.") if approve else _("Rejected."))
            return redirect("approval-inbox")
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            refused = exc.status_code
    item = approval_item(actor=request.user, approval=approval)
    return render(request, "floor/approval_detail.html", {
        "approval": approval, "item": item, "form": form, "kind_label": item.kind_label,
        "can_decide": may_decide(profile, request.user, approval),
        "can_cancel": approval.is_pending and approval.requested_by_id == request.user.pk,
    }, status=refused or (400 if form.errors else 200))


@login_required
def approval_status(request, approval_id):
    """The approval's status line (polled by HTMX while it is pending)."""
    _profile_or_403(request)
    try:
        approval = access_approval(user=request.user, public_id=approval_id)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    return render(request, "floor/_approval_status.html", {"approval": approval})


# --- board -------------------------------------------------------------------------------------------

@login_required
def board(request):
    _profile_or_403(request, Perm.VIEW_BRANCH_QUEUES)
    try:
        found = branch_board(actor=request.user, branch_code=request.GET.get("branch"))
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    template = "floor/_board.html" if request.htmx else "floor/board.html"
    profile = request.user.staff
    return render(request, template, {"board": found, "can_report": profile.has(Perm.VIEW_REPORTS),
                                      "can_vault": profile.has(Perm.CONFIRM_VAULT)})


# --- audit -------------------------------------------------------------------------------------------

@login_required
def audit(request):
    """Search the branch's audit trail; ``?format=csv`` streams the result; ``?verify=1``
    recomputes the hash chain and shows the result."""
    _profile_or_403(request, Perm.VIEW_AUDIT)
    filterset = audit_search(actor=request.user, params=request.GET)
    if request.GET.get("format") == "csv":
        if not filterset.is_valid():
            return HttpResponse(_("Correct the search first."), status=400)
        response = StreamingHttpResponse(audit_csv_rows(filterset.qs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
    report = audit_verify(actor=request.user) if request.GET.get("verify") else None
    page = Paginator(filterset.qs if filterset.is_valid() else filterset.queryset.none(), 100).get_page(
        request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("verify", None)
    return render(request, "floor/audit.html", {"filter": filterset, "page": page, "report": report,
                                                "query": query.urlencode()},
                  status=200 if filterset.is_valid() else 400)


# --- report ------------------------------------------------------------------------------------------

@login_required
def report(request):
    _profile_or_403(request, Perm.VIEW_REPORTS)
    try:
        found = daily_report(actor=request.user, day=request.GET.get("day"), branch_code=request.GET.get("branch"))
    except ApplicationError as exc:
        return render(request, "floor/report.html", {"error": exc.message, "day": request.GET.get("day", "")},
                      status=exc.status_code)
    if request.GET.get("format") == "csv":
        response = HttpResponse(daily_report_csv(found), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="branch-{found.branch.code}-{found.day}.csv"'
        return response
    return render(request, "floor/report.html", {
        "report": found, "day": found.day.isoformat(),
        "teller_chart": charts.bars([(r["teller"], r["count"]) for r in found.by_teller]),
        "work_chart": charts.bars([
            (_("Requests opened"), found.requests["opened"]), (_("Requests fulfilled"), found.requests["fulfilled"]),
            (_("Requests overdue"), found.requests["overdue"]), (_("Complaints opened"), found.complaints["opened"]),
            (_("Complaints closed"), found.complaints["closed"]),
            (_("Complaint clocks breached"), found.complaints["breached"])]),
    })
