"""Reference data of the lobby: the priority rules (loaded by migration 0002, edited in the
admin) and the usual services a branch offers (the demo and tests set a branch up with them;
a real branch's services and counters are data in the admin)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: code, name (English; the screens show the translated label below when there is one), order
PRIORITY_RULES = [
    ("elderly", "Elderly customer", 1),
    ("disabled", "Customer with a disability", 2),
    ("pregnant", "Pregnant customer", 3),
]
#: code, name, ticket letter, order
DEFAULT_SERVICES = [
    ("cash", "Cash", "A", 1),
    ("desk", "Service desk", "B", 2),
    ("complaints", "Complaints", "C", 3),
]

#: the labels customers and staff read, by code, in their language (data rows with another
#: code show their ``name`` as entered)
SERVICE_LABELS = {
    "cash": _("Cash"),
    "desk": _("Service desk"),
    "complaints": _("Complaints"),
}
PRIORITY_LABELS = {
    "elderly": _("Elderly customer"),
    "disabled": _("Customer with a disability"),
    "pregnant": _("Pregnant customer"),
}


def priority_rules_load(PriorityRule) -> None:  # noqa: N803 - the model class (also historical)
    for code, name, order in PRIORITY_RULES:
        PriorityRule.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


def lobby_services_default(branch, LobbyService=None) -> list:  # noqa: N803
    """The three usual services for ``branch`` (created when missing)."""
    if LobbyService is None:
        from branch_ops.floor.lobby.models import LobbyService
    return [LobbyService.objects.get_or_create(branch=branch, code=code,
                                               defaults={"name": name, "letter": letter, "sort_order": order})[0]
            for code, name, letter, order in DEFAULT_SERVICES]
