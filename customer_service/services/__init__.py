"""Service-desk services: one state machine for every kind of request, its transitions as
service functions, race-free claiming, and what each kind does (cards, PINs, cheque books,
loan intake, inquiries, account updates). Each function is one durable transaction with
its audit event; status changes core banking acts on are outbox events.

Never stored, shown or logged: a PIN or a full card number. A card is known by its masked
PAN (``123456******1234``); PIN issue and reset are events for the card processor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BankAccount, Customer
from accounts.numbers import account_number_is_valid
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_write
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError, Conflict, Forbidden, NotFound
from branch_ops.money import ROUNDING
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm
from customer_service.models import (
    TRANSITIONS,
    Card,
    ChequeBook,
    RequestKind,
    RequestStatus,
    RequestTransition,
    ServiceRequest,
    StoppedCheque,
)
from customer_service.selectors import approval_describe_requests
from customer_service.services import account_requests

APPROVAL_ROUTINE = "cs.request.routine"
APPROVAL_FOUR_EYES = "cs.request.four_eyes"


@dataclass(frozen=True)
class KindRule:
    """How a kind of request behaves: who approves it (None, "routine" = coordinator,
    "four_eyes" = supervisor), how long the desk has, whether it needs an account, and
    whether it completes at once when submitted."""

    approval: str | None
    sla_hours: int
    needs_account: bool
    immediate: bool = False
    core_banking_cares: bool = False


#: the kinds' rules, in one place (data, not code paths)
KIND_RULES: dict[str, KindRule] = {
    RequestKind.ACCOUNT_OPEN: KindRule("four_eyes", 48, False, core_banking_cares=True),
    RequestKind.ACCOUNT_CLOSE: KindRule("four_eyes", 48, True, core_banking_cares=True),
    RequestKind.ACCOUNT_UPDATE: KindRule("routine", 24, False, core_banking_cares=True),
    RequestKind.CARD_ISSUE: KindRule(None, 72, True, core_banking_cares=True),
    RequestKind.CARD_REPLACE: KindRule(None, 72, True, core_banking_cares=True),
    RequestKind.CARD_BLOCK: KindRule(None, 0, True, immediate=True, core_banking_cares=True),
    RequestKind.CARD_UNBLOCK: KindRule("four_eyes", 24, True, core_banking_cares=True),
    RequestKind.PIN_ISSUE: KindRule(None, 0, True, immediate=True, core_banking_cares=True),
    RequestKind.PIN_RESET: KindRule(None, 0, True, immediate=True, core_banking_cares=True),
    RequestKind.CHEQUE_BOOK: KindRule(None, 120, True, core_banking_cares=True),
    RequestKind.CHEQUE_STOP: KindRule(None, 0, True, immediate=True, core_banking_cares=True),
    RequestKind.STATEMENT: KindRule(None, 0, True, immediate=True),
    RequestKind.LOAN_INTAKE: KindRule(None, 48, False, core_banking_cares=True),
    RequestKind.INQUIRY: KindRule(None, 0, False, immediate=True),
}

#: loan products the desk takes applications for (annual rate in percent, bounds in the
#: branch currency's minor units)
LOAN_PRODUCTS = {
    "personal": {"annual_rate": Decimal("7.5"), "min_amount": 500_000, "max_amount": 30_000_000,
                 "min_term": 6, "max_term": 60},
    "car": {"annual_rate": Decimal("4.9"), "min_amount": 2_000_000, "max_amount": 50_000_000,
            "min_term": 12, "max_term": 84},
}
LOAN_DOCUMENTS = ["identity_document", "salary_certificate", "bank_statements_3_months", "proof_of_address"]

_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d)+")
_MASKED_PAN = re.compile(r"^[0-9]{6}\*{6}[0-9]{4}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,20}$")


class RequestError(ApplicationError):
    status_code = 400


# --- the state machine ------------------------------------------------------------------------------

def _serial() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('customer_service_request_serial')")
        return f"SR{cur.fetchone()[0]:07d}"


def _move(request: ServiceRequest, to_status: str, actor, reason: str = "") -> ServiceRequest:
    """Record one transition and move the request (the database checks they agree)."""
    if looks_like_pan(reason):
        raise RequestError(_("Never enter a full card number: use the masked number (first 6 and last 4)."),
                           code="FULL_PAN_REFUSED", field="reason")
    current = request.status if request.last_transition_id else ""
    allowed = TRANSITIONS.get(current, set()) if current else {"draft", "submitted"}
    if to_status not in allowed:
        raise Conflict(
            _("A request that is %(from)s cannot become %(to)s.")
            % {"from": RequestStatus(current).label if current else "-", "to": RequestStatus(to_status).label},
            code="ILLEGAL_TRANSITION")
    step = RequestTransition.objects.create(request=request, from_status=current, to_status=to_status, actor=actor,
                                            reason=reason[:2000])
    before = request.status
    request.status = to_status
    request.last_transition = step
    request.save(update_fields=["status", "last_transition"])
    audit_event_write(actor=actor, action=f"request.{to_status}", obj=request, customer_ref=request.customer.number,
                      before={"status": before} if current else {}, after={"status": to_status, "reason": reason})
    if KIND_RULES[request.kind].core_banking_cares and current:
        event_publish(event_type="service_request.status_changed", aggregate=request, branch=request.branch,
                      payload=_event_payload(request, before))
    return request


def _event_payload(request: ServiceRequest, previous: str) -> dict:
    """The stable schema of ``service_request.status_changed`` (documented in the API)."""
    return {"number": request.number, "kind": request.kind, "status": request.status, "previous_status": previous,
            "customer": request.customer.number, "account": request.account.number if request.account_id else None,
            "branch": request.branch.code}


def _lock(actor, number: str) -> ServiceRequest:
    """A request of the actor's branch, row-locked."""
    profile = staff_profile(actor)
    request = (ServiceRequest.objects.select_for_update(no_key=True, of=("self",))
               .select_related("customer", "account", "branch").filter(number=number, branch=profile.branch).first())
    if request is None:
        raise NotFound(_("No such request."), code="REQUEST_NOT_FOUND")
    return request


