"""``access_*`` selectors: fetch an object *and* authorize the user for it in one step.

A view never fetches a branch-owned object any other way. An object of another branch is
reported exactly like one that does not exist (404), so ids cannot be probed across
branches.
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from branch_ops.errors import Forbidden, NotFound
from branch_ops.models import Approval, Branch, StaffProfile
from branch_ops.roles import Perm


def staff_profile(user) -> StaffProfile:
    """The acting user's staff profile; refuses users who are not branch staff."""
    profile = getattr(user, "staff", None) if user is not None and user.is_authenticated else None
    if profile is None or not user.is_active:
        raise Forbidden(_("Only branch staff can do this."), code="NOT_STAFF")
    return profile


def require_perm(user, perm: Perm) -> StaffProfile:
    profile = staff_profile(user)
    if not profile.has(perm):
        raise Forbidden(_("Your role does not allow this."), code="ROLE_NOT_ALLOWED")
    return profile


def _parse_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def access_branch(*, user, code: str) -> Branch:
    profile = staff_profile(user)
    if profile.branch.code != code:
        raise NotFound(_("No such branch."), code="BRANCH_NOT_FOUND")
    return profile.branch


def access_approval(*, user, public_id, for_update: bool = False) -> Approval:
    """An approval of the user's own branch (row-locked when ``for_update``)."""
    profile = staff_profile(user)
    pid = _parse_uuid(public_id)
    qs = Approval.objects.filter(public_id=pid, branch_id=profile.branch_id) if pid else Approval.objects.none()
    if for_update:
        qs = qs.select_for_update(no_key=True, of=("self",))
    approval = qs.select_related("requested_by", "decided_by", "branch").first()
    may_decide = profile.has(Perm.DECIDE_ROUTINE) or profile.has(Perm.DECIDE_FOUR_EYES)
    if approval is not None and not may_decide and approval.requested_by_id != user.pk:
        approval = None  # others' requests are not yours to see
    if approval is None:
        raise NotFound(_("No such approval."), code="APPROVAL_NOT_FOUND")
    return approval


def access_staff_member(*, user, username: str) -> StaffProfile:
    profile = require_perm(user, Perm.VIEW_STAFF)
    found = (
        StaffProfile.objects.select_related("user", "branch")
        .filter(user__username=username, branch_id=profile.branch_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such staff member."), code="STAFF_NOT_FOUND")
    return found
