"""Request id and the staff idle timeout."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from branch_ops.request_context import reset_request_id, set_request_id

request_logger = logging.getLogger("branch_ops.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
LAST_SEEN_KEY = "bo_last_seen"
#: the most the stored last-activity time may lag behind the last request (seconds)
LAST_SEEN_MAX_RESOLUTION = 60


def last_seen_resolution(timeout: int) -> int:
    """How often the last-activity time is written to the session: once a minute, or once
    a tenth of the timeout when that is shorter (a short timeout keeps its meaning)."""
    return max(1, min(LAST_SEEN_MAX_RESOLUTION, timeout // 10))


def _now() -> float:
    return time.time()


class RequestIdMiddleware:
    """Take a sane ``X-Request-ID`` from the proxy or make one; it lands on audit events,
    problem documents and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class RequestMetricsMiddleware:
    """Times each request into the latency histogram by route *name* (never the path, which
    can hold account or card numbers) and writes one log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from branch_ops.metrics import REQUEST_LATENCY

        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match else "") or "unmatched"
        if route != "metrics":
            REQUEST_LATENCY.labels(route=route, method=request.method, status=str(response.status_code)).observe(elapsed)
        request_logger.info("request", extra={"method": request.method, "route": route, "status": response.status_code,
                                              "duration_ms": round(elapsed * 1000, 1)})
        return response


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every response (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class IdleTimeoutMiddleware:
    """End a browser session after ``STAFF_IDLE_TIMEOUT_SECONDS`` without a request and say
    so on the login page (or in a 401 problem document for the API).

    The time of the last request is written to the session only when the stored one is
    :func:`last_seen_resolution` old (a minute by default), not on every request: one
    session write, one commit, fewer per request. The stored time therefore lags behind
    the last request by less than that resolution, and never runs ahead of it (it is
    rounded down to the second), so a session still ends no later than the timeout after
    its last request; it may end up to the resolution earlier."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            now = _now()
            timeout = settings.STAFF_IDLE_TIMEOUT_SECONDS
            last = request.session.get(LAST_SEEN_KEY)
            if last is not None and now - int(last) > timeout:
                logout(request)
                if request.path.startswith("/api/"):
                    from branch_ops.problems import api_problem_response

                    return api_problem_response(
                        401, "SESSION_EXPIRED", _("Your session expired after a period without activity. Sign in again.")
                    )
                messages.warning(request, _("Your session expired after a period without activity. Sign in again."))
                return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            if last is None or now - int(last) >= last_seen_resolution(timeout):
                request.session[LAST_SEEN_KEY] = int(now)  # rounded down: never later than the request
        return self.get_response(request)


#: what an unverified session of a two-factor user may still reach
TWO_FACTOR_EXEMPT_URL_NAMES = frozenset({
    "login", "logout", "two-factor-verify", "two-factor-setup", "set_language",
    "healthz", "health-live", "health-ready", "metrics",
})


class TwoFactorMiddleware:
    """A signed-in supervisor or superuser (``OTP_REQUIRED_ROLES``) whose session has not
    passed a TOTP code is sent to enrolment or to the code page before anything else; on the
    API it gets 401 ``TWO_FACTOR_REQUIRED``. Before a POST in the Django admin (where staff
    and roles change) a session whose last password check is older than
    ``REAUTH_MAX_AGE_SECONDS`` is sent to re-authenticate. Bearer-token requests are DRF's
    business (service accounts have no password and no second factor)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.urls import Resolver404, resolve

        from branch_ops import twofactor

        user = request.user
        if not user.is_authenticated or request.path.startswith(f"/{settings.STATIC_URL.strip('/')}/"):
            return self.get_response(request)
        if request.path.startswith("/api/") and request.headers.get("Authorization"):
            return self.get_response(request)
        needs_code = twofactor.two_factor_required(user) and not user.is_verified()
        admin_post = request.method == "POST" and request.path.startswith("/admin/")
        if not (needs_code or admin_post):
            return self.get_response(request)  # no rule applies: no need to resolve the URL a second time
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        if needs_code and name not in TWO_FACTOR_EXEMPT_URL_NAMES:
            if request.path.startswith("/api/"):
                from branch_ops.problems import api_problem_response

                return api_problem_response(401, "TWO_FACTOR_REQUIRED",
                                            _("Enter the code from your authenticator app on the sign-in page first."))
            target = "two-factor-verify" if twofactor.totp_device_confirmed(user) else "two-factor-setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        if (admin_post and name not in ("login", "logout")
                and not twofactor.session_recently_authenticated(request)):
            messages.info(request, _("Confirm it is you before changing this."))
            return redirect(f"{reverse('reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
