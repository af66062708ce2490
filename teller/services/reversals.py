"""Reversal of a same-day cash operation: the teller asks, a supervisor approves, and only
then the ledger transaction is undone by its reversing transaction (at most once) and the
notes go back."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.ledger import ledger_reverse
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, Conflict, NotFound
from branch_ops.models import Approval
from branch_ops.money import Money
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm
from teller import selectors
from teller.models import CashOperation, DrawerSession
from teller.services.cash import _adjust_holdings, _business_date

REVERSAL = "teller.reversal"
REVERSIBLE = {CashOperation.Kind.DEPOSIT, CashOperation.Kind.WITHDRAWAL, CashOperation.Kind.EXCHANGE}


def operation_reversal_request(*, actor, reference: str, reason: str, idempotency_claim=None) -> Approval:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.POST_CASH)
        operation = (CashOperation.objects.select_for_update(no_key=True, of=("self",))
                     .select_related("session__drawer__branch", "customer")
                     .filter(reference=reference, session__drawer__branch=profile.branch).first())
        if operation is None:
            raise NotFound(_("No such operation."), code="OPERATION_NOT_FOUND", field="reference")
        if operation.kind not in REVERSIBLE or operation.status != CashOperation.Status.POSTED:
            raise Conflict(_("Only a posted deposit, withdrawal or exchange can be reversed."),
                           code="NOT_REVERSIBLE")
        if operation.session.business_date != _business_date(profile.branch):
            raise Conflict(_("Only today's operations can be reversed at the window."), code="REVERSAL_NOT_SAME_DAY")
        try:
            with transaction.atomic():
                approval = approval_request(
                    kind=REVERSAL, branch=profile.branch, subject=operation, actor=actor, reason=reason,
                    summary={"reference": operation.reference, "operation": operation.get_kind_display(),
                             "amount": Money(operation.amount, operation.currency_id).format(),
                             "account": operation.account.number if operation.account_id else ""})
        except IntegrityError:
            raise Conflict(_("A reversal of this operation is already waiting."), code="REQUEST_ALREADY_PENDING") \
                from None
        audit_event_write(actor=actor, action="cash.reversal_requested", obj=operation,
                          after={"reference": reference, "reason": reason})
        idempotency.finish(idempotency_claim, approval)
    return approval


def _on_reversal_approved(approval: Approval, actor) -> None:
    operation = (CashOperation.objects.select_for_update(no_key=True, of=("self",))
                 .select_related("ledger_transaction", "session__drawer__branch").get(public_id=approval.subject_id))
    session = DrawerSession.objects.select_for_update(no_key=True, of=("self",)).get(pk=operation.session_id)
    if operation.status != CashOperation.Status.POSTED:
        raise Conflict(_("This operation is no longer posted."), code="NOT_REVERSIBLE")
    if session.status != DrawerSession.Status.OPEN:
        raise Conflict(_("The drawer of this operation is closed: it cannot give or take the cash back."),
                       code="DRAWER_NOT_OPEN")
    notes = {int(k): v for k, v in operation.denominations.items()}
    if operation.kind == CashOperation.Kind.DEPOSIT:
        _adjust_holdings(session, operation.currency_id, notes, -1)  # the cash goes back to the customer
    elif operation.kind == CashOperation.Kind.WITHDRAWAL:
        _adjust_holdings(session, operation.currency_id, notes, +1)
    else:
        d = operation.details
        _adjust_holdings(session, operation.currency_id, notes, +1)
        if d.get("denominations_in"):
            _adjust_holdings(session, d["from_currency"], {int(k): v for k, v in d["denominations_in"].items()}, -1)
    tx = ledger_reverse(original=operation.ledger_transaction, actor=actor, reason=approval.request_reason)
    operation.status = CashOperation.Status.REVERSED
    operation.save(update_fields=["status"])
    audit_event_write(actor=actor, action="cash.reversed", obj=operation, before={"status": "posted"},
                      after={"status": "reversed", "reversal": str(tx.public_id)})
    event_publish(event_type="cash.reversed", aggregate=operation, branch=session.drawer.branch,
                  payload={"reference": operation.reference, "reversal": str(tx.public_id)})


def register_approval_kinds() -> None:
    approval_kind_register(ApprovalKind(code=REVERSAL, label=gettext_lazy("Reversal of a cash operation"),
                                        decide_perm=Perm.DECIDE_FOUR_EYES, on_approved=_on_reversal_approved,
                                        describe=selectors.approval_describe_operations))