# --- kind-specific input ----------------------------------------------------------------------------------

def looks_like_pan(text: str) -> bool:
    """A run of 13 to 19 digits (spaces or dashes allowed between them) passing the Luhn
    check: what a card number looks like."""
    from stdnum import luhn

    for run in _DIGIT_RUN.findall(text or ""):
        digits = run.replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            return True
    return False


def _refuse_secrets(data: dict) -> None:
    for key, value in data.items():
        if "pin" in key.lower() and value not in (None, ""):
            raise RequestError(_("A PIN is never entered here: the card processor sends it to the customer."),
                               code="PIN_NOT_ACCEPTED", field=key)
        if isinstance(value, str) and not _is_uuid(value) and looks_like_pan(value):
            raise RequestError(_("Never enter a full card number: use the masked number (first 6 and last 4)."),
                               code="FULL_PAN_REFUSED", field=key)


def _is_uuid(value: str) -> bool:
    """A card's id (a UUID) can hold a run of digits that passes Luhn: it is not a card number."""
    import uuid

    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _loan_preview(data: dict) -> dict:
    product = LOAN_PRODUCTS.get(data.get("product"))
    if product is None:
        raise RequestError(_("Unknown loan product."), code="UNKNOWN_LOAN_PRODUCT", field="product")
    try:
        amount, term = int(data.get("amount")), int(data.get("term_months"))
        income, obligations = int(data.get("monthly_income", 0)), int(data.get("monthly_obligations", 0))
    except (TypeError, ValueError):
        raise RequestError(_("Give amounts as whole minor units and the term in months."), code="INVALID_LOAN",
                           field="amount") from None
    if not product["min_amount"] <= amount <= product["max_amount"]:
        raise RequestError(_("The amount is outside this product's bounds."), code="LOAN_AMOUNT_OUT_OF_BOUNDS",
                           field="amount")
    if not product["min_term"] <= term <= product["max_term"]:
        raise RequestError(_("The term is outside this product's bounds (%(min)s to %(max)s months).")
                           % {"min": product["min_term"], "max": product["max_term"]},
                           code="LOAN_TERM_OUT_OF_BOUNDS", field="term_months")
    if income <= 0 or obligations < 0:
        raise RequestError(_("Give the monthly income and obligations."), code="INVALID_LOAN", field="monthly_income")
    instalment = annuity_instalment(amount, product["annual_rate"], term)
    documents = data.get("documents") or {}
    return {
        "product": data["product"], "amount": amount, "term_months": term, "purpose": str(data.get("purpose", ""))[:200],
        "monthly_income": income, "monthly_obligations": obligations, "annual_rate": str(product["annual_rate"]),
        "instalment": instalment,
        "debt_to_income_percent": str((Decimal(obligations + instalment) * 100 / Decimal(income)).quantize(
            Decimal("0.1"))),
        "documents": {doc: bool(documents.get(doc)) for doc in LOAN_DOCUMENTS},
    }


