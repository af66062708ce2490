"""Accounts services: customers, account opening / freezing / closing (four eyes), internal
ledger accounts and transfers. One function per business operation; each money-moving
one is one ``transaction.atomic(durable=True)`` that posts through :mod:`accounts.ledger`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.ledger import (
    CREDIT,
    DEBIT,
    LedgerError,
    Line,
    customer_number_of,
    ledger_post,
    lock_ledger_accounts,
    outside_any_transaction,
)
from accounts.models import AccountHolder, BankAccount, Customer, LedgerAccount, LedgerTransaction
from accounts.numbers import account_number_from_serial, account_number_is_valid
from accounts.selectors import approval_describe_accounts
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_row, audit_event_write
from branch_ops.errors import ApplicationError, Conflict, NotFound
from branch_ops.models import Approval, Branch, Currency
from branch_ops.money import Money
from branch_ops.outbox import event_publish, event_row
from branch_ops.roles import Perm

ACCOUNT_OPEN = "account.open"
ACCOUNT_FREEZE = "account.freeze"
ACCOUNT_UNFREEZE = "account.unfreeze"
ACCOUNT_CLOSE = "account.close"

CUSTOMER_FIELDS = [
    "full_name", "latin_name", "date_of_birth", "document_type", "document_number", "document_country",
    "document_expiry", "address", "phone", "email", "preferred_language", "risk_rating", "politically_exposed",
]


def _serial(sequence: str) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(%s)", [sequence])
        return cur.fetchone()[0]


def _active_currency(code: str) -> Currency:
    found = Currency.objects.filter(code=code, active=True).first()
    if found is None:
        raise ApplicationError(_("Unknown currency “%(code)s”.") % {"code": code}, code="UNKNOWN_CURRENCY",
                               field="currency")
    return found


# --- customers ---------------------------------------------------------------------------------------

def _clean_customer(data: dict, *, instance: Customer | None = None) -> dict:
    clean = {k: v for k, v in data.items() if k in CUSTOMER_FIELDS}
    name = (clean.get("full_name", instance.full_name if instance else "") or "").strip()
    if not name:
        raise ApplicationError(_("Enter the customer's full name."), code="NAME_REQUIRED", field="full_name")
    if "full_name" in clean:
        clean["full_name"] = name
    dob = clean.get("date_of_birth")
    if dob and dob > timezone.localdate():
        raise ApplicationError(_("The date of birth is in the future."), code="INVALID_DATE_OF_BIRTH",
                               field="date_of_birth")
    expiry = clean.get("document_expiry")
    if expiry and expiry < timezone.localdate():
        raise ApplicationError(_("The identity document has expired."), code="DOCUMENT_EXPIRED",
                               field="document_expiry")
    if clean.get("document_type") and clean["document_type"] not in Customer.DocumentType.values:
        raise ApplicationError(_("Unknown document type."), code="INVALID_DOCUMENT_TYPE", field="document_type")
    if "document_country" in clean:
        clean["document_country"] = (clean["document_country"] or "").upper()
        if clean["document_country"] and not (len(clean["document_country"]) == 2
                                              and clean["document_country"].isalpha()):
            raise ApplicationError(_("Give the issuing country as a two-letter code (e.g. AE, IT)."),
                                   code="INVALID_COUNTRY", field="document_country")
    if "document_number" in clean:
        clean["document_number"] = (clean["document_number"] or "").strip().upper()
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            raise ApplicationError(_("Enter a valid e-mail address."), code="INVALID_EMAIL", field="email") from None
    languages = {code for code, _name in settings.LANGUAGES}
    if clean.get("preferred_language") and clean["preferred_language"] not in languages:
        raise ApplicationError(_("Unknown language."), code="INVALID_LANGUAGE", field="preferred_language")
    if clean.get("risk_rating") and clean["risk_rating"] not in Customer.Risk.values:
        raise ApplicationError(_("Unknown risk rating."), code="INVALID_RISK_RATING", field="risk_rating")
    return clean


def _document_taken() -> Conflict:
    return Conflict(_("A customer with this identity document is already registered."),
                    code="DOCUMENT_ALREADY_REGISTERED", field="document_number")


def customer_create(*, actor, data: dict, idempotency_claim=None) -> Customer:
    """Register a customer (KYC data as verified at the desk)."""
    clean = _clean_customer(data)
    try:
        with transaction.atomic(durable=True):
            idempotency.begin(idempotency_claim)
            profile = require_perm(actor, Perm.MANAGE_CUSTOMER)
            customer = _customer_insert(actor=actor, branch=profile.branch, clean=clean)
            idempotency.finish(idempotency_claim, customer)
    except IntegrityError as exc:
        if "customer_document_unique" in str(exc):
            raise _document_taken() from None
        raise
    return customer


def _customer_insert(*, actor, branch: Branch, clean: dict) -> Customer:
    customer = Customer.objects.create(number=f"C{_serial('accounts_customer_serial'):07d}", home_branch=branch,
                                       **clean)
    audit_event_write(actor=actor, action="customer.created", obj=customer, customer_ref=customer.number,
                      after={k: clean[k] for k in clean if k not in ("date_of_birth",)})
    event_publish(event_type="customer.created", aggregate=customer, branch=branch,
                  payload={"number": customer.number})
    return customer


def customer_register_in_transaction(*, actor, branch: Branch, data: dict) -> Customer:
    """:func:`customer_create` inside the caller's transaction (the desk registers a new
    customer together with their first account, so a refused opening leaves no customer)."""
    _in_transaction("customer_register_in_transaction")
    clean = _clean_customer(data)
    try:
        with transaction.atomic():
            return _customer_insert(actor=actor, branch=branch, clean=clean)
    except IntegrityError as exc:
        if "customer_document_unique" in str(exc):
            raise _document_taken() from None
        raise


def customer_update(*, actor, number: str, data: dict) -> Customer:
    """Change a customer's details; the audit keeps what each field was before."""
    try:
        with transaction.atomic(durable=True):
            require_perm(actor, Perm.MANAGE_CUSTOMER)
            customer = Customer.objects.select_for_update(no_key=True, of=("self",)).filter(number=number).first()
            if customer is None:
                raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND")
            clean = _clean_customer(data, instance=customer)
            before, after = {}, {}
            for field, value in clean.items():
                if getattr(customer, field) != value:
                    before[field], after[field] = getattr(customer, field), value
                    setattr(customer, field, value)
            if after:
                customer.save(update_fields=list(after))
                audit_event_write(actor=actor, action="customer.updated", obj=customer, customer_ref=customer.number,
                                  before=before, after=after)
                event_publish(event_type="customer.updated", aggregate=customer, branch=actor.staff.branch,
                              payload={"number": customer.number, "fields": sorted(after)})
    except IntegrityError as exc:
        if "customer_document_unique" in str(exc):
            raise _document_taken() from None
        raise
    return customer


