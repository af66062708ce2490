"""DRF permission: the caller is active branch staff, and its role holds the view's
``required_perm`` (when the view names one). Object scoping is the access_* selectors' job."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from branch_ops.roles import role_has


class IsActiveStaff(BasePermission):
    message = "Only branch staff can use the API."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        profile = getattr(user, "staff", None)
        if profile is None:
            return False
        perm = getattr(view, "required_perm", None)
        method_perms = getattr(view, "required_perms_by_method", None)
        if method_perms and request.method in method_perms:
            perm = method_perms[request.method]
        if perm is None:
            return True
        return role_has(profile.role, perm)


class RecentAuthentication(BasePermission):
    """Sensitive writes (API tokens, service accounts) from a browser session need a
    password check no older than ``REAUTH_MAX_AGE_SECONDS``; otherwise 403
    ``REAUTH_REQUIRED`` pointing at the re-authentication page. A bearer token is its own
    credential and is not asked."""

    def has_permission(self, request, view):
        from django.urls import reverse
        from django.utils.translation import gettext as _

        from branch_ops.api_auth import StaffSessionAuthentication
        from branch_ops.errors import Forbidden
        from branch_ops.twofactor import session_recently_authenticated

        if request.method in SAFE_METHODS or not isinstance(request.successful_authenticator, StaffSessionAuthentication):
            return True
        if session_recently_authenticated(request._request):
            return True
        raise Forbidden(_("Confirm it is you: enter your password again, then repeat the request."),
                        code="REAUTH_REQUIRED", extra={"reauthenticate": reverse("reauthenticate")})