def annuity_instalment(principal: int, annual_rate_percent: Decimal, months: int) -> int:
    """Monthly instalment of an annuity loan in minor units: P·r / (1 − (1+r)^−n), r the
    monthly rate; rounded once with the named rule (half-even)."""
    r = annual_rate_percent / Decimal(1200)
    if r == 0:
        value = Decimal(principal) / months
    else:
        value = Decimal(principal) * r / (1 - (1 + r) ** -months)
    return int(value.to_integral_value(rounding=ROUNDING))


def _card_of(request_account: BankAccount, data: dict, *, status: str | None = None) -> Card:
    card = Card.objects.select_for_update(no_key=True, of=("self",)).filter(
        public_id=data.get("card"), account=request_account).first() if data.get("card") else None
    if card is None:
        raise NotFound(_("No such card on this account."), code="CARD_NOT_FOUND", field="card")
    if status and card.status != status:
        raise Conflict(_("The card is %(status)s.") % {"status": card.get_status_display()}, code="CARD_STATUS")
    return card


def _clean_update(data: dict) -> dict:
    changes = {k: v for k, v in data.items() if k in ("address", "phone", "email")}
    if not changes:
        raise RequestError(_("Say what changes (address, phone or e-mail)."), code="NOTHING_TO_UPDATE")
    if "phone" in changes and not _PHONE.match(changes["phone"] or ""):
        raise RequestError(_("Enter a valid phone number."), code="INVALID_PHONE", field="phone")
    if "email" in changes:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(changes["email"])
        except ValidationError:
            raise RequestError(_("Enter a valid e-mail address."), code="INVALID_EMAIL", field="email") from None
    return changes


