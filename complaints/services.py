"""Complaint services: log, acknowledge, hand over, investigate, escalate, extend, decide,
redress through the ledger (over a threshold only with a supervisor's approval), close,
follow up, reopen; and the clock sweep that records breaches the moment they happen.

Only the owner of a complaint (its first receiver until it is handed over) or a supervisor
acts on it. Times are now, always: nothing is backdated.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
from accounts.models import BankAccount, Customer, LedgerTransaction
from accounts.services import internal_account
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_write
from branch_ops.business_days import Calendar, branch_calendar
from branch_ops.errors import ApplicationError, Conflict, Forbidden, NotFound
from branch_ops.models import Currency
from branch_ops.money import Money
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm
from complaints.models import Category, Complaint, ComplaintEntry, Deadline, Regime
from complaints.selectors import approval_describe_complaints

REDRESS = "complaints.redress"
#: redress above this (branch-currency minor units) waits for a supervisor
REDRESS_APPROVAL_THRESHOLD = {"AED": 100_000, "EUR": 25_000}
DEFAULT_REDRESS_THRESHOLD = 25_000
#: how long after closing the customer may reopen a complaint
REOPEN_WINDOW = dt.timedelta(weeks=8)


class ComplaintError(ApplicationError):
    status_code = 400


# --- clocks -------------------------------------------------------------------------------------------

def deadlines_for(regime: Regime, calendar: Calendar, received_at: dt.datetime, *, extended: bool = False) -> dict:
    """The due moments of each clock for a complaint received at ``received_at``."""
    day = calendar.local_date(received_at)
    due = {
        Deadline.Kind.ACK: calendar.close_of(calendar.add_business_days(day, regime.ack_business_days)),
        Deadline.Kind.SUMMARY: calendar.close_of(calendar.add_business_days(day, regime.summary_business_days)),
    }
    if extended and regime.extended_final_business_days:
        due[Deadline.Kind.FINAL] = calendar.close_of(calendar.add_business_days(day,
                                                                                regime.extended_final_business_days))
    elif regime.final_business_days:
        due[Deadline.Kind.FINAL] = calendar.close_of(calendar.add_business_days(day, regime.final_business_days))
    else:
        due[Deadline.Kind.FINAL] = calendar.close_of(day + dt.timedelta(weeks=regime.final_weeks))
    return due


def clock_colour(deadline: Deadline, regime: Regime, now: dt.datetime | None = None) -> str:
    """green, amber (past the regime's amber share of the time), red (past due), or done."""
    now = now or timezone.now()
    if deadline.met_at:
        return "done"
    if deadline.breached_at or now >= deadline.due_at:
        return "red"
    total = (deadline.due_at - deadline.started_at).total_seconds() or 1
    used = (now - deadline.started_at).total_seconds() / total
    return "amber" if used >= float(regime.amber_fraction) else "green"


def _meet(complaint: Complaint, kind: str, now: dt.datetime) -> None:
    Deadline.objects.filter(complaint=complaint, kind=kind, met_at__isnull=True).update(met_at=now)


def deadlines_sweep(*, now: dt.datetime | None = None) -> dict:
    """Record every breach at the moment it happened (``breached_at = due_at``) and escalate
    complaints whose final clock has used the regime's escalation share. Run by the clock
    worker (``manage.py complaint_clock``); safe to run concurrently (row locks, SKIP LOCKED)."""
    now = now or timezone.now()
    breached = escalated = 0
    with transaction.atomic(durable=True):
        due = list(Deadline.objects.select_for_update(of=("self",), skip_locked=True)
                   .select_related("complaint__branch").filter(due_at__lte=now, met_at__isnull=True,
                                                              breached_at__isnull=True).order_by("due_at")[:500])
        for deadline in due:
            deadline.breached_at = deadline.due_at
            deadline.save(update_fields=["breached_at"])
            complaint = deadline.complaint
            ComplaintEntry.objects.create(complaint=complaint, kind="breach", data={"deadline": deadline.kind},
                                          text=_("%(clock)s deadline passed unmet.") % {
                                              "clock": deadline.get_kind_display()})
            audit_event_write(actor=None, action="complaint.deadline_breached", obj=complaint,
                              branch=complaint.branch, customer_ref=complaint.customer.number
                              if complaint.customer_id else "",
                              after={"deadline": deadline.kind, "due_at": deadline.due_at})
            event_publish(event_type="complaint.deadline_breached", aggregate=complaint, branch=complaint.branch,
                          payload={"number": complaint.number, "deadline": deadline.kind,
                                   "due_at": deadline.due_at.isoformat()})
            breached += 1
        running = (Deadline.objects.select_for_update(of=("self",), skip_locked=True)
                   .select_related("complaint__regime", "complaint__branch")
                   .filter(kind=Deadline.Kind.FINAL, met_at__isnull=True, breached_at__isnull=True,
                           complaint__escalated=False).exclude(complaint__status=Complaint.Status.CLOSED))
        for deadline in running:
            total = (deadline.due_at - deadline.started_at).total_seconds() or 1
            if (now - deadline.started_at).total_seconds() / total >= float(deadline.complaint.regime.escalate_fraction):
                _escalate(deadline.complaint, None, _("The final deadline is near."), now)
                escalated += 1
    return {"breached": breached, "escalated": escalated}


# --- helpers ------------------------------------------------------------------------------------------

def _serial() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('complaints_serial')")
        return f"CMP{cur.fetchone()[0]:07d}"


def _lock(actor, number: str, *, act: bool = True) -> Complaint:
    """A complaint of the actor's branch, row-locked; acting needs its owner or a supervisor."""
    profile = staff_profile(actor)
    complaint = (Complaint.objects.select_for_update(no_key=True, of=("self",))
                 .select_related("branch", "customer", "regime", "account", "owner")
                 .filter(number=number, branch=profile.branch).first())
    if complaint is None:
        raise NotFound(_("No such complaint."), code="COMPLAINT_NOT_FOUND")
    if act and complaint.owner_id != actor.pk and not profile.has(Perm.SUPERVISE_COMPLAINTS):
        raise Forbidden(_("Only the complaint's owner or a supervisor can do this."), code="NOT_COMPLAINT_OWNER")
    return complaint


def _entry(complaint, kind, actor, text="", **data) -> None:
    ComplaintEntry.objects.create(complaint=complaint, kind=kind, actor=actor, text=text, data=data)


def _audit(actor, action, complaint, before=None, after=None) -> None:
    audit_event_write(actor=actor, action=action, obj=complaint, branch=complaint.branch,
                      customer_ref=complaint.customer.number if complaint.customer_id else "",
                      before=before or {}, after=after or {})


def _require_open(complaint: Complaint) -> None:
    if complaint.status == Complaint.Status.CLOSED:
        raise Conflict(_("This complaint is closed."), code="COMPLAINT_CLOSED")


# --- services -----------------------------------------------------------------------------------------

def complaint_log(*, actor, channel: str, category: str, description: str, customer_number: str = "",
                  complainant_name: str = "", complainant_contact: str = "", account_number: str = "",
                  transaction_ref: str = "", amount_disputed: Money | None = None, attachments: list | None = None,
                  received_at: dt.datetime | None = None, idempotency_claim=None) -> Complaint:
    """Log a complaint; its first receiver owns it until it is handed over."""
    description = (description or "").strip()
    if not description:
        raise ComplaintError(_("Describe the complaint."), code="DESCRIPTION_REQUIRED", field="description")
    if channel not in Complaint.Channel.values:
        raise ComplaintError(_("Unknown channel."), code="INVALID_CHANNEL", field="channel")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.LOG_COMPLAINT)
        branch = profile.branch
        cat = Category.objects.filter(code=category).first() if category else None
        if cat is None:
            raise ComplaintError(_("Choose a category."), code="CATEGORY_REQUIRED", field="category")
        now = timezone.now()
        calendar = branch_calendar(branch)
        received_at = received_at or now
        if received_at > now or calendar.local_date(received_at) < calendar.local_date(now):
            raise ComplaintError(_("A complaint is logged when it is received: no backdating."),
                                 code="BACKDATING_REFUSED", field="received_at")
        customer = None
        if customer_number:
            customer = Customer.objects.filter(number=customer_number).first()
            if customer is None:
                raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND", field="customer_number")
        name = (complainant_name or (customer.full_name if customer else "")).strip()
        if not name:
            raise ComplaintError(_("Give the complainant's name."), code="COMPLAINANT_REQUIRED",
                                 field="complainant_name")
        account = None
        if account_number:
            account = BankAccount.objects.filter(number=account_number).first()
            if account is None or (customer and account.customer_id != customer.pk):
                raise NotFound(_("This customer holds no such account."), code="ACCOUNT_NOT_FOUND",
                               field="account_number")
        tx = LedgerTransaction.objects.filter(public_id=transaction_ref).first() if transaction_ref else None
        if amount_disputed is not None and amount_disputed.amount < 0:
            raise ComplaintError(_("The amount in dispute cannot be negative."), code="INVALID_AMOUNT",
                                 field="amount_disputed")
        regime = Regime.objects.get(code="payment_services" if cat.payment_services else "standard")
        complaint = Complaint.objects.create(
            number=_serial(), branch=branch, customer=customer, complainant_name=name[:200],
            complainant_contact=complainant_contact[:200],
            language=customer.preferred_language if customer else translation.get_language() or "en",
            channel=channel, category=cat, regime=regime, account=account, transaction=tx,
            description=description, amount_disputed=amount_disputed.amount if amount_disputed else 0,
            currency=Currency.objects.get(code=amount_disputed.currency) if amount_disputed else None,
            attachments=attachments or [], received_at=received_at, received_by=actor, owner=actor)
        for kind, due_at in deadlines_for(regime, calendar, received_at).items():
            Deadline.objects.create(complaint=complaint, kind=kind, due_at=due_at, started_at=received_at)
        _entry(complaint, "logged", actor, description)
        _audit(actor, "complaint.logged", complaint, after={"category": category, "channel": channel,
                                                            "amount_disputed": complaint.amount_disputed})
        event_publish(event_type="complaint.logged", aggregate=complaint, branch=branch,
                      payload={"number": complaint.number, "category": category,
                               "customer": customer.number if customer else None})
        idempotency.finish(idempotency_claim, complaint)
    return complaint


