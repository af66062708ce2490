"""DRF permission: the caller is active branch staff, and its role holds the view's
``required_perm`` (when the view names one). Object scoping is the access_* selectors' job."""

from rest_framework.permissions import BasePermission

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