def _prepare(kind: str, account: BankAccount | None, data: dict) -> dict:
    """Validate a kind's data before anything is written."""
    _refuse_secrets(data)
    if kind == RequestKind.LOAN_INTAKE:
        return _loan_preview(data)
    if kind == RequestKind.ACCOUNT_UPDATE:
        return {"changes": _clean_update(data)}
    if kind == RequestKind.CHEQUE_BOOK:
        if int(data.get("leaves", 0) or 0) not in (25, 50):
            raise RequestError(_("A cheque book has 25 or 50 leaves."), code="INVALID_LEAVES", field="leaves")
        return {"leaves": int(data["leaves"])}
    if kind == RequestKind.CHEQUE_STOP:
        try:
            first, last = int(data.get("first_number")), int(data.get("last_number") or data.get("first_number"))
        except (TypeError, ValueError):
            raise RequestError(_("Give the cheque number (or the first and last of a range)."),
                               code="INVALID_CHEQUE_RANGE", field="first_number") from None
        if last < first or first <= 0:
            raise RequestError(_("The range is reversed."), code="INVALID_CHEQUE_RANGE", field="last_number")
        return {"first_number": first, "last_number": last, "reason": str(data.get("reason", ""))[:200]}
    if kind == RequestKind.STATEMENT:
        import datetime as dt

        try:
            start = dt.date.fromisoformat(str(data.get("start")))
            end = dt.date.fromisoformat(str(data.get("end")))
        except ValueError:
            raise RequestError(_("Give dates as YYYY-MM-DD."), code="INVALID_DATE", field="start") from None
        if end < start:
            raise RequestError(_("The end date is before the start date."), code="INVALID_DATE_RANGE", field="end")
        # "today" is the branch's: after 20:00 UTC it is already tomorrow in Dubai
        today = branch_day(account.branch) if account is not None else timezone.localdate()
        if end > today or start > today:
            raise RequestError(_("A statement cannot cover days in the future."), code="STATEMENT_IN_FUTURE",
                               field="end")
        return {"start": start.isoformat(), "end": end.isoformat()}
    if kind == RequestKind.INQUIRY:
        question = str(data.get("question", "")).strip()
        if not question:
            raise RequestError(_("Write down the question."), code="QUESTION_REQUIRED", field="question")
        return {"topic": str(data.get("topic", "other"))[:40], "question": question[:2000],
                "answer": str(data.get("answer", ""))[:4000]}
    if kind == RequestKind.CARD_BLOCK:
        reason = data.get("reason")
        if reason not in ("lost", "stolen", "damaged", "customer_request"):
            raise RequestError(_("Say why the card is blocked (lost, stolen, damaged, customer request)."),
                               code="INVALID_BLOCK_REASON", field="reason")
        return {"card": str(data.get("card", "")), "reason": reason}
    if kind in (RequestKind.CARD_UNBLOCK, RequestKind.CARD_REPLACE, RequestKind.PIN_ISSUE, RequestKind.PIN_RESET):
        return {"card": str(data.get("card", ""))}
    return {}


# --- what happens when a kind completes -----------------------------------------------------------------

def _effect_immediate(request: ServiceRequest, actor) -> None:
    kind, data = request.kind, request.data
    if kind == RequestKind.CARD_BLOCK:
        card = Card.objects.select_for_update(no_key=True, of=("self",)).filter(
            public_id=data.get("card"), account=request.account).first()
        if card is None:
            raise NotFound(_("No such card on this account."), code="CARD_NOT_FOUND", field="card")
        if card.status == Card.Status.BLOCKED:
            raise Conflict(_("This card is already blocked."), code="CARD_ALREADY_BLOCKED")
        card.status, card.block_reason, card.blocked_at = Card.Status.BLOCKED, data["reason"], timezone.now()
        card.save(update_fields=["status", "block_reason", "blocked_at"])
        event_publish(event_type="card.blocked", aggregate=card, branch=request.branch,
                      payload={"card": str(card.public_id), "masked_pan": card.masked_pan, "reason": data["reason"],
                               "account": request.account.number})
    elif kind in (RequestKind.PIN_ISSUE, RequestKind.PIN_RESET):
        card = _card_of(request.account, data)
        event_publish(event_type=f"card.{kind}_requested", aggregate=card, branch=request.branch,
                      payload={"card": str(card.public_id), "masked_pan": card.masked_pan,
                               "account": request.account.number})
    elif kind == RequestKind.STATEMENT:
        audit_event_write(actor=actor, action="statement.requested", obj=request.account,
                          customer_ref=request.customer.number, after=dict(data))
    elif kind == RequestKind.CHEQUE_STOP:
        StoppedCheque.objects.create(account=request.account, first_number=data["first_number"],
                                     last_number=data["last_number"], reason=data["reason"], created_by=actor)
        event_publish(event_type="cheque.stopped", aggregate=request, branch=request.branch,
                      payload={"account": request.account.number, "first_number": data["first_number"],
                               "last_number": data["last_number"]})