def acknowledgement_letter(complaint: Complaint) -> str:
    """The acknowledgement, in the complainant's language."""
    final = complaint.deadlines.get(kind=Deadline.Kind.FINAL).due_at
    with translation.override(complaint.language):
        return _(
            "Dear %(name)s,\n\nWe have received your complaint %(number)s of %(date)s and are looking into it. "
            "%(owner)s is handling it. You will have our final response by %(final)s at the latest.\n\n"
            "%(branch)s"
        ) % {"name": complaint.complainant_name, "number": complaint.number,
             "date": complaint.received_at.astimezone(branch_calendar(complaint.branch).zone).date().isoformat(),
             "owner": complaint.owner.get_full_name() or complaint.owner.get_username(),
             "final": final.astimezone(branch_calendar(complaint.branch).zone).date().isoformat(),
             "branch": complaint.branch.name}


def complaint_acknowledge(*, actor, number: str) -> Complaint:
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        if complaint.status != Complaint.Status.LOGGED:
            raise Conflict(_("This complaint was already acknowledged."), code="ALREADY_ACKNOWLEDGED")
        now = timezone.now()
        complaint.status = Complaint.Status.ACKNOWLEDGED
        complaint.save(update_fields=["status"])
        _meet(complaint, Deadline.Kind.ACK, now)
        _entry(complaint, "acknowledged", actor, acknowledgement_letter(complaint))
        _audit(actor, "complaint.acknowledged", complaint, before={"status": "logged"},
               after={"status": "acknowledged"})
    return complaint


