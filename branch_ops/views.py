"""Platform screens: sign in and out, each role's home, the approvals inbox, the audit
trail. Thin: parse, check the role, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from branch_ops import approvals
from branch_ops.access import access_approval, require_perm, staff_profile
from branch_ops.audit import audit_chain_verify
from branch_ops.errors import ApplicationError
from branch_ops.forms import DecisionForm, StaffAuthenticationForm
from branch_ops.models import Approval, AuditEvent
from branch_ops.problems import api_problem_response
from branch_ops.roles import Perm


class StaffLoginView(LoginView):
    template_name = "registration/login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("login")


def _profile_or_403(request):
    try:
        return staff_profile(request.user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


@login_required
def home(request):
    if request.user.is_superuser and not hasattr(request.user, "staff"):
        return redirect("admin:index")
    profile = _profile_or_403(request)
    qs = Approval.objects.filter(branch=profile.branch, status=Approval.Status.PENDING)
    may_decide = profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)
    waiting_for_me = (
        qs.filter(decider_roles__contains=[profile.role]).exclude(requested_by=request.user).count() if may_decide else 0
    )
    my_pending = qs.filter(requested_by=request.user).count()
    return render(request, f"home/{profile.role}.html", {
        "profile": profile,
        "waiting_for_me": waiting_for_me,
        "my_pending": my_pending,
    })


@login_required
def approval_inbox(request):
    profile = _profile_or_403(request)
    qs = Approval.objects.select_related("requested_by", "decided_by").filter(branch=profile.branch)
    may_decide = profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)
    if may_decide:
        pending = qs.filter(status=Approval.Status.PENDING, decider_roles__contains=[profile.role]).exclude(
            requested_by=request.user)
    else:
        pending = qs.none()
    mine = qs.filter(requested_by=request.user).order_by("-requested_at")[:50]
    recent = qs.exclude(status=Approval.Status.PENDING).order_by("-decided_at")[:20] if may_decide else []
    template = "approvals/_inbox.html" if request.htmx else "approvals/inbox.html"
    return render(request, template, {
        "profile": profile, "pending": pending, "mine": mine, "recent": recent, "may_decide": may_decide,
    })


@login_required
@require_http_methods(["GET", "POST"])
def approval_detail(request, approval_id):
    profile = _profile_or_403(request)
    try:
        approval = access_approval(user=request.user, public_id=approval_id)
    except ApplicationError as exc:
        return render(request, "error.html", {"message": exc.message}, status=exc.status_code)
    form = DecisionForm(request.POST or None)
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
    try:
        kind_label = approvals.approval_kind_get(approval.kind).label
    except LookupError:
        kind_label = approval.kind
    can_decide = (
        approval.is_pending and profile.kind == profile.Kind.PERSON and profile.role in approval.decider_roles
        and approval.requested_by_id != request.user.pk
    )
    return render(request, "approvals/detail.html", {
        "approval": approval, "form": form, "kind_label": kind_label, "can_decide": can_decide,
        "can_cancel": approval.is_pending and approval.requested_by_id == request.user.pk,
    }, status=400 if form.errors else 200)


@login_required
def audit_trail(request):
    try:
        profile = require_perm(request.user, Perm.VIEW_AUDIT)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None
    events = AuditEvent.objects.select_related("actor").filter(branch=profile.branch).order_by("-seq")[:100]
    report = audit_chain_verify(branch=profile.branch) if request.GET.get("verify") else None
    return render(request, "audit/trail.html", {"events": events, "report": report})


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- error pages: a problem document under /api/, a page elsewhere --------------------------------

def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return api_problem_response(404, "NOT_FOUND", _("Not found."))
    return render(request, "error.html", {"message": _("This page does not exist.")}, status=404)


def forbidden(request, exception=None):
    if request.path.startswith("/api/"):
        return api_problem_response(403, "ROLE_NOT_ALLOWED", _("Your role does not allow this."))
    message = str(exception) if exception and str(exception) else _("Your role does not allow this.")
    return render(request, "error.html", {"message": message}, status=403)


def server_error(request):
    if request.path.startswith("/api/"):
        return api_problem_response(500, "SERVER_ERROR", _("Something went wrong on our side. Nothing was changed."))
    return render(request, "error.html", {"message": _("Something went wrong on our side.")}, status=500)


def csrf_failure(request, reason=""):
    if request.path.startswith("/api/"):
        return api_problem_response(403, "CSRF_FAILED", _("The form expired or was not sent from this site. Reload and try again."))
    return render(request, "error.html", {
        "message": _("The form expired or was not sent from this site. Reload the page and try again.")}, status=403)


def lockout(request, credentials, *args, **kwargs):
    message = _("Too many failed sign-in attempts. This account is locked for a while; ask your supervisor if you need it now.")
    if request.path.startswith("/api/"):
        return api_problem_response(423, "ACCOUNT_LOCKED", message)
    form = StaffAuthenticationForm(request)
    return render(request, "registration/login.html", {"form": form, "locked_message": message}, status=429)


