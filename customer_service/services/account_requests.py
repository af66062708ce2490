"""Account opening and account closing as desk requests.

Both are kinds of the one request state machine, approved by four eyes through the
request's own approval (``cs.request.four_eyes``); the account itself is always changed by
the accounts services, called inside the request's transaction:

- **opening**: taking the request checks identity (verified, document seen), product,
  currency, the specimen signature (captured with the request, or one already on file) and
  the initial deposit instruction; submitting it creates the ``pending`` account
  (:func:`accounts.services.account_open_pending`); approval activates it
  (:func:`accounts.services.account_activate`), refusal or withdrawal closes it unused
  (:func:`accounts.services.account_open_refuse`). With an initial deposit the request stays
  ``approved`` until the CSR fulfils it: a transfer from another account of the customer is
  posted then (:func:`accounts.services.transfer_post_in_transaction`); a cash deposit is an
  instruction on the request for the teller.
- **closing**: only an account of the actor's branch, active or dormant, with no pending
  hold; a balance other than zero needs another account of the same customer and currency
  to move it to (or the cash paid out at the window first). Approval records the decision;
  fulfilment moves the balance and closes the account
  (:func:`accounts.services.account_close_apply`, which checks again under the ledger lock).

Everything here runs inside the calling service's transaction.
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

from accounts.models import AccountHolder, BankAccount, Customer, LedgerAccount, SpecimenSignature
from accounts.services import (
    account_activate,
    account_by_number,
    account_closable_check,
    account_close_apply,
    account_open_pending,
    account_open_refuse,
    customer_register_in_transaction,
    specimen_signature_store,
    transfer_post_in_transaction,
)
from branch_ops.errors import ApplicationError, Conflict
from branch_ops.models import Currency
from branch_ops.money import Money
from customer_service.models import OPEN_STATUSES, RequestKind, ServiceRequest

ACCOUNT_KINDS = (RequestKind.ACCOUNT_OPEN, RequestKind.ACCOUNT_CLOSE)
DEPOSIT_SOURCES = ("cash", "transfer")
NEW_CUSTOMER_DATES = ("date_of_birth", "document_expiry")


class AccountRequestError(ApplicationError):
    status_code = 400


# --- taking the request ---------------------------------------------------------------------------------

def new_customer(*, actor, branch, data) -> Customer:
    """Register the new customer an opening is for (KYC data as the accounts service checks it)."""
    import datetime as dt

    if not isinstance(data, dict):
        raise AccountRequestError(_("Give the new customer's details."), code="INVALID_CUSTOMER", field="new_customer")
    clean = dict(data)
    for name in NEW_CUSTOMER_DATES:
        if isinstance(clean.get(name), str):
            try:
                clean[name] = dt.date.fromisoformat(clean[name]) if clean[name] else None
            except ValueError:
                raise AccountRequestError(_("Give dates as YYYY-MM-DD."), code="INVALID_DATE", field=name) from None
    return customer_register_in_transaction(actor=actor, branch=branch, data=clean)


def signature_bytes(value) -> bytes | None:
    """The specimen signature sent with an opening: bytes (the screen's upload) or base64
    text (the API); None when none was sent."""
    if value in (None, "", b""):
        return None
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise AccountRequestError(_("Upload the signature as a PNG or JPEG image."), code="INVALID_IMAGE",
                                  field="signature") from None


def _holds(customer: Customer, account: BankAccount) -> bool:
    return AccountHolder.objects.filter(account=account, customer=customer).exists()


def _own_account(customer: Customer, number: str, *, currency: str, field: str) -> BankAccount:
    """Another active account of the customer in ``currency`` (money source or destination)."""
    try:
        account = account_by_number(number)
    except ApplicationError as exc:
        exc.field = field
        raise
    if not _holds(customer, account) or account.currency_id != currency or account.status != "active":
        raise AccountRequestError(
            _("Choose an active account of the same customer in %(currency)s.") % {"currency": currency},
            code="INVALID_COUNTERPART_ACCOUNT", field=field)
    return account


def prepare_open(*, customer: Customer, data: dict, signature: bytes | None) -> dict:
    """Check an opening before anything is written; the request's data."""
    if customer.status != Customer.Status.ACTIVE:
        raise Conflict(_("This customer cannot open accounts (status: %(status)s).")
                       % {"status": customer.get_status_display()}, code="CUSTOMER_NOT_ACTIVE")
    if data.get("identity_verified") is not True:
        raise AccountRequestError(_("Verify the customer's identity first."), code="IDENTITY_NOT_VERIFIED",
                                  field="identity_verified")
    document = str(data.get("document_seen") or "").strip()
    if not document:
        raise AccountRequestError(_("Record the identity document you saw (type and number)."),
                                  code="DOCUMENT_NOT_SEEN", field="document_seen")
    product = data.get("product")
    if product not in BankAccount.Product.values:
        raise AccountRequestError(_("Unknown product."), code="UNKNOWN_PRODUCT", field="product")
    currency = str(data.get("currency") or "").upper()
    if not Currency.objects.filter(code=currency, active=True).exists():
        raise AccountRequestError(_("Unknown currency “%(code)s”.") % {"code": currency}, code="UNKNOWN_CURRENCY",
                                  field="currency")
    if signature is None and not SpecimenSignature.objects.filter(customer=customer).exists():
        raise AccountRequestError(_("Capture the customer's specimen signature."), code="SIGNATURE_REQUIRED",
                                  field="signature")
    deposit = data.get("initial_deposit") or {}
    if not isinstance(deposit, dict):
        raise AccountRequestError(_("Give the initial deposit as an amount and its source."),
                                  code="INVALID_DEPOSIT", field="initial_deposit")
    amount = deposit.get("amount", 0) or 0
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise AccountRequestError(_("Give the initial deposit in whole minor units (zero for none)."),
                                  code="INVALID_DEPOSIT", field="deposit_amount")
    clean_deposit = None
    if amount:
        source = deposit.get("source")
        if source not in DEPOSIT_SOURCES:
            raise AccountRequestError(_("Say where the initial deposit comes from: cash at the window or a transfer."),
                                      code="INVALID_DEPOSIT_SOURCE", field="deposit_source")
        clean_deposit = {"amount": amount, "currency": currency, "source": source, "from_account": None}
        if source == "transfer":
            source_account = _own_account(customer, str(deposit.get("from_account") or ""), currency=currency,
                                          field="deposit_from_account")
            clean_deposit["from_account"] = source_account.number
    return {"identity_verified": True, "document_seen": document[:80], "product": product, "currency": currency,
            "initial_deposit": clean_deposit, "signature": "captured" if signature else "on_file"}


def capture_signature(*, actor, request: ServiceRequest, signature: bytes | None) -> None:
    """Store the signature sent with the opening (its audit event says when and by whom)."""
    if signature is not None:
        specimen_signature_store(actor=actor, customer=request.customer, image=signature)


def prepare_close(*, branch, customer: Customer, account: BankAccount, data: dict) -> dict:
    """Check a closing before anything is written; the request's data."""
    account = BankAccount.objects.select_for_update(no_key=True, of=("self",)).get(pk=account.pk)
    if account.branch_id != branch.pk:
        raise Conflict(_("This account is kept at another branch: it is closed there."),
                       code="ACCOUNT_OTHER_BRANCH", field="account_number")
    if account.status not in (BankAccount.Status.ACTIVE, BankAccount.Status.DORMANT):
        raise Conflict(_("Not possible while the account is %(status)s.") % {"status": account.get_status_display()},
                       code="INVALID_ACCOUNT_STATUS", field="account_number")
    if ServiceRequest.objects.filter(kind=RequestKind.ACCOUNT_CLOSE, account=account,
                                     status__in=OPEN_STATUSES).exists():
        raise Conflict(_("A request of this kind is already waiting for this account."),
                       code="REQUEST_ALREADY_PENDING")
    transfer_to = str(data.get("transfer_to") or "").strip()
    ledger = LedgerAccount.objects.get(pk=account.ledger_id)
    if not transfer_to or ledger.balance < 0:
        account_closable_check(account)  # BALANCE_NOT_ZERO / PENDING_HOLDS, as the accounts service says them
    elif ledger.pending_debits:
        raise Conflict(_("The account has pending holds."), code="PENDING_HOLDS")
    if transfer_to:
        if transfer_to == account.number:
            raise AccountRequestError(_("Choose two different accounts."), code="SAME_ACCOUNT", field="transfer_to")
        transfer_to = _own_account(customer, transfer_to, currency=account.currency_id, field="transfer_to").number
    return {"transfer_to": transfer_to or None, "reason": str(data.get("reason") or "").strip()[:500],
            "balance_at_request": ledger.balance}


# --- the request's life -------------------------------------------------------------------------------

def on_submit(*, actor, request: ServiceRequest) -> None:
    """Submitting an opening creates the pending account the approval will activate."""
    if request.kind == RequestKind.ACCOUNT_OPEN and request.account_id is None:
        account = account_open_pending(actor=actor, branch=request.branch, customer=request.customer,
                                       product=request.data["product"], currency=request.data["currency"])
        request.account = account
        request.save(update_fields=["account"])


def summary(request: ServiceRequest) -> dict:
    data = request.data
    if request.kind == RequestKind.ACCOUNT_OPEN:
        deposit = data.get("initial_deposit")
        return {"product": data["product"], "currency": data["currency"], "document seen": data["document_seen"],
                "initial deposit": (f"{Money(deposit['amount'], deposit['currency']).format()} ({deposit['source']})"
                                    if deposit else "—")}
    return {"balance": Money(data["balance_at_request"], request.account.currency_id).format(),
            "transfer to": data.get("transfer_to") or "—", "reason": data.get("reason", "")}


def on_approved(*, actor, request: ServiceRequest) -> bool:
    """Apply an approval; True when the request is complete, False when it waits for the
    CSR's fulfilment (an initial deposit, a closing)."""
    if request.kind == RequestKind.ACCOUNT_OPEN:
        account_activate(account_id=str(request.account.public_id), actor=actor)
        return not request.data.get("initial_deposit")
    return False


def on_refused(*, actor, request: ServiceRequest) -> None:
    """Refused or withdrawn before approval: a pending account is closed unused."""
    if request.kind == RequestKind.ACCOUNT_OPEN and request.account_id:
        account_open_refuse(account_id=str(request.account.public_id), actor=actor)


def fulfil(*, actor, request: ServiceRequest) -> None:
    """The CSR's part after approval: the initial deposit, or the balance moved out and the
    account closed."""
    if request.status not in ("approved", "in_progress"):
        raise Conflict(_("This request must be approved first."), code="NOT_APPROVED")
    data = dict(request.data)
    if request.kind == RequestKind.ACCOUNT_OPEN:
        deposit = data.get("initial_deposit")
        if deposit and deposit["source"] == "transfer":
            tx = transfer_post_in_transaction(
                actor=actor, from_account=deposit["from_account"], to_account=request.account.number,
                amount=Money(deposit["amount"], deposit["currency"]),
                description=_("Initial deposit, request %(number)s") % {"number": request.number})
            data["deposit_transaction"] = str(tx.public_id)
        elif deposit:
            data["cash_deposit_due"] = True  # the teller takes it at the window
    else:
        ledger = LedgerAccount.objects.get(pk=request.account.ledger_id)
        if ledger.balance > 0 and data.get("transfer_to"):
            tx = transfer_post_in_transaction(
                actor=actor, from_account=request.account.number, to_account=data["transfer_to"],
                amount=Money(ledger.balance, request.account.currency_id),
                description=_("Balance moved out to close, request %(number)s") % {"number": request.number})
            data["closing_transaction"] = str(tx.public_id)
            data["moved_out"] = ledger.balance
        account_close_apply(account_id=str(request.account.public_id), actor=actor)
    request.data = data
    request.save(update_fields=["data"])
