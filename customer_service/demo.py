"""Demo data of the service desk: requests of every kind in several states, through the
real services, so that each branch's queues, the approval inbox and the customer pages
have something to show."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import BankAccount
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval
from customer_service.models import Card
from customer_service.services import (
    cheque_book_advance,
    request_claim,
    request_create,
    request_fulfil,
    request_start,
)


def seed_desk_demo(branch, users: dict) -> None:
    csr, coord, sup = users["csr"], users["coord"], users["super"]
    accounts = list(BankAccount.objects.filter(branch=branch, status="active", currency_id=branch.currency_id)
                    .select_related("customer").order_by("number"))
    if len(accounts) < 2:
        return
    a, b = accounts[0], accounts[1]

    def new(kind, account, data=None, **kw):
        return request_create(actor=csr, kind=kind, customer_number=account.customer.number,
                              account_number=account.number, data=data or {}, **kw)

    # a card issued, then one blocked for loss and waiting to be unblocked
    issue = new("card_issue", a)
    request_claim(actor=csr, number=issue.number)
    request_fulfil(actor=csr, number=issue.number, data={"masked_pan": "411111******1111"})
    card = Card.objects.filter(account=a).first()
    new("card_block", a, {"card": str(card.public_id), "reason": "lost"})
    new("card_unblock", a, {"card": str(card.public_id)})
    new("pin_reset", a, {"card": str(card.public_id)})
    # a card order still open in the queue, one taken and in progress
    new("card_issue", b)
    started = new("card_issue", b)
    request_claim(actor=coord, number=started.number)
    request_start(actor=coord, number=started.number)
    # cheque books: one on its way, one delivered
    on_way = new("cheque_book", a, {"leaves": 25})
    cheque_book_advance(actor=csr, number=on_way.number)
    done = new("cheque_book", b, {"leaves": 50})
    for _step in range(2):
        cheque_book_advance(actor=csr, number=done.number)
    cheque_book_advance(actor=csr, number=done.number, document="P-DEMO-2")
    new("cheque_stop", b, {"first_number": 100010, "last_number": 100012, "reason": "lost in the post"})
    # a loan application in the credit queue, an inquiry, a statement, a draft
    new("loan_intake", a, {"product": "personal", "amount": 5_000_000, "term_months": 24, "purpose": "home repairs",
                           "monthly_income": 2_000_000, "monthly_obligations": 300_000,
                           "documents": {"identity_document": True, "salary_certificate": True}})
    new("inquiry", b, {"topic": "charges", "question": "Why was I charged for a statement?",
                       "answer": "Paper statements cost 10; electronic ones are free."})
    today = timezone.localdate()
    new("statement", a, {"start": str(today.replace(day=1)), "end": str(today)})
    new("inquiry", a, {"topic": "products", "question": "Do you have a savings account for children?"},
        submit=False)
    # account updates: one waiting for a coordinator, one approved, one rejected
    new("account_update", a, {"phone": "+971501112233"})
    approved = new("account_update", b, {"email": "new.address@example.com"})
    approval_decide(approval_id=Approval.objects.get(subject_id=str(approved.public_id)).public_id, actor=coord,
                    approve=True, reason="identity checked at the desk")
    rejected = new("account_update", b, {"phone": "+971509998877"})
    approval_decide(approval_id=Approval.objects.get(subject_id=str(rejected.public_id)).public_id, actor=sup,
                    approve=False, reason="the customer was not present")
    # account opening and closing: an opening (with a deposit by transfer) waiting for a
    # supervisor, one approved whose cash deposit the teller is to take, and an empty account
    # opened at the desk whose closing waits for approval
    def opening(account, **data):
        return request_create(actor=csr, kind="account_open", customer_number=account.customer.number, data={
            "identity_verified": True, "document_seen": "passport (demo)", "product": "savings",
            "currency": branch.currency_id, "signature": DEMO_SIGNATURE, **data})

    opening(a, initial_deposit={"amount": 10_000, "source": "transfer", "from_account": a.number})
    cash = opening(b, initial_deposit={"amount": 50_000, "source": "cash"})
    approval_decide(approval_id=Approval.objects.get(subject_id=str(cash.public_id)).public_id, actor=sup,
                    approve=True, reason="documents complete")
    empty = opening(b, product="current")
    approval_decide(approval_id=Approval.objects.get(subject_id=str(empty.public_id)).public_id, actor=sup,
                    approve=True, reason="documents complete")
    empty.refresh_from_db()
    request_create(actor=csr, kind="account_close", customer_number=b.customer.number,
                   account_number=empty.account.number, data={"reason": "opened by mistake"})


#: a 1×1 transparent PNG standing for a scanned signature
DEMO_SIGNATURE = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