def complaint_handover(*, actor, number: str, to_username: str, reason: str = "") -> Complaint:
    """Hand a complaint to a colleague of the branch who handles complaints."""
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        _require_open(complaint)
        profile = (get_user_model().objects.select_related("staff").filter(
            username=to_username, staff__branch=complaint.branch).first())
        if profile is None or not profile.staff.has(Perm.HANDLE_COMPLAINT):
            raise NotFound(_("No colleague of this branch who handles complaints has that name."),
                           code="STAFF_NOT_FOUND", field="to")
        before = complaint.owner.get_username()
        complaint.owner = profile
        complaint.save(update_fields=["owner"])
        _entry(complaint, "handed_over", actor, reason, to=to_username, previous=before)
        _audit(actor, "complaint.handed_over", complaint, before={"owner": before}, after={"owner": to_username})
    return complaint


def complaint_note(*, actor, number: str, text: str, transaction_ref: str = "", idempotency_claim=None) -> Complaint:
    text = (text or "").strip()
    if not text:
        raise ComplaintError(_("Write the note."), code="NOTE_REQUIRED", field="text")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        complaint = _lock(actor, number)
        _require_open(complaint)
        if complaint.status in (Complaint.Status.LOGGED, Complaint.Status.ACKNOWLEDGED):
            complaint.status = Complaint.Status.INVESTIGATING
            complaint.save(update_fields=["status"])
        data = {}
        if transaction_ref:
            if not LedgerTransaction.objects.filter(public_id=transaction_ref).exists():
                raise NotFound(_("No such transaction."), code="TRANSACTION_NOT_FOUND", field="transaction_ref")
            data["transaction"] = transaction_ref
        _entry(complaint, "note", actor, text, **data)
        _audit(actor, "complaint.note", complaint, after={"note": text[:200], **data})
        idempotency.finish(idempotency_claim, complaint)
    return complaint