def _effect_on_submit(request: ServiceRequest, actor) -> None:
    if request.kind == RequestKind.CHEQUE_BOOK:
        last = ChequeBook.objects.filter(account=request.account).order_by("-first_number").first()
        first = last.first_number + last.leaves if last else 100001
        book = ChequeBook.objects.create(account=request.account, leaves=request.data["leaves"], first_number=first)
        request.data = {**request.data, "cheque_book": str(book.public_id), "first_number": first}
        request.save(update_fields=["data"])
        event_publish(event_type="cheque_book.ordered", aggregate=book, branch=request.branch,
                      payload={"account": request.account.number, "leaves": book.leaves, "first_number": first})
    elif request.kind == RequestKind.CARD_ISSUE:
        event_publish(event_type="card.issue_requested", aggregate=request, branch=request.branch,
                      payload={"account": request.account.number, "customer": request.customer.number})
    elif request.kind == RequestKind.CARD_REPLACE:
        card = _card_of(request.account, request.data)
        event_publish(event_type="card.replace_requested", aggregate=card, branch=request.branch,
                      payload={"card": str(card.public_id), "masked_pan": card.masked_pan,
                               "account": request.account.number})


def _effect_on_approval(request: ServiceRequest, actor) -> None:
    if request.kind == RequestKind.ACCOUNT_UPDATE:
        customer = Customer.objects.select_for_update(no_key=True, of=("self",)).get(pk=request.customer_id)
        changes = request.data["changes"]
        before = {k: getattr(customer, k) for k in changes}
        for key, value in changes.items():
            setattr(customer, key, value)
        customer.save(update_fields=list(changes))
        audit_event_write(actor=actor, action="customer.updated", obj=customer, customer_ref=customer.number,
                          before=before, after=changes)
        event_publish(event_type="customer.updated", aggregate=customer, branch=request.branch,
                      payload={"number": customer.number, "fields": sorted(changes)})
    elif request.kind == RequestKind.CARD_UNBLOCK:
        card = _card_of(request.account, request.data, status=Card.Status.BLOCKED)
        card.status, card.block_reason = Card.Status.ACTIVE, ""
        card.save(update_fields=["status", "block_reason"])
        event_publish(event_type="card.unblocked", aggregate=card, branch=request.branch,
                      payload={"card": str(card.public_id), "masked_pan": card.masked_pan})


# --- services ---------------------------------------------------------------------------------------------

