"""Roles as data: the one table that says what each role may do.

Django groups (one per role) are synced from this table by ``manage.py sync_roles`` (run by
``make run`` and the demo seed, and by :func:`sync_role_groups` in tests). Checks in views
and services read the table through :func:`role_has` so that a role's power is read in one
place. Object scoping (own branch, own drawer) is done by the ``access_*`` selectors.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    TELLER = "teller"
    CSR = "csr"
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.TELLER: _("Teller"),
    Role.CSR: _("Customer-service representative"),
    Role.COORDINATOR: _("Coordinator"),
    Role.SUPERVISOR: _("Supervisor"),
}
ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


class Perm(StrEnum):
    """Permission codenames (``branch_ops.<codename>`` in Django's terms)."""

    VIEW_CUSTOMER = "view_customer"
    MANAGE_CUSTOMER = "manage_customer"
    OPERATE_DRAWER = "operate_drawer"
    POST_CASH = "post_cash"
    POST_TRANSFER = "post_transfer"
    CONFIRM_VAULT = "confirm_vault"
    SET_RATES = "set_rates"
    CREATE_REQUEST = "create_request"
    LOG_COMPLAINT = "log_complaint"
    HANDLE_COMPLAINT = "handle_complaint"
    SUPERVISE_COMPLAINTS = "supervise_complaints"
    DECIDE_ROUTINE = "decide_routine"
    DECIDE_FOUR_EYES = "decide_four_eyes"
    VIEW_BRANCH_QUEUES = "view_branch_queues"
    VIEW_AUDIT = "view_audit"
    VIEW_STAFF = "view_staff"
    MANAGE_SERVICE_ACCOUNTS = "manage_service_accounts"
    READ_EVENTS = "read_events"
    MANAGE_WEBHOOKS = "manage_webhooks"
    VIEW_REPORTS = "view_reports"
    SERVE_LOBBY = "serve_lobby"


PERM_LABELS = {
    Perm.VIEW_CUSTOMER: "Find customers and view their records",
    Perm.MANAGE_CUSTOMER: "Create and update customers",
    Perm.OPERATE_DRAWER: "Open, balance and close a cash drawer",
    Perm.POST_CASH: "Post cash transactions",
    Perm.POST_TRANSFER: "Transfer between customer accounts",
    Perm.CONFIRM_VAULT: "Confirm vault transfers as custodian",
    Perm.SET_RATES: "Set the branch's exchange rate board",
    Perm.CREATE_REQUEST: "Create service requests",
    Perm.LOG_COMPLAINT: "Log complaints",
    Perm.HANDLE_COMPLAINT: "Investigate and resolve complaints",
    Perm.SUPERVISE_COMPLAINTS: "Act on every complaint of the branch, extend deadlines",
    Perm.DECIDE_ROUTINE: "Approve routine requests of others",
    Perm.DECIDE_FOUR_EYES: "Approve four-eyes items (openings, overrides, reversals, redress)",
    Perm.VIEW_BRANCH_QUEUES: "See every queue of the branch",
    Perm.VIEW_AUDIT: "Search the branch's audit trail",
    Perm.VIEW_STAFF: "See the branch's staff",
    Perm.MANAGE_SERVICE_ACCOUNTS: "Create service accounts and their API tokens",
    Perm.READ_EVENTS: "Read the event feed",
    Perm.MANAGE_WEBHOOKS: "Subscribe webhooks to the event feed, rotate their secrets, redeliver",
    Perm.VIEW_REPORTS: "See branch reports",
    Perm.SERVE_LOBBY: "Sit at a lobby counter and call customers' tickets",
}

_CSR = {
    Perm.VIEW_CUSTOMER,
    Perm.POST_TRANSFER,
    Perm.MANAGE_CUSTOMER,
    Perm.CREATE_REQUEST,
    Perm.LOG_COMPLAINT,
    Perm.HANDLE_COMPLAINT,
    Perm.SERVE_LOBBY,
}

#: THE table. Nothing else grants power.
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.TELLER: frozenset(
        {Perm.VIEW_CUSTOMER, Perm.OPERATE_DRAWER, Perm.POST_CASH, Perm.POST_TRANSFER, Perm.LOG_COMPLAINT,
         Perm.SERVE_LOBBY}
    ),
    Role.CSR: frozenset(_CSR),
    Role.COORDINATOR: frozenset(_CSR | {Perm.DECIDE_ROUTINE, Perm.VIEW_BRANCH_QUEUES, Perm.VIEW_STAFF}),
    Role.SUPERVISOR: frozenset(
        (_CSR - {Perm.POST_TRANSFER})
        | {
            Perm.DECIDE_ROUTINE,
            Perm.DECIDE_FOUR_EYES,
            Perm.CONFIRM_VAULT,
            Perm.SET_RATES,
            Perm.SUPERVISE_COMPLAINTS,
            Perm.VIEW_BRANCH_QUEUES,
            Perm.VIEW_AUDIT,
            Perm.VIEW_STAFF,
            Perm.MANAGE_SERVICE_ACCOUNTS,
            Perm.READ_EVENTS,
            Perm.MANAGE_WEBHOOKS,
            Perm.VIEW_REPORTS,
        }
    ),
}


def role_has(role: str | None, perm: Perm) -> bool:
    if role is None:
        return False
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_with(perm: Perm) -> list[str]:
    """Every role that holds ``perm`` (used e.g. to say who may decide an approval kind)."""
    return sorted(r.value for r, perms in ROLE_PERMISSIONS.items() if perm in perms)


def sync_role_groups() -> None:
    """Create/refresh one Django group per role with exactly its permissions."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from branch_ops.models import StaffProfile

    ct = ContentType.objects.get_for_model(StaffProfile)
    perms = {}
    for perm in Perm:
        obj, _created = Permission.objects.get_or_create(
            content_type=ct, codename=perm.value, defaults={"name": PERM_LABELS[perm]}
        )
        perms[perm] = obj
    for role, granted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=f"role:{role.value}")
        group.permissions.set([perms[p] for p in granted])
