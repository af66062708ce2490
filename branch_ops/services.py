"""Platform services: staff, service accounts and their API tokens.
One function per business operation; each writes its audit event in its transaction."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.api_auth import TOKEN_PREFIX, hash_token
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, Conflict, NotFound
from branch_ops.models import ApiToken, Branch, StaffProfile
from branch_ops.roles import Perm, Role

User = get_user_model()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,60}$")
_RATE = re.compile(r"^[1-9][0-9]{0,6}/(s|sec|m|min|h|hour|d|day)$")


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ApplicationError(_("Unknown role “%(role)s”.") % {"role": role}, code="UNKNOWN_ROLE", field="role") from None


def _check_username(username: str) -> str:
    if not _USERNAME.match(username or ""):
        raise ApplicationError(
            _("A user name is 3 to 61 lower-case letters, digits, dots, dashes or underscores."),
            code="INVALID_USERNAME",
            field="username",
        )
    if User.objects.filter(username=username).exists():
        raise Conflict(_("The user name “%(u)s” is taken.") % {"u": username}, code="USERNAME_TAKEN", field="username")
    return username


def _attach(user, *, branch: Branch, role: Role, kind: str) -> StaffProfile:
    profile = StaffProfile.objects.create(user=user, branch=branch, role=role.value, kind=kind)
    group, _created = Group.objects.get_or_create(name=f"role:{role.value}")
    user.groups.set([group])
    return profile


def staff_create(
    *, actor, branch: Branch, username: str, role: str, password: str, first_name: str = "", last_name: str = ""
) -> StaffProfile:
    """Create a person with one role at one branch (the admin and the demo seed use it)."""
    role_enum = _check_role(role)
    with transaction.atomic(durable=True):
        _check_username(username)
        user = User.objects.create_user(username=username, password=password, first_name=first_name,
                                        last_name=last_name)
        profile = _attach(user, branch=branch, role=role_enum, kind=StaffProfile.Kind.PERSON)
        audit_event_write(actor=actor, action="staff.created", obj=user, object_type="auth.user",
                          object_id=username, branch=branch, after={"role": role, "branch": branch.code})
    return profile


def service_account_create(*, actor, username: str, role: str, description: str = "",
                           idempotency_claim=None) -> StaffProfile:
    """A supervisor creates an integration service account at their branch. It has no
    password: it signs in only with API tokens."""
    role_enum = _check_role(role)
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.MANAGE_SERVICE_ACCOUNTS)
        _check_username(username)
        user = User(username=username, first_name=description[:150])
        user.set_unusable_password()
        user.save()
        created = _attach(user, branch=profile.branch, role=role_enum, kind=StaffProfile.Kind.SERVICE)
        audit_event_write(actor=actor, action="service_account.created", object_type="auth.user",
                          object_id=username, after={"role": role, "description": description})
        idempotency.finish(idempotency_claim, created)
    return created


def _check_rate(rate: str) -> str:
    if rate and not _RATE.match(rate):
        raise ApplicationError(_("A rate limit reads like “120/min”: a number, then s, min, h or day."),
                               code="INVALID_RATE_LIMIT", field="rate_limit")
    return rate


def _new_secret() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def api_token_issue(*, actor, username: str, name: str, expires_at=None, rate_limit: str = "",
                    idempotency_claim=None) -> tuple[ApiToken, str]:
    """Issue a token for a service account of the actor's branch (or for the actor
    themself). Returns the token and its secret, which is never shown again."""
    _check_rate(rate_limit)
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.MANAGE_SERVICE_ACCOUNTS) if username != actor.get_username() else None
        owner_qs = StaffProfile.objects.select_related("user").filter(user__username=username)
        if profile is not None:
            owner_qs = owner_qs.filter(branch_id=profile.branch_id, kind=StaffProfile.Kind.SERVICE)
        owner = owner_qs.first()
        if owner is None:
            raise NotFound(_("No such service account."), code="SERVICE_ACCOUNT_NOT_FOUND")
        prefix, raw = _new_secret()
        token = ApiToken.objects.create(user=owner.user, name=name[:80] or "token", prefix=prefix,
                                        key_hash=hash_token(raw), created_by=actor, expires_at=expires_at,
                                        rate_limit=rate_limit)
        audit_event_write(actor=actor, action="api_token.issued", obj=token, branch=owner.branch,
                          after={"owner": username, "name": token.name, "prefix": prefix, "rate_limit": rate_limit})
        idempotency.finish(idempotency_claim, (token, raw))
    return token, raw


def _lock_token(actor, token_id) -> ApiToken:
    """A token of a service account (or person) of the actor's branch, row-locked; a
    superuser with no staff profile (the admin) reaches every branch."""
    qs = ApiToken.objects.select_for_update(no_key=True, of=("self",)).select_related("user__staff__branch")
    if not (actor.is_superuser and getattr(actor, "staff", None) is None):
        profile = require_perm(actor, Perm.MANAGE_SERVICE_ACCOUNTS)
        qs = qs.filter(user__staff__branch_id=profile.branch_id)
    token = qs.filter(public_id=token_id).first()
    if token is None:
        raise NotFound(_("No such API token."), code="TOKEN_NOT_FOUND")
    return token


def api_token_rotate(*, actor, token_id, idempotency_claim=None) -> tuple[ApiToken, str]:
    """Replace a live token by a new one (same owner, name, expiry and rate limit): the old
    secret stops working when this commits. Returns the new token and its secret."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        old = _lock_token(actor, token_id)
        now = timezone.now()
        if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
            raise Conflict(_("This token is revoked or expired; issue a new one."), code="TOKEN_NOT_ACTIVE")
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        prefix, raw = _new_secret()
        token = ApiToken.objects.create(user=old.user, name=old.name, prefix=prefix, key_hash=hash_token(raw),
                                        created_by=actor, expires_at=old.expires_at, rate_limit=old.rate_limit,
                                        replaces=old)
        audit_event_write(actor=actor, action="api_token.rotated", obj=token, branch=old.user.staff.branch,
                          before={"token": str(old.public_id), "prefix": old.prefix},
                          after={"token": str(token.public_id), "prefix": prefix})
        idempotency.finish(idempotency_claim, (token, raw))
    return token, raw


def api_token_revoke(*, actor, token_id) -> ApiToken:
    with transaction.atomic(durable=True):
        token = _lock_token(actor, token_id)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_event_write(actor=actor, action="api_token.revoked", obj=token, branch=token.user.staff.branch,
                              before={"revoked_at": None}, after={"revoked_at": token.revoked_at})
    return token