def request_create(*, actor, kind: str, customer_number: str, account_number: str | None = None,
                   data: dict | None = None, submit: bool = True, idempotency_claim=None) -> ServiceRequest:
    """Take a request at the desk (submitted at once unless ``submit=False``: a draft)."""
    if kind not in KIND_RULES:
        raise RequestError(_("Unknown kind of request."), code="UNKNOWN_KIND", field="kind")
    rule = KIND_RULES[kind]
    data = dict(data or {})
    signature = account_requests.signature_bytes(data.pop("signature", None))
    new_customer = data.pop("new_customer", None) if kind == RequestKind.ACCOUNT_OPEN else None
    if kind == RequestKind.ACCOUNT_OPEN and account_number:
        raise RequestError(_("An opening creates its account: give no account number."), code="ACCOUNT_NOT_EXPECTED",
                           field="account_number")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.CREATE_REQUEST)
        if new_customer and not customer_number:
            require_perm(actor, Perm.MANAGE_CUSTOMER)
            customer = account_requests.new_customer(actor=actor, branch=profile.branch, data=new_customer)
        else:
            customer = Customer.objects.filter(number=customer_number).first()
        if customer is None:
            raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND", field="customer_number")
        account = None
        if rule.needs_account or account_number:
            if not account_number_is_valid(account_number or ""):
                raise RequestError(_("The account number is not valid (check digits)."),
                                   code="INVALID_ACCOUNT_NUMBER", field="account_number")
            account = BankAccount.objects.filter(number=account_number).first()
            if account is None or not account.holder_links.filter(customer=customer).exists():
                raise NotFound(_("This customer holds no such account."), code="ACCOUNT_NOT_FOUND",
                               field="account_number")
        if kind == RequestKind.ACCOUNT_OPEN:
            _refuse_secrets(data)
            clean = account_requests.prepare_open(customer=customer, data=data, signature=signature)
        elif kind == RequestKind.ACCOUNT_CLOSE:
            _refuse_secrets(data)
            clean = account_requests.prepare_close(branch=profile.branch, customer=customer, account=account, data=data)
        else:
            clean = _prepare(kind, account, data)
        request = ServiceRequest.objects.create(
            number=_serial(), kind=kind, customer=customer, account=account, branch=profile.branch,
            created_by=actor, data=clean, due_at=timezone.now() + timedelta(hours=rule.sla_hours))
        _move(request, "draft", actor)
        if kind == RequestKind.ACCOUNT_OPEN:
            account_requests.capture_signature(actor=actor, request=request, signature=signature)
        if submit:
            _submit(request, actor)
        idempotency.finish(idempotency_claim, request)
    return request


def _submit(request: ServiceRequest, actor) -> None:
    rule = KIND_RULES[request.kind]
    _move(request, "submitted", actor)
    if rule.immediate:
        _effect_immediate(request, actor)
        _move(request, "fulfilled", actor, _("done at the desk"))
    elif rule.approval:
        if request.kind in account_requests.ACCOUNT_KINDS:
            account_requests.on_submit(actor=actor, request=request)
        _move(request, "awaiting_approval", actor)
        approval_request(
            kind=APPROVAL_ROUTINE if rule.approval == "routine" else APPROVAL_FOUR_EYES, branch=request.branch,
            subject=request, actor=actor,
            summary={"request": request.number, "kind": request.get_kind_display(),
                     "customer": request.customer.full_name,
                     "account": request.account.number if request.account_id else "", **_summary(request)})
    else:
        _effect_on_submit(request, actor)


def _summary(request: ServiceRequest) -> dict:
    if request.kind == RequestKind.ACCOUNT_UPDATE:
        return {f"new {k}": v for k, v in request.data["changes"].items()}
    if request.kind in account_requests.ACCOUNT_KINDS:
        return account_requests.summary(request)
    return {}


def request_submit(*, actor, number: str) -> ServiceRequest:
    with transaction.atomic(durable=True):
        require_perm(actor, Perm.CREATE_REQUEST)
        request = _lock(actor, number)
        _submit(request, actor)
    return request


def request_claim(*, actor, number: str) -> ServiceRequest:
    """Take a request to work on it; of two people clicking at once, one gets it."""
    with transaction.atomic(durable=True):
        profile = require_perm(actor, Perm.CREATE_REQUEST)
        taken = ServiceRequest.objects.filter(number=number, branch=profile.branch, assigned_to__isnull=True,
                                              status__in=["submitted", "approved", "in_progress"]
                                              ).update(assigned_to=actor)
        request = _lock(actor, number)
        if not taken:
            if request.assigned_to_id == actor.pk:
                return request
            raise Conflict(_("Someone else has already taken this request, or it is not open."),
                           code="ALREADY_CLAIMED")
        audit_event_write(actor=actor, action="request.claimed", obj=request, customer_ref=request.customer.number,
                          after={"assigned_to": actor.get_username()})
    return request


def _require_assignee(request: ServiceRequest, actor) -> None:
    if request.assigned_to_id != actor.pk:
        raise Forbidden(_("Take the request first."), code="NOT_ASSIGNED")


