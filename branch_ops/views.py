"""Platform screens: sign in and out, each role's home (the approval inbox and the audit
trail moved to ``branch_ops.floor``). Thin: parse, check the role, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from branch_ops import twofactor
from branch_ops.access import staff_profile
from branch_ops.errors import ApplicationError
from branch_ops.forms import ReauthenticationForm, StaffAuthenticationForm, TwoFactorCodeForm, TwoFactorSignInForm
from branch_ops.models import Approval
from branch_ops.problems import api_problem_response
from branch_ops.roles import Perm


class StaffLoginView(LoginView):
    """Step one: user name and password. A two-factor role goes on to its code (or to
    enrolment) with the same ``next``; ``TwoFactorMiddleware`` holds it there."""

    template_name = "registration/login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        twofactor.session_mark_authenticated(self.request)
        return response

    def get_success_url(self):
        url = super().get_success_url()
        user = self.request.user  # verified only when an already signed-in session comes back here
        if twofactor.two_factor_required(user) and not getattr(user, "is_verified", lambda: False)():
            step = "two-factor-verify" if twofactor.totp_device_confirmed(user) else "two-factor-setup"
            return f"{reverse(step)}?{urlencode({'next': url})}"
        return url


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return reverse("home")


@login_required
def two_factor_verify(request):
    """Step two: the code from the confirmed device (throttled and single use: django-otp)."""
    if not twofactor.two_factor_required(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    device = twofactor.totp_device_confirmed(request.user)
    if device is None:
        return redirect(f"{reverse('two-factor-setup')}?{urlencode({'next': _next_url(request)})}")
    form = TwoFactorSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if twofactor.looks_like_backup_code(code):
            if not twofactor.backup_code_verify_allowed(request.user):
                form.add_error("code", _("Too many wrong codes. Wait a few seconds and try again."))
            elif twofactor.backup_code_use(request=request, code=code):
                remaining = twofactor.backup_codes_remaining(request.user)
                messages.warning(request, ngettext(
                    "You signed in with a backup code. %(count)d backup code is left.",
                    "You signed in with a backup code. %(count)d backup codes are left.",
                    remaining) % {"count": remaining})
                return redirect(_next_url(request))
            else:
                form.add_error("code", _("That backup code is not right, or it was already used."))
        elif not twofactor.totp_verify_allowed(device):
            form.add_error("code", _("Too many wrong codes. Wait a few seconds and use the next code."))
        elif twofactor.two_factor_confirm(request=request, code=code):
            return redirect(_next_url(request))
        else:
            form.add_error("code", _("That code is not right, or it was already used. Enter the next code."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)},
                  status=400 if form.errors else 200)


@login_required
def two_factor_setup(request):
    """Enrolment: a new secret as a QR code (an SVG data URI: no script) and as text; the
    first code confirms the device."""
    if not twofactor.two_factor_required(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    if twofactor.totp_device_confirmed(request.user) is not None:
        return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': _next_url(request)})}")
    device = twofactor.totp_enrolment_device(request.user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not twofactor.totp_verify_allowed(device):
            form.add_error("code", _("Too many wrong codes. Wait a few seconds and use the next code."))
        elif twofactor.two_factor_enrol(request=request, code=form.cleaned_data["code"]):
            messages.success(request, _("Two-factor sign-in is set up. You will need a code at every sign-in."))
            # shown once, in this response: only their hashes are kept
            codes = twofactor.backup_codes_generate(user=request.user, reason="enrolment")
            return render(request, "registration/two_factor_backup_codes_new.html",
                          {"codes": codes, "next": _next_url(request)})
        else:
            form.add_error("code", _("That code is not right. Check the time on your phone and enter the next code."))
    return render(request, "registration/two_factor_setup.html", {
        "form": form, "next": _next_url(request), "qr_data_uri": twofactor.totp_qr_data_uri(device),
        "secret": twofactor.totp_secret_text(device),
    }, status=400 if form.errors else 200)


@login_required
def two_factor_backup_codes(request):
    """How many backup codes are left; a new set (after re-authentication) voids the old one
    and is shown once. Only for people who sign in with a second factor."""
    if not twofactor.two_factor_required(request.user):
        raise PermissionDenied(_("Backup codes are only for staff who sign in with a code."))
    if request.method == "POST":
        if not twofactor.session_recently_authenticated(request):
            messages.info(request, _("Confirm it is you before making new backup codes."))
            return redirect(f"{reverse('reauthenticate')}?{urlencode({'next': request.path})}")
        codes = twofactor.backup_codes_generate(user=request.user, reason="regenerated")
        return render(request, "registration/two_factor_backup_codes_new.html",
                      {"codes": codes, "next": request.path})
    return render(request, "registration/two_factor_backup_codes.html", {
        "remaining": twofactor.backup_codes_remaining(request.user), "total": twofactor.BACKUP_CODE_COUNT})


@login_required
def reauthenticate(request):
    """Confirm it is you before a sensitive action: the password again (wrong ones count
    towards the lockout, through django-axes), and the code for a two-factor role."""
    needs_code = twofactor.two_factor_required(request.user)
    form = ReauthenticationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=request.user.get_username(), password=form.cleaned_data["password"])
        if user is None or user.pk != request.user.pk:
            form.add_error("password", _("The password is not right."))
        elif needs_code:
            device = twofactor.totp_device_confirmed(request.user)
            if device is None or not twofactor.totp_verify_allowed(device):
                form.add_error("code", _("Too many wrong codes. Wait a few seconds and use the next code."))
            elif not twofactor.two_factor_confirm(request=request, code=form.cleaned_data["code"]):
                form.add_error("code", _("That code is not right, or it was already used. Enter the next code."))
        if not form.errors:
            twofactor.session_mark_authenticated(request)
            return redirect(_next_url(request))
    return render(request, "registration/reauthenticate.html",
                  {"form": form, "next": _next_url(request), "needs_code": needs_code},
                  status=400 if form.errors else 200)


def admin_login(request):
    """The admin signs in through the staff sign-in (and its second step)."""
    return redirect(f"{reverse('login')}?{urlencode({'next': _next_url(request) if request.GET.get('next') else '/admin/'})}")


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


def favicon(request):
    """Browsers ask for /favicon.ico on every page whatever the page links; without it each
    page logs a 404 in the console. The icon is a static file (hashed name in production)."""
    return redirect(static("favicon.svg"), permanent=False)


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


