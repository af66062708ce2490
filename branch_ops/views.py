"""Platform screens: sign in and out, each role's home (the approval inbox and the audit
trail moved to ``branch_ops.floor``). Thin: parse, check the role, call one service or selector, render."""

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
from django.views.decorators.http import require_POST

from branch_ops.access import staff_profile
from branch_ops.errors import ApplicationError
from branch_ops.forms import StaffAuthenticationForm
from branch_ops.models import Approval
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
    import sys

    from branch_ops.problems import CONTENT_TYPE, DATABASE_ERRORS, database_unavailable

    if request.path.startswith("/api/"):
        exc = sys.exc_info()[1]  # Django calls this handler inside its ``except`` block
        if isinstance(exc, DATABASE_ERRORS):  # e.g. the token lookup, before DRF's handler
            body, headers = database_unavailable(exc)
            return JsonResponse(body, status=503, content_type=CONTENT_TYPE, headers=headers)
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


