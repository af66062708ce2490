"""Four eyes: one approval mechanism for every "needs a supervisor / coordinator" case.

An app registers each of its approval kinds once (in its ``AppConfig.ready``) with
:func:`approval_kind_register`, saying which permission decides it and what happens on
approval or rejection. Its own services call :func:`approval_request` inside their
transaction; deciding goes through :func:`approval_decide`. This module never imports an
app. PostgreSQL itself refuses self-approval, a decision by a role or branch that may not
decide, and a second decision (migration 0002).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops import idempotency
from branch_ops.access import access_approval, staff_profile
from branch_ops.audit import audit_event_write
from branch_ops.errors import Conflict, Forbidden
from branch_ops.models import Approval, Branch
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm, roles_with


@dataclass(frozen=True)
class ApprovalKind:
    code: str
    label: str  # lazily translated
    decide_perm: Perm
    on_approved: Callable[[Approval, object], None] | None = None
    on_rejected: Callable[[Approval, object], None] | None = None
    #: what a decider needs to see beside the summary, read for a whole batch of pending
    #: approvals of this kind at once (a constant number of queries however many there
    #: are): ``describe(approvals) -> {approval.pk: Context}``. Optional; read-only.
    describe: Callable[[list[Approval]], dict[int, dict]] | None = None

    @property
    def decider_roles(self) -> list[str]:
        return roles_with(self.decide_perm)


_KINDS: dict[str, ApprovalKind] = {}


def approval_kind_register(kind: ApprovalKind) -> ApprovalKind:
    existing = _KINDS.get(kind.code)
    if existing is not None and existing != kind:
        raise RuntimeError(f"approval kind {kind.code!r} registered twice")
    _KINDS[kind.code] = kind
    return kind


def approval_kind_get(code: str) -> ApprovalKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"approval kind {code!r} is not registered") from None


def approval_kinds() -> list[ApprovalKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def approval_context(approvals: list[Approval]) -> dict[int, dict]:
    """What each approval's kind says a decider needs to see (its ``describe`` hook), in a
    constant number of queries per kind. Each context is a dict with optional keys
    ``customer`` ({"number", "name"}), ``facts`` ([{"label", "value"}]: amounts, balances,
    limits, already formatted), ``history`` ([{"at", "text"}], oldest first) and ``link``
    (the subject's own page). A kind without a hook (or one whose hook fails to describe
    an approval) gets an empty context: the summary stored at request time still shows."""
    by_kind: dict[str, list[Approval]] = {}
    for approval in approvals:
        by_kind.setdefault(approval.kind, []).append(approval)
    contexts: dict[int, dict] = {}
    for code, batch in by_kind.items():
        spec = _KINDS.get(code)
        if spec is not None and spec.describe is not None:
            contexts.update(spec.describe(batch))
    return {a.pk: {"customer": None, "facts": [], "history": [], "link": "", **contexts.get(a.pk, {})}
            for a in approvals}


def _snapshot(approval: Approval) -> dict:
    return {
        "status": approval.status,
        "decided_by": approval.decided_by.get_username() if approval.decided_by_id else None,
        "decision_reason": approval.decision_reason,
    }


def approval_request(
    *, kind: str, branch: Branch, subject, summary: dict, actor, reason: str = ""
) -> Approval:
    """Ask for a decision on ``subject``. Runs inside the calling service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("approval_request must run inside the calling service's transaction")
    spec = approval_kind_get(kind)
    approval = Approval.objects.create(
        kind=kind,
        branch=branch,
        subject_type=f"{subject._meta.app_label}.{subject._meta.model_name}",
        subject_id=str(getattr(subject, "public_id", None) or subject.pk),
        summary=summary,
        decider_roles=spec.decider_roles,
        requested_by=actor,
        request_reason=reason,
    )
    audit_event_write(actor=actor, action="approval.requested", obj=approval, branch=branch,
                      after={"kind": kind, "subject": approval.subject_id, "reason": reason})
    event_publish(event_type="approval.requested", aggregate=approval, branch=branch,
                  payload={"kind": kind, "subject_type": approval.subject_type, "subject_id": approval.subject_id})
    return approval


