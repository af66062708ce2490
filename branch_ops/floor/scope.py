"""Which branch a floor read is about: the reader's own, or — for a head-office reader
named in the settings allow-list ``FLOOR_HEAD_OFFICE_USERNAMES`` — any branch by code.

There is no head-office role in ``branch_ops.roles`` yet (one role at one branch, and the
token model has no scope field); until there is, a head-office client is a service
account or person at some branch whose role holds the permission the read needs and whose
username is on the allow-list. Everyone else asking for another branch gets the same 404
as a branch that does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from branch_ops.access import require_perm
from branch_ops.errors import NotFound
from branch_ops.models import Branch
from branch_ops.roles import Perm


def is_head_office(user) -> bool:
    return user.get_username() in set(getattr(settings, "FLOOR_HEAD_OFFICE_USERNAMES", ()))


def floor_branch(*, user, perm: Perm, code: str | None = None) -> Branch:
    """The branch a read of the floor is for, after checking ``perm``."""
    profile = require_perm(user, perm)
    if not code or code == profile.branch.code:
        return profile.branch
    if is_head_office(user):
        found = Branch.objects.filter(code=code).first()
        if found is not None:
            return found
    raise NotFound(_("No such branch."), code="BRANCH_NOT_FOUND")
