"""What every page needs: the staff profile and the navigation of the user's role."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branch_ops.roles import Perm

# (label, url name, permission needed or None)
NAVIGATION = [
    (_("Home"), "home", None),
    (_("Customers"), "customer-search", Perm.VIEW_CUSTOMER),
    (_("Requests"), "request-queue", Perm.CREATE_REQUEST),
    (_("Complaints"), "complaint-list", Perm.LOG_COMPLAINT),
    (_("Reports"), "complaint-report", Perm.VIEW_REPORTS),
    (_("Transfer"), "transfer-create", Perm.POST_TRANSFER),
    (_("Teller window"), "teller-window", Perm.OPERATE_DRAWER),
    (_("Vault"), "vault-pending", Perm.CONFIRM_VAULT),
    (_("Approvals"), "approval-inbox", None),
    (_("Branch board"), "floor-board", Perm.VIEW_BRANCH_QUEUES),
    (_("Daily report"), "floor-report", Perm.VIEW_REPORTS),
    (_("Lobby queue"), "lobby-counter", Perm.SERVE_LOBBY),
    (_("Audit trail"), "audit-trail", Perm.VIEW_AUDIT),
    (_("API docs"), "api-docs", None),
]


def staff(request):
    user = getattr(request, "user", None)
    profile = getattr(user, "staff", None) if user is not None and user.is_authenticated else None
    nav = []
    if profile is not None:
        nav = [
            {"label": label, "url": url, "active": request.path == url}
            for label, name, perm in NAVIGATION
            if perm is None or profile.has(perm)
            for url in (reverse(name),)
        ]
    from branch_ops.twofactor import two_factor_required

    # the link to the backup codes, once the session has passed its second step
    two_factor_user = (user is not None and two_factor_required(user)
                       and getattr(user, "is_verified", lambda: False)())
    return {"staff_profile": profile, "navigation": nav, "two_factor_user": two_factor_user}