def approval_decide(*, approval_id, actor, approve: bool, reason: str, idempotency_claim=None) -> Approval:
    """Approve or reject a pending approval of the actor's branch. Exactly one of two
    concurrent deciders wins; the other gets ``APPROVAL_ALREADY_DECIDED``."""
    reason = (reason or "").strip()
    if not approve and not reason:
        from branch_ops.errors import ApplicationError

        raise ApplicationError(_("Give a reason for the rejection."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        approval = access_approval(user=actor, public_id=approval_id, for_update=True)
        profile = staff_profile(actor)
        if not approval.is_pending:
            raise Conflict(_("This approval has already been decided."), code="APPROVAL_ALREADY_DECIDED")
        if approval.requested_by_id == actor.pk:
            raise Forbidden(_("You cannot decide your own request."), code="SELF_APPROVAL")
        if profile.kind != profile.Kind.PERSON or profile.role not in approval.decider_roles:
            raise Forbidden(_("Your role may not decide this kind of approval."), code="ROLE_NOT_ALLOWED")
        before = _snapshot(approval)
        approval.status = Approval.Status.APPROVED if approve else Approval.Status.REJECTED
        approval.decided_by = actor
        approval.decided_at = timezone.now()
        approval.decision_reason = reason
        approval.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        spec = approval_kind_get(approval.kind)
        handler = spec.on_approved if approve else spec.on_rejected
        if handler is not None:
            handler(approval, actor)
        audit_event_write(actor=actor, action=f"approval.{approval.status}", obj=approval,
                          before=before, after=_snapshot(approval))
        event_publish(event_type=f"approval.{approval.status}", aggregate=approval, branch=approval.branch,
                      payload={"kind": approval.kind, "subject_type": approval.subject_type,
                               "subject_id": approval.subject_id})
        idempotency.finish(idempotency_claim, approval)
    return approval


def approval_cancel(*, approval_id, actor, reason: str = "") -> Approval:
    """The requester withdraws a pending approval."""
    with transaction.atomic(durable=True):
        approval = access_approval(user=actor, public_id=approval_id, for_update=True)
        if approval.requested_by_id != actor.pk:
            raise Forbidden(_("Only the person who asked can withdraw this request."), code="NOT_REQUESTER")
        if not approval.is_pending:
            raise Conflict(_("This approval has already been decided."), code="APPROVAL_ALREADY_DECIDED")
        before = _snapshot(approval)
        approval.status = Approval.Status.CANCELLED
        approval.decided_at = timezone.now()
        approval.decision_reason = reason
        approval.save(update_fields=["status", "decided_at", "decision_reason"])
        spec = approval_kind_get(approval.kind)
        if spec.on_rejected is not None:
            spec.on_rejected(approval, actor)
        audit_event_write(actor=actor, action="approval.cancelled", obj=approval, before=before,
                          after=_snapshot(approval))
        event_publish(event_type="approval.cancelled", aggregate=approval, branch=approval.branch,
                      payload={"kind": approval.kind, "subject_id": approval.subject_id})
    return approval


def approval_cancel_in_transaction(*, subject, actor, reason: str = "") -> Approval | None:
    """Withdraw the pending approval of ``subject`` inside the caller's transaction (its
    request was cancelled); the kind's handlers are not called: the caller owns the subject."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("approval_cancel_in_transaction runs inside the calling service's transaction")
    approval = (Approval.objects.select_for_update(no_key=True, of=("self",))
                .filter(subject_type=f"{subject._meta.app_label}.{subject._meta.model_name}",
                        subject_id=str(getattr(subject, "public_id", None) or subject.pk), status="pending").first())
    if approval is None:
        return None
    before = _snapshot(approval)
    approval.status = Approval.Status.CANCELLED
    approval.decided_at = timezone.now()
    approval.decision_reason = reason
    approval.save(update_fields=["status", "decided_at", "decision_reason"])
    audit_event_write(actor=actor, action="approval.cancelled", obj=approval, before=before, after=_snapshot(approval))
    return approval