def request_start(*, actor, number: str) -> ServiceRequest:
    with transaction.atomic(durable=True):
        require_perm(actor, Perm.CREATE_REQUEST)
        request = _lock(actor, number)
        _require_assignee(request, actor)
        _move(request, "in_progress", actor)
    return request


def request_fulfil(*, actor, number: str, note: str = "", data: dict | None = None, idempotency_claim=None) -> ServiceRequest:
    """Complete a request: a card issued (its masked PAN), a replacement, a loan file handed
    to credit; cheque books complete when delivered (see :func:`cheque_book_advance`)."""
    data = dict(data or {})
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        require_perm(actor, Perm.CREATE_REQUEST)
        request = _lock(actor, number)
        _require_assignee(request, actor)
        if request.kind == RequestKind.CHEQUE_BOOK:
            raise Conflict(_("A cheque book request completes when the book is delivered."), code="USE_CHEQUE_TRACKING")
        if request.kind in account_requests.ACCOUNT_KINDS:
            account_requests.fulfil(actor=actor, request=request)
        if request.kind in (RequestKind.CARD_ISSUE, RequestKind.CARD_REPLACE):
            masked = str(data.get("masked_pan", "")).replace(" ", "")
            if looks_like_pan(masked):
                raise RequestError(_("Never enter a full card number: use the masked number (first 6 and last 4)."),
                                   code="FULL_PAN_REFUSED", field="masked_pan")
            if not _MASKED_PAN.match(masked):
                raise RequestError(_("Enter the masked card number as printed on the carrier: 6 digits, 6 stars, "
                                     "4 digits."), code="INVALID_MASKED_PAN", field="masked_pan")
            if request.kind == RequestKind.CARD_REPLACE:
                old = _card_of(request.account, request.data)
                old.status = Card.Status.REPLACED
                old.save(update_fields=["status"])
            card = Card.objects.create(account=request.account, customer=request.customer, masked_pan=masked,
                                       status=Card.Status.ACTIVE)
            request.data = {**request.data, "new_card": str(card.public_id), "masked_pan": masked}
            request.save(update_fields=["data"])
            event_publish(event_type="card.issued", aggregate=card, branch=request.branch,
                          payload={"card": str(card.public_id), "masked_pan": masked, "account": request.account.number})
        _move(request, "fulfilled", actor, note)
        idempotency.finish(idempotency_claim, request)
    return request