def _escalate(complaint: Complaint, actor, reason: str, now) -> None:
    complaint.escalated = True
    complaint.save(update_fields=["escalated"])
    _entry(complaint, "escalated", actor, reason, automatic=actor is None)
    _audit(actor, "complaint.escalated", complaint, after={"reason": reason, "automatic": actor is None})
    event_publish(event_type="complaint.escalated", aggregate=complaint, branch=complaint.branch,
                  payload={"number": complaint.number, "automatic": actor is None})


def complaint_escalate(*, actor, number: str, reason: str) -> Complaint:
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        _require_open(complaint)
        if complaint.escalated:
            raise Conflict(_("This complaint is already escalated."), code="ALREADY_ESCALATED")
        _escalate(complaint, actor, (reason or "").strip(), timezone.now())
    return complaint


def complaint_extend(*, actor, number: str, reason: str) -> Complaint:
    """A supervisor's recorded decision to use the exceptional final deadline (with a
    holding reply). Pausing a clock is never possible."""
    reason = (reason or "").strip()
    if not reason:
        raise ComplaintError(_("Give the reason for the extension."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        require_perm(actor, Perm.SUPERVISE_COMPLAINTS)
        complaint = _lock(actor, number)
        _require_open(complaint)
        if complaint.extended or not complaint.regime.extended_final_business_days:
            raise Conflict(_("This complaint's deadline cannot be extended."), code="EXTENSION_NOT_ALLOWED")
        final = Deadline.objects.select_for_update(of=("self",)).get(complaint=complaint, kind=Deadline.Kind.FINAL)
        if final.breached_at:
            raise Conflict(_("The final deadline has already passed."), code="EXTENSION_NOT_ALLOWED")
        new_due = deadlines_for(complaint.regime, branch_calendar(complaint.branch), complaint.received_at,
                                extended=True)[Deadline.Kind.FINAL]
        before = final.due_at
        final.due_at = new_due
        final.save(update_fields=["due_at"])
        complaint.extended = True
        complaint.save(update_fields=["extended"])
        _entry(complaint, "extended", actor, reason, due_at=new_due.isoformat())
        _audit(actor, "complaint.extended", complaint, before={"final_due": before}, after={"final_due": new_due})
    return complaint


def complaint_decide(*, actor, number: str, decision: str, reason: str) -> Complaint:
    if decision not in Complaint.Decision.values:
        raise ComplaintError(_("Choose upheld, partly upheld or rejected."), code="INVALID_DECISION", field="decision")
    reason = (reason or "").strip()
    if not reason:
        raise ComplaintError(_("Explain the decision."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        _require_open(complaint)
        now = timezone.now()
        complaint.status, complaint.decision, complaint.decision_reason = Complaint.Status.DECIDED, decision, reason
        complaint.save(update_fields=["status", "decision", "decision_reason"])
        _meet(complaint, Deadline.Kind.SUMMARY, now)
        _entry(complaint, "decided", actor, reason, decision=decision)
        _audit(actor, "complaint.decided", complaint, after={"decision": decision, "reason": reason})
    return complaint


def _redress_threshold(branch) -> int:
    return REDRESS_APPROVAL_THRESHOLD.get(branch.currency_id, DEFAULT_REDRESS_THRESHOLD)


def _post_redress(complaint: Complaint, amount: Money, actor, reason: str) -> LedgerTransaction:
    account = BankAccount.objects.select_related("customer").get(pk=complaint.account_id)
    tx = ledger_post(kind="redress", actor=actor, branch=complaint.branch,
                     description=_("Redress for complaint %(number)s") % {"number": complaint.number},
                     lines=[Line(internal_account(branch=complaint.branch, kind="redress", currency=amount.currency),
                                 DEBIT, amount), Line(account.ledger_id, CREDIT, amount)],
                     metadata={"complaint": complaint.number, "reason": reason})
    Complaint.objects.filter(pk=complaint.pk).update(redress_paid=complaint.redress_paid + amount.amount)
    _entry(complaint, "redress_paid", actor, reason, amount=amount.amount, currency=amount.currency,
           transaction=str(tx.public_id))
    _audit(actor, "complaint.redress_paid", complaint, after={**amount.as_dict(), "transaction": str(tx.public_id)})
    event_publish(event_type="complaint.redress_paid", aggregate=complaint, branch=complaint.branch,
                  payload={"number": complaint.number, **amount.as_dict(), "account": account.number})
    return tx


def complaint_redress(*, actor, number: str, amount: Money, reason: str = "", idempotency_claim=None) -> Complaint:
    """Pay redress into the complainant's account from the redress-expense account; over
    the branch's threshold it waits for a supervisor's approval."""
    reason = (reason or "").strip()
    if amount.amount <= 0:
        raise ComplaintError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        complaint = _lock(actor, number)
        _require_open(complaint)
        if complaint.decision not in (Complaint.Decision.UPHELD, Complaint.Decision.PARTLY):
            raise Conflict(_("Redress follows a decision to uphold the complaint."), code="NOT_UPHELD")
        account = BankAccount.objects.filter(pk=complaint.account_id).first() if complaint.account_id else None
        if account is None or account.customer_id != complaint.customer_id:
            raise ComplaintError(_("Redress is paid into the complainant's own account: link one to the complaint."),
                                 code="NO_REDRESS_ACCOUNT", field="account")
        if account.status in ("closed", "pending"):
            raise Conflict(_("The account is closed: redress cannot be paid into it."), code="ACCOUNT_CLOSED")
        if account.currency_id != amount.currency:
            raise ComplaintError(_("The amount is in %(given)s but the account is in %(expected)s.")
                                 % {"given": amount.currency, "expected": account.currency_id},
                                 code="CURRENCY_MISMATCH", field="amount")
        disputed = complaint.amount_disputed if complaint.currency_id == amount.currency else 0
        if complaint.redress_paid + amount.amount > disputed and not reason:
            raise ComplaintError(_("Redress over the amount in dispute needs a reason."), code="REASON_REQUIRED",
                                 field="reason")
        if amount.amount > _redress_threshold(complaint.branch):
            approval_request(kind=REDRESS, branch=complaint.branch, subject=complaint, actor=actor, reason=reason,
                             summary={"complaint": complaint.number, "complainant": complaint.complainant_name,
                                      "account": account.number, "amount": amount.format(),
                                      "disputed": Money(complaint.amount_disputed,
                                                        complaint.currency_id or amount.currency).format(),
                                      "decision": complaint.get_decision_display(),
                                      "amount_minor": amount.amount, "currency": amount.currency})
            _entry(complaint, "redress_requested", actor, reason, amount=amount.amount, currency=amount.currency)
            _audit(actor, "complaint.redress_requested", complaint, after=amount.as_dict())
        else:
            _post_redress(complaint, amount, actor, reason)
        idempotency.finish(idempotency_claim, complaint)
    return complaint


def _on_redress_approved(approval, actor) -> None:
    complaint = Complaint.objects.select_for_update(no_key=True, of=("self",)).select_related("branch", "customer").get(
        public_id=approval.subject_id)
    if complaint.status == Complaint.Status.CLOSED:
        raise Conflict(_("This complaint is closed."), code="COMPLAINT_CLOSED")
    amount = Money(approval.summary["amount_minor"], approval.summary["currency"])
    _post_redress(complaint, amount, actor, approval.request_reason)


def complaint_close(*, actor, number: str, final_response: str) -> Complaint:
    final_response = (final_response or "").strip()
    if not final_response:
        raise ComplaintError(_("Write the final response."), code="FINAL_RESPONSE_REQUIRED", field="final_response")
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        _require_open(complaint)
        if not complaint.decision:
            raise Conflict(_("Decide the complaint before closing it."), code="NO_DECISION")
        now = timezone.now()
        complaint.status, complaint.final_response, complaint.closed_at = Complaint.Status.CLOSED, final_response, now
        complaint.save(update_fields=["status", "final_response", "closed_at"])
        Deadline.objects.filter(complaint=complaint, met_at__isnull=True).update(met_at=now)
        _entry(complaint, "closed", actor, final_response)
        _audit(actor, "complaint.closed", complaint, after={"decision": complaint.decision})
        event_publish(event_type="complaint.closed", aggregate=complaint, branch=complaint.branch,
                      payload={"number": complaint.number, "decision": complaint.decision,
                               "redress_paid": complaint.redress_paid})
    return complaint


def complaint_follow_up(*, actor, number: str, satisfaction: int, comment: str = "") -> Complaint:
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ComplaintError(_("Satisfaction is from 1 to 5."), code="INVALID_SATISFACTION", field="satisfaction")
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        if complaint.status != Complaint.Status.CLOSED:
            raise Conflict(_("The follow-up comes after the complaint is closed."), code="NOT_CLOSED")
        complaint.satisfaction, complaint.follow_up_comment = satisfaction, comment.strip()
        complaint.save(update_fields=["satisfaction", "follow_up_comment"])
        _entry(complaint, "follow_up", actor, comment, satisfaction=satisfaction)
        _audit(actor, "complaint.follow_up", complaint, after={"satisfaction": satisfaction})
    return complaint


def complaint_reopen(*, actor, number: str, reason: str) -> Complaint:
    reason = (reason or "").strip()
    if not reason:
        raise ComplaintError(_("Say why the customer disagrees."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        complaint = _lock(actor, number)
        if complaint.status != Complaint.Status.CLOSED:
            raise Conflict(_("Only a closed complaint can be reopened."), code="NOT_CLOSED")
        if timezone.now() - complaint.closed_at > REOPEN_WINDOW:
            raise Conflict(_("The time to reopen this complaint has passed."), code="REOPEN_WINDOW_PASSED")
        complaint.status, complaint.closed_at, complaint.decision = Complaint.Status.INVESTIGATING, None, ""
        complaint.satisfaction = None
        complaint.reopened_count += 1
        complaint.save(update_fields=["status", "closed_at", "decision", "satisfaction", "reopened_count"])
        _entry(complaint, "reopened", actor, reason)
        _audit(actor, "complaint.reopened", complaint, after={"reason": reason})
    return complaint


def register_approval_kinds() -> None:
    approval_kind_register(ApprovalKind(code=REDRESS, label=gettext_lazy("Complaint redress"),
                                        decide_perm=Perm.DECIDE_FOUR_EYES, on_approved=_on_redress_approved,
                                        describe=approval_describe_complaints))
