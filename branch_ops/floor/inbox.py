"""The approval inbox: everything waiting for this person's decision, oldest first, with
what each kind says a decider needs to see (``ApprovalKind.describe``).

Who sees an item is exactly who may decide it: a person (not a service account) at the
approval's branch whose role is among the approval's ``decider_roles`` and who did not ask
for it — the same rule ``approval_decide`` and the database trigger apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.defaultfilters import date as date_filter
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from branch_ops.access import staff_profile
from branch_ops.approvals import approval_context, approval_kind_get
from branch_ops.models import Approval, StaffProfile
from branch_ops.roles import Perm

#: how many items one page of the inbox shows (the count says how many there are)
INBOX_LIMIT = 25


@dataclass
class InboxItem:
    """One card. Besides the approval and its kind's context, the card's display fields,
    worked out once in Python in the request's language and time zone (the page shows 25
    cards; the template only places them): the request time and the history times as the
    ``date:"SHORT_DATETIME_FORMAT"`` filter writes them, "asked by <name>", the summary rows
    shown (all but ``amount_minor``) and the card's constant labels, translated once per page."""

    approval: Approval
    kind_label: str
    context: dict
    requested_at: str = ""
    asked_by: str = ""
    summary: list = field(default_factory=list)
    history: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)


@dataclass
class Inbox:
    items: list[InboxItem]
    total: int
    vault_transfers: list = field(default_factory=list)


def inbox_queryset(profile: StaffProfile, user):
    """Pending approvals ``user`` may decide (none for a service account)."""
    if profile.kind != StaffProfile.Kind.PERSON:
        return Approval.objects.none()
    return (Approval.objects.filter(branch_id=profile.branch_id, status=Approval.Status.PENDING,
                                    decider_roles__contains=[profile.role])
            .exclude(requested_by=user))


def may_decide(profile: StaffProfile, user, approval: Approval) -> bool:
    return (approval.is_pending and profile.kind == StaffProfile.Kind.PERSON
            and approval.branch_id == profile.branch_id and profile.role in approval.decider_roles
            and approval.requested_by_id != user.pk)


def kind_label(code: str) -> str:
    try:
        return str(approval_kind_get(code).label)
    except LookupError:
        return code


def _when(value) -> str:
    """What ``{{ value|date:"SHORT_DATETIME_FORMAT" }}`` renders (before escaping)."""
    return date_filter(template_localtime(value), "SHORT_DATETIME_FORMAT")


def card_labels() -> dict[str, str]:
    """The constant labels of a card (the same msgids the templates used), translated once."""
    return {"reason_given": gettext("Reason given"), "customer": gettext("Customer"), "history": gettext("History"),
            "open_item": gettext("Open the item"), "reason": gettext("Reason"),
            "reason_needed": gettext("Reason (needed to reject)"), "approve": gettext("Approve"),
            "reject": gettext("Reject"), "details": gettext("Details")}


def inbox_cards(approvals: list[Approval], labels: dict[str, str] | None = None) -> list[InboxItem]:
    """The cards of ``approvals`` (``requested_by`` selected), each with its context and
    display fields. Runs in the request's language and time zone."""
    contexts = approval_context(approvals)
    labels = card_labels() if labels is None else labels
    asked_by = gettext("asked by %(name)s")
    items = []
    for a in approvals:
        context = contexts[a.pk]
        user = a.requested_by
        name = user.get_full_name() or user.username
        summary = a.summary.items() if isinstance(a.summary, dict) else ()
        items.append(InboxItem(
            a, kind_label(a.kind), context, requested_at=_when(a.requested_at),
            # as {% blocktranslate %} does: the name escaped, the translation not
            asked_by=mark_safe(asked_by % {"name": conditional_escape(name)}),  # noqa: S308
            summary=[(k, v) for k, v in summary if k != "amount_minor"],
            history=[(_when(h.get("at")), h.get("text", "")) for h in context["history"]],
            labels=labels))
    return items


def approval_inbox(*, actor, limit: int = INBOX_LIMIT, with_vault: bool = True) -> Inbox:
    """The actor's inbox: pending approvals they may decide, oldest first, each with its
    context; and, for a vault custodian, the vault transfers waiting for confirmation."""
    profile = staff_profile(actor)
    qs = inbox_queryset(profile, actor)
    approvals = list(qs.select_related("requested_by").order_by("requested_at", "id")[:limit])
    total = qs.count()  # always one query, so the page's query count does not depend on the data
    items = inbox_cards(approvals)
    vault = []
    if with_vault and profile.has(Perm.CONFIRM_VAULT) and profile.kind == StaffProfile.Kind.PERSON:
        from teller.selectors import pending_vault_transfers

        vault = [t for t in pending_vault_transfers(profile.branch) if t.requested_by_id != actor.pk]
    return Inbox(items=items, total=total,
                 vault_transfers=vault)


def approval_item(*, actor, approval: Approval) -> InboxItem:
    """One approval with its context (for its own page and after a decision)."""
    return inbox_cards([approval])[0]