def request_cancel(*, actor, number: str, reason: str) -> ServiceRequest:
    reason = (reason or "").strip()
    if not reason:
        raise RequestError(_("Give a reason."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        require_perm(actor, Perm.CREATE_REQUEST)
        request = _lock(actor, number)
        if request.status == "awaiting_approval":
            from branch_ops.approvals import approval_cancel_in_transaction

            approval_cancel_in_transaction(subject=request, actor=actor, reason=reason)
            account_requests.on_refused(actor=actor, request=request)
        _move(request, "cancelled", actor, reason)
    return request


def offer_record(*, actor, customer_number: str, offer_code: str, outcome: str, idempotency_claim=None):
    """The CSR records that a product was offered, accepted or declined."""
    from customer_service.models import OfferOutcome, ProductOffer

    if outcome not in OfferOutcome.Outcome.values:
        raise RequestError(_("Unknown outcome."), code="INVALID_OUTCOME", field="outcome")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        require_perm(actor, Perm.CREATE_REQUEST)
        customer = Customer.objects.filter(number=customer_number).first()
        offer = ProductOffer.objects.filter(code=offer_code, active=True).first()
        if customer is None or offer is None:
            raise NotFound(_("No such customer or offer."), code="OFFER_NOT_FOUND")
        record = OfferOutcome.objects.create(offer=offer, customer=customer, outcome=outcome, recorded_by=actor)
        audit_event_write(actor=actor, action=f"offer.{outcome}", obj=record, customer_ref=customer.number,
                          after={"offer": offer_code})
        idempotency.finish(idempotency_claim, record)
    return record


CHEQUE_STEPS = {"ordered": "printed", "printed": "received", "received": "delivered"}


def cheque_book_advance(*, actor, number: str, document: str = "") -> ChequeBook:
    """Move a cheque book one step: printed → received at the branch → delivered to the
    customer (identity checked and recorded); delivery completes the request."""
    with transaction.atomic(durable=True):
        require_perm(actor, Perm.CREATE_REQUEST)
        request = _lock(actor, number)
        if request.kind != RequestKind.CHEQUE_BOOK or request.status not in ("submitted", "in_progress"):
            raise Conflict(_("This request has no cheque book on its way."), code="ILLEGAL_TRANSITION")
        book = ChequeBook.objects.select_for_update(no_key=True, of=("self",)).get(public_id=request.data["cheque_book"])
        nxt = CHEQUE_STEPS.get(book.status)
        if nxt is None:
            raise Conflict(_("This cheque book was already delivered."), code="ILLEGAL_TRANSITION")
        if nxt == "delivered":
            if not document.strip():
                raise RequestError(_("Check the customer's identity document and record its number."),
                                   code="IDENTITY_NOT_CHECKED", field="document")
            book.delivered_document = document.strip()[:80]
        before = book.status
        book.status = nxt
        book.save(update_fields=["status", "delivered_document"])
        audit_event_write(actor=actor, action="cheque_book.advanced", obj=book, customer_ref=request.customer.number,
                          before={"status": before}, after={"status": nxt})
        event_publish(event_type="cheque_book.status_changed", aggregate=book, branch=request.branch,
                      payload={"account": request.account.number, "status": nxt, "request": request.number})
        if request.status == "submitted":
            _move(request, "in_progress", actor)
        if nxt == "delivered":
            _move(request, "fulfilled", actor, _("delivered to the customer"))
    return book


# --- approvals --------------------------------------------------------------------------------------------

def _subject(approval) -> ServiceRequest:
    return (ServiceRequest.objects.select_for_update(no_key=True, of=("self",))
            .select_related("customer", "account", "branch").get(public_id=approval.subject_id))


def _on_approved(approval, actor) -> None:
    request = _subject(approval)
    _move(request, "approved", actor, approval.decision_reason)
    if request.kind in account_requests.ACCOUNT_KINDS:
        if not account_requests.on_approved(actor=actor, request=request):
            return  # the CSR fulfils it (an initial deposit, a closing)
    else:
        _effect_on_approval(request, actor)
    _move(request, "fulfilled", actor, _("applied on approval"))


def _on_rejected(approval, actor) -> None:
    request = _subject(approval)
    if request.status == "awaiting_approval":
        _move(request, "rejected" if approval.status == "rejected" else "cancelled", actor, approval.decision_reason)
        account_requests.on_refused(actor=actor, request=request)


def register_approval_kinds() -> None:
    approval_kind_register(ApprovalKind(code=APPROVAL_ROUTINE, label=gettext_lazy("Service request (routine)"),
                                        decide_perm=Perm.DECIDE_ROUTINE, on_approved=_on_approved,
                                        on_rejected=_on_rejected, describe=approval_describe_requests))
    approval_kind_register(ApprovalKind(code=APPROVAL_FOUR_EYES, label=gettext_lazy("Service request (four eyes)"),
                                        decide_perm=Perm.DECIDE_FOUR_EYES, on_approved=_on_approved,
                                        on_rejected=_on_rejected, describe=approval_describe_requests))


__all__ = [
    "KIND_RULES", "LOAN_PRODUCTS", "annuity_instalment", "cheque_book_advance", "request_cancel", "request_claim",
    "request_create", "request_fulfil", "request_start", "request_submit", "register_approval_kinds", "offer_record",
]

