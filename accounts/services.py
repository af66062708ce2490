"""Accounts services. For now: asking for an account to be opened, which a supervisor
approves through the four-eyes mechanism (the ledger and the rest come with the accounts
issue)."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BankAccount, Customer
from accounts.numbers import account_number_from_serial
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.models import Currency
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm

ACCOUNT_OPEN = "account.open"


def _next_account_number() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('accounts_account_serial')")
        (serial,) = cur.fetchone()
    return account_number_from_serial(serial)


def account_open_request(*, actor, customer_number: str, product: str, currency: str, reason: str = "",
                         idempotency_claim=None) -> BankAccount:
    """A CSR asks for an account for an existing customer; it stays ``pending`` until a
    supervisor approves the opening."""
    if product not in BankAccount.Product.values:
        raise ApplicationError(_("Unknown product."), code="UNKNOWN_PRODUCT", field="product")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.MANAGE_CUSTOMER)
        cur = Currency.objects.filter(code=currency, active=True).first()
        if cur is None:
            raise ApplicationError(_("Unknown currency “%(code)s”.") % {"code": currency},
                                   code="UNKNOWN_CURRENCY", field="currency")
        customer = Customer.objects.filter(number=customer_number).first()
        if customer is None:
            raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND", field="customer_number")
        account = BankAccount.objects.create(
            number=_next_account_number(), customer=customer, product=product, currency=cur,
            branch=profile.branch, status=BankAccount.Status.PENDING,
        )
        approval_request(
            kind=ACCOUNT_OPEN, branch=profile.branch, subject=account, actor=actor, reason=reason,
            summary={"account": account.number, "customer": customer.number, "customer_name": customer.full_name,
                     "product": product, "currency": currency},
        )
        audit_event_write(actor=actor, action="account.open_requested", obj=account, customer_ref=customer.number,
                          after={"number": account.number, "product": product, "currency": currency})
        idempotency.finish(idempotency_claim, account)
    return account


def _on_open_approved(approval, actor) -> None:
    account = BankAccount.objects.select_for_update(no_key=True, of=("self",)).get(public_id=approval.subject_id)
    account.status = BankAccount.Status.ACTIVE
    account.save(update_fields=["status"])
    audit_event_write(actor=actor, action="account.opened", obj=account, customer_ref=account.customer.number,
                      before={"status": "pending"}, after={"status": "active"})
    event_publish(event_type="account.opened", aggregate=account, branch=account.branch,
                  payload={"number": account.number, "currency": account.currency_id,
                           "customer": account.customer.number, "product": account.product})


def _on_open_rejected(approval, actor) -> None:
    account = BankAccount.objects.select_for_update(no_key=True, of=("self",)).get(public_id=approval.subject_id)
    account.status = BankAccount.Status.CLOSED
    account.save(update_fields=["status"])
    audit_event_write(actor=actor, action="account.open_refused", obj=account, customer_ref=account.customer.number,
                      before={"status": "pending"}, after={"status": "closed"})


def register_approval_kinds() -> None:
    approval_kind_register(ApprovalKind(
        code=ACCOUNT_OPEN, label=gettext_lazy("Account opening"), decide_perm=Perm.DECIDE_FOUR_EYES,
        on_approved=_on_open_approved, on_rejected=_on_open_rejected,
    ))