# --- internal ledger accounts -----------------------------------------------------------------------

def internal_account(*, branch: Branch, kind: str, currency: str) -> LedgerAccount:
    """The branch's internal ledger account of ``kind`` in ``currency`` (created on first use)."""
    assert kind in LedgerAccount.Kind.values and kind not in ("customer", "drawer_cash")
    cur = Currency.objects.get(code=currency)
    account, _created = LedgerAccount.objects.get_or_create(
        branch=branch, kind=kind, currency=cur,
        defaults={"name": f"{branch.code} {LedgerAccount.Kind(kind).label} {currency}",
                  "debit_normal": kind in LedgerAccount.DEBIT_NORMAL},
    )
    return account


# --- accounts -------------------------------------------------------------------------------------

def account_open_request(*, actor, customer_number: str, product: str, currency: str, reason: str = "",
                         overdraft_limit: Money | None = None, joint_holders: list[str] | None = None,
                         idempotency_claim=None) -> BankAccount:
    """A CSR asks for an account for an existing customer; it stays ``pending`` until a
    supervisor approves the opening."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.MANAGE_CUSTOMER)
        customer = Customer.objects.filter(number=customer_number).first()
        if customer is None:
            raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND", field="customer_number")
        account = account_open_pending(actor=actor, branch=profile.branch, customer=customer, product=product,
                                       currency=currency, overdraft_limit=overdraft_limit,
                                       joint_holders=joint_holders)
        approval_request(
            kind=ACCOUNT_OPEN, branch=profile.branch, subject=account, actor=actor, reason=reason,
            summary={"account": account.number, "customer": customer.number, "customer_name": customer.full_name,
                     "product": product, "currency": currency,
                     "overdraft_limit": Money(account.ledger.overdraft_limit, currency).format()},
        )
        idempotency.finish(idempotency_claim, account)
    return account


def _in_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} runs inside the calling service's transaction")


def account_open_pending(*, actor, branch: Branch, customer: Customer, product: str, currency: str,
                         overdraft_limit: Money | None = None, joint_holders: list[str] | None = None) -> BankAccount:
    """Create a ``pending`` account (its ledger account, its holders) inside the caller's
    transaction, with its audit event; the caller asks for the approval that activates it
    (:func:`account_open_request` the ``account.open`` kind, the service desk its own
    four-eyes request), and on approval calls :func:`account_activate`."""
    _in_transaction("account_open_pending")
    if product not in BankAccount.Product.values:
        raise ApplicationError(_("Unknown product."), code="UNKNOWN_PRODUCT", field="product")
    if overdraft_limit is not None and (overdraft_limit.currency != currency or overdraft_limit.amount < 0):
        raise ApplicationError(_("The overdraft limit must be a non-negative amount in the account's currency."),
                               code="INVALID_OVERDRAFT", field="overdraft_limit")
    cur = _active_currency(currency)
    if customer.status != Customer.Status.ACTIVE:
        raise Conflict(_("This customer cannot open accounts (status: %(status)s).")
                       % {"status": customer.get_status_display()}, code="CUSTOMER_NOT_ACTIVE")
    others = list(Customer.objects.filter(number__in=joint_holders or []))
    if len(others) != len(set(joint_holders or [])):
        raise NotFound(_("A joint holder is not a known customer."), code="CUSTOMER_NOT_FOUND",
                       field="joint_holders")
    number = account_number_from_serial(_serial("accounts_account_serial"))
    ledger = LedgerAccount.objects.create(kind=LedgerAccount.Kind.CUSTOMER, currency=cur, branch=branch,
                                          name=number, debit_normal=False,
                                          overdraft_limit=overdraft_limit.amount if overdraft_limit else 0)
    account = BankAccount.objects.create(number=number, customer=customer, product=product, currency=cur,
                                         branch=branch, ledger=ledger, status=BankAccount.Status.PENDING)
    AccountHolder.objects.create(account=account, customer=customer, primary=True)
    for other in others:
        if other.pk != customer.pk:
            AccountHolder.objects.create(account=account, customer=other, primary=False)
    audit_event_write(actor=actor, action="account.open_requested", obj=account, customer_ref=customer.number,
                      after={"number": account.number, "product": product, "currency": currency,
                             "overdraft_limit": ledger.overdraft_limit})
    return account


def _account_for_update(public_id: str) -> BankAccount:
    return (BankAccount.objects.select_for_update(no_key=True, of=("self",))
            .select_related("customer", "ledger", "branch").get(public_id=public_id))


def _set_status(account: BankAccount, status: str, actor, action: str, event: str | None = None) -> None:
    lock_ledger_accounts([account.ledger_id])  # postings to this account wait for the change
    before = account.status
    account.status = status
    fields = ["status"]
    if status == BankAccount.Status.CLOSED:
        account.closed_at = timezone.now()
        fields.append("closed_at")
    account.save(update_fields=fields)
    audit_event_write(actor=actor, action=action, obj=account, customer_ref=account.customer.number,
                      before={"status": before}, after={"status": status})
    if event:
        event_publish(event_type=event, aggregate=account, branch=account.branch,
                      payload={"number": account.number, "currency": account.currency_id,
                               "customer": account.customer.number, "status": status})


def account_activate(*, account_id: str, actor) -> BankAccount:
    """Activate a ``pending`` account whose opening was approved (inside the approving
    transaction): the ``account.opened`` audit and outbox events."""
    _in_transaction("account_activate")
    account = _account_for_update(account_id)
    if account.status != BankAccount.Status.PENDING:
        raise Conflict(_("Not possible while the account is %(status)s.") % {"status": account.get_status_display()},
                       code="INVALID_ACCOUNT_STATUS")
    _set_status(account, BankAccount.Status.ACTIVE, actor, "account.opened", "account.opened")
    return account


def account_open_refuse(*, account_id: str, actor) -> None:
    """A ``pending`` account whose opening was refused or withdrawn is closed unused."""
    _in_transaction("account_open_refuse")
    account = _account_for_update(account_id)
    if account.status == BankAccount.Status.PENDING:
        _set_status(account, BankAccount.Status.CLOSED, actor, "account.open_refused")


def _on_open_approved(approval, actor) -> None:
    account_activate(account_id=approval.subject_id, actor=actor)


def _on_open_rejected(approval, actor) -> None:
    account_open_refuse(account_id=approval.subject_id, actor=actor)


def account_by_number(number: str) -> BankAccount:
    """The account with this number; wrong check digits or an unknown number is a clear,
    coded error (the one lookup every service that takes an account number uses)."""
    if not account_number_is_valid(number or ""):
        raise ApplicationError(_("The account number is not valid (check digits)."), code="INVALID_ACCOUNT_NUMBER",
                               field="account")
    account = BankAccount.objects.select_related("customer", "ledger", "branch").filter(number=number).first()
    if account is None:
        raise NotFound(_("No such account."), code="ACCOUNT_NOT_FOUND", field="account")
    return account


def _status_request(*, actor, number: str, kind: str, allowed_from: set[str], reason: str, action: str,
                    idempotency_claim=None) -> Approval:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code="REASON_REQUIRED", field="reason")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.MANAGE_CUSTOMER)
        account = account_by_number(number)
        account = _account_for_update(account.public_id)
        if account.status not in allowed_from:
            raise Conflict(_("Not possible while the account is %(status)s.") % {"status": account.get_status_display()},
                           code="INVALID_ACCOUNT_STATUS")
        if kind == ACCOUNT_CLOSE:
            account_closable_check(account)
        try:
            with transaction.atomic():
                approval = approval_request(
                    kind=kind, branch=profile.branch, subject=account, actor=actor, reason=reason,
                    summary={"account": account.number, "customer": account.customer.number,
                             "customer_name": account.customer.full_name, "status": account.status,
                             "balance": Money(account.ledger.balance, account.currency_id).format()},
                )
        except IntegrityError:
            raise Conflict(_("A request of this kind is already waiting for this account."),
                           code="REQUEST_ALREADY_PENDING") from None
        audit_event_write(actor=actor, action=action, obj=account, customer_ref=account.customer.number,
                          after={"reason": reason})
        idempotency.finish(idempotency_claim, approval)
    return approval


def account_closable_check(account: BankAccount) -> None:
    """Refuse to close an account with money (either way) or pending holds on it."""
    ledger = LedgerAccount.objects.get(pk=account.ledger_id)
    if ledger.balance != 0:
        raise Conflict(_("The balance must be zero before closing: transfer it out or pay it in cash first."),
                       code="BALANCE_NOT_ZERO")
    if ledger.pending_debits:
        raise Conflict(_("The account has pending holds."), code="PENDING_HOLDS")


def account_freeze_request(*, actor, number: str, reason: str, idempotency_claim=None) -> Approval:
    return _status_request(actor=actor, number=number, idempotency_claim=idempotency_claim, kind=ACCOUNT_FREEZE, reason=reason,
                           allowed_from={"active", "dormant"}, action="account.freeze_requested")


def account_unfreeze_request(*, actor, number: str, reason: str, idempotency_claim=None) -> Approval:
    return _status_request(actor=actor, number=number, idempotency_claim=idempotency_claim, kind=ACCOUNT_UNFREEZE, reason=reason,
                           allowed_from={"frozen"}, action="account.unfreeze_requested")


def account_close_request(*, actor, number: str, reason: str, idempotency_claim=None) -> Approval:
    return _status_request(actor=actor, number=number, idempotency_claim=idempotency_claim, kind=ACCOUNT_CLOSE, reason=reason,
                           allowed_from={"active", "dormant"}, action="account.close_requested")


def _on_freeze_approved(approval, actor) -> None:
    _set_status(_account_for_update(approval.subject_id), BankAccount.Status.FROZEN, actor, "account.frozen",
                "account.frozen")


def _on_unfreeze_approved(approval, actor) -> None:
    _set_status(_account_for_update(approval.subject_id), BankAccount.Status.ACTIVE, actor, "account.unfrozen",
                "account.unfrozen")


def account_close_apply(*, account_id: str, actor) -> BankAccount:
    """Close an account whose closing was approved, inside the caller's transaction: the
    balance must be zero and no hold pending (checked again under the ledger lock, as money
    may have moved since the request)."""
    _in_transaction("account_close_apply")
    account = _account_for_update(account_id)
    if account.status not in (BankAccount.Status.ACTIVE, BankAccount.Status.DORMANT):
        raise Conflict(_("Not possible while the account is %(status)s.") % {"status": account.get_status_display()},
                       code="INVALID_ACCOUNT_STATUS")
    lock_ledger_accounts([account.ledger_id])
    account_closable_check(account)
    _set_status(account, BankAccount.Status.CLOSED, actor, "account.closed", "account.closed")
    return account


def _on_close_approved(approval, actor) -> None:
    account_close_apply(account_id=approval.subject_id, actor=actor)


# --- transfers ------------------------------------------------------------------------------------

def _check_account_numbers(numbers: dict[str, str]) -> None:
    """``{field: account number}``: wrong check digits are a clear error, before anything is read."""
    for field, number in numbers.items():
        if not account_number_is_valid(number):
            raise ApplicationError(_("The account number is not valid (check digits)."),
                                   code="INVALID_ACCOUNT_NUMBER", field=field)


def _found_by_field(numbers: dict[str, str], locked: dict[int, LedgerAccount]) -> dict[str, LedgerAccount]:
    """``{field: account number}`` -> ``{field: locked ledger account}``; an unknown number is a
    clear error on its field."""
    by_number = {account.bank_number: account for account in locked.values()}
    found = {}
    for field, number in numbers.items():
        if number not in by_number:
            raise NotFound(_("No such account."), code="ACCOUNT_NOT_FOUND", field=field)
        found[field] = by_number[number]
    return found


def transfer_post(*, actor, from_account: str, to_account: str, amount: Money, description: str = "",
                  idempotency_claim=None) -> LedgerTransaction:
    """Move money between two customer accounts of the same currency. The claim's record is
    written by the posting statement itself (``idempotency.record_rows``), so the statement is
    the transfer's whole transaction, with or without an ``Idempotency-Key``: outside any
    transaction (a request, the API) it commits itself, one round trip; inside one (a test's)
    it is a durable block's only statement."""
    kwargs = {"actor": actor, "from_account": from_account, "to_account": to_account, "amount": amount,
              "description": description, "idempotency_claim": idempotency_claim}
    if outside_any_transaction():
        return _transfer(**kwargs, commit=True)
    with transaction.atomic(durable=True):
        return _transfer(**kwargs, commit=False)


def transfer_post_in_transaction(*, actor, from_account: str, to_account: str, amount: Money,
                                 description: str = "", idempotency_claim=None) -> LedgerTransaction:
    """:func:`transfer_post` inside the caller's transaction (a desk request that moves
    money as part of its fulfilment: an initial deposit, a balance moved out to close). A
    claim given here is recorded by the posting statement; the caller must not also
    ``begin``/``finish`` it."""
    _in_transaction("transfer_post_in_transaction")
    return _transfer(actor=actor, from_account=from_account, to_account=to_account, amount=amount,
                     description=description, idempotency_claim=idempotency_claim, commit=False)


def _transfer(*, actor, from_account: str, to_account: str, amount: Money, description: str, idempotency_claim,
              commit: bool) -> LedgerTransaction:
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    # the check digits accept a number typed in groups ("0001 0000 0114"); the ledger knows it without spaces
    from_account, to_account = str(from_account).replace(" ", ""), str(to_account).replace(" ", "")
    if from_account == to_account:
        raise ApplicationError(_("Choose two different accounts."), code="SAME_ACCOUNT", field="to_account")
    profile = require_perm(actor, Perm.POST_TRANSFER)
    numbers = {"from_account": from_account, "to_account": to_account}
    _check_account_numbers(numbers)

    def explain(locked: dict[int, LedgerAccount]) -> None:  # why the statement refused, by field
        found = _found_by_field(numbers, locked)
        if found["from_account"].currency_id != found["to_account"].currency_id:
            raise LedgerError(_("Both accounts must be in the same currency; use a currency exchange."),
                              code="CURRENCY_MISMATCH", field="to_account")

    details = {"from": from_account, "to": to_account, **amount.as_dict()}
    # the accounts are looked up, locked and written by number, in one round trip (ledger_post)
    tx = ledger_post(
        kind="transfer", actor=actor, branch=profile.branch, description=description,
        lines=[Line(from_account, DEBIT, amount), Line(to_account, CREDIT, amount)],
        metadata=details, explain=explain,
        with_rows=lambda tx: [
            event_row(event_type="transfer.posted", aggregate=tx, branch=profile.branch,
                      payload={**details, "description": description}),
            audit_event_row(actor=actor, action="transfer.posted", obj=tx,
                            customer_ref=customer_number_of(from_account), after=details),
            *idempotency.record_rows(idempotency_claim, tx),
        ],
        commit=commit,
    )
    return tx


def register_approval_kinds() -> None:
    for code, label, approved, rejected in [
        (ACCOUNT_OPEN, gettext_lazy("Account opening"), _on_open_approved, _on_open_rejected),
        (ACCOUNT_FREEZE, gettext_lazy("Account freeze"), _on_freeze_approved, None),
        (ACCOUNT_UNFREEZE, gettext_lazy("Account unfreeze"), _on_unfreeze_approved, None),
        (ACCOUNT_CLOSE, gettext_lazy("Account closing"), _on_close_approved, None),
    ]:
        approval_kind_register(ApprovalKind(code=code, label=label, decide_perm=Perm.DECIDE_FOUR_EYES,
                                            on_approved=approved, on_rejected=rejected,
                                            describe=approval_describe_accounts))



SIGNATURE_MAX_BYTES = 200 * 1024
_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def specimen_signature_capture(*, actor, customer_number: str, image: bytes, idempotency_claim=None):
    """Keep a customer's specimen signature (PNG or JPEG, at most 200 KB) for tellers to
    compare at withdrawals."""
    specimen_signature_check(image)
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        require_perm(actor, Perm.MANAGE_CUSTOMER)
        customer = Customer.objects.filter(number=customer_number).first()
        if customer is None:
            raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND")
        signature = specimen_signature_store(actor=actor, customer=customer, image=image)
        idempotency.finish(idempotency_claim, signature)
    return signature


def specimen_signature_check(image: bytes) -> str:
    """The image's content type, or a coded error if it is not a PNG or JPEG of at most 200 KB."""
    content_type = next((ct for magic, ct in _IMAGE_MAGIC.items() if image.startswith(magic)), None)
    if content_type is None:
        raise ApplicationError(_("Upload the signature as a PNG or JPEG image."), code="INVALID_IMAGE",
                               field="image")
    if len(image) > SIGNATURE_MAX_BYTES:
        raise ApplicationError(_("The image is too large (200 KB at most)."), code="IMAGE_TOO_LARGE", field="image")
    return content_type


def specimen_signature_store(*, actor, customer: Customer, image: bytes):
    """Store a checked specimen signature inside the caller's transaction (the desk's
    account opening captures it with the request), with its audit event."""
    from accounts.models import SpecimenSignature

    _in_transaction("specimen_signature_store")
    content_type = specimen_signature_check(image)
    signature = SpecimenSignature.objects.create(customer=customer, image=image, content_type=content_type,
                                                 captured_by=actor)
    audit_event_write(actor=actor, action="customer.signature_captured", obj=customer,
                      customer_ref=customer.number, after={"bytes": len(image), "type": content_type})
    return signature
