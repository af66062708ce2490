"""The approval inbox: everything waiting for this person's decision, oldest first, with
what each kind says a decider needs to see (``ApprovalKind.describe``).

Who sees an item is exactly who may decide it: a person (not a service account) at the
approval's branch whose role is among the approval's ``decider_roles`` and who did not ask
for it — the same rule ``approval_decide`` and the database trigger apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from branch_ops.access import staff_profile
from branch_ops.approvals import approval_context, approval_kind_get
from branch_ops.models import Approval, StaffProfile
from branch_ops.roles import Perm

#: how many items one page of the inbox shows (the count says how many there are)
INBOX_LIMIT = 25


@dataclass
class InboxItem:
    approval: Approval
    kind_label: str
    context: dict


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


def approval_inbox(*, actor, limit: int = INBOX_LIMIT, with_vault: bool = True) -> Inbox:
    """The actor's inbox: pending approvals they may decide, oldest first, each with its
    context; and, for a vault custodian, the vault transfers waiting for confirmation."""
    profile = staff_profile(actor)
    qs = inbox_queryset(profile, actor)
    approvals = list(qs.select_related("requested_by").order_by("requested_at", "id")[:limit])
    total = qs.count()  # always one query, so the page's query count does not depend on the data
    contexts = approval_context(approvals)
    vault = []
    if with_vault and profile.has(Perm.CONFIRM_VAULT) and profile.kind == StaffProfile.Kind.PERSON:
        from teller.selectors import pending_vault_transfers

        vault = [t for t in pending_vault_transfers(profile.branch) if t.requested_by_id != actor.pk]
    return Inbox(items=[InboxItem(a, kind_label(a.kind), contexts[a.pk]) for a in approvals], total=total,
                 vault_transfers=vault)


def approval_item(*, actor, approval: Approval) -> InboxItem:
    """One approval with its context (for its own page and after a decision)."""
    return InboxItem(approval, kind_label(approval.kind), approval_context([approval])[approval.pk])
