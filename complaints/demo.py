"""Demo data of complaints: one in every state, some near their deadlines and some past
them. Complaints are logged through the real services; to show clocks that have run, the
demo then moves a few complaints' receipt (and clocks) back in time — something no
service allows — and lets the clock worker record the breaches."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import BankAccount
from branch_ops.money import Money
from complaints.models import Category, Complaint, Deadline, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import (
    complaint_acknowledge,
    complaint_close,
    complaint_decide,
    complaint_follow_up,
    complaint_log,
    complaint_note,
    complaint_redress,
    deadlines_for,
    deadlines_sweep,
)


def _age(complaint: Complaint, days: int) -> None:
    """Demo only: pretend the complaint arrived ``days`` ago."""
    from branch_ops.business_days import branch_calendar

    received = complaint.received_at - dt.timedelta(days=days)
    Complaint.objects.filter(pk=complaint.pk).update(received_at=received)
    for kind, due in deadlines_for(complaint.regime, branch_calendar(complaint.branch), received).items():
        Deadline.objects.filter(complaint=complaint, kind=kind).update(due_at=due, started_at=received)


def seed_complaints_demo(branch, users: dict) -> None:
    complaints_reference_load(Regime, Category)
    csr, coord = users["csr"], users["coord"]
    accounts = list(BankAccount.objects.filter(branch=branch, status="active", currency_id=branch.currency_id)
                    .select_related("customer").order_by("number"))
    if not accounts:
        return
    a = accounts[0]
    currency = branch.currency_id

    def log(category, text, actor=csr, amount=0):
        return complaint_log(actor=actor, channel="branch", category=category, description=text,
                             customer_number=a.customer.number, account_number=a.number,
                             amount_disputed=Money(amount, currency) if amount else None)

    log("accounts.service", "Waited 40 minutes at the window.")
    acknowledged = log("cards.disputed", "A card payment I did not make.", amount=25_000)
    complaint_acknowledge(actor=csr, number=acknowledged.number)
    investigating = log("payments.delayed", "My transfer has not arrived after a week.", actor=coord)
    complaint_acknowledge(actor=coord, number=investigating.number)
    complaint_note(actor=coord, number=investigating.number, text="Asked the correspondent bank.")
    done = log("accounts.charges", "Charged twice for a paper statement.", amount=1_000)
    complaint_acknowledge(actor=csr, number=done.number)
    complaint_decide(actor=csr, number=done.number, decision="upheld", reason="The fee was taken twice.")
    complaint_redress(actor=csr, number=done.number, amount=Money(1_000, currency))
    complaint_close(actor=csr, number=done.number, final_response="We have refunded the second fee.")
    complaint_follow_up(actor=csr, number=done.number, satisfaction=5, comment="Quick and polite.")
    rejected = log("cash.shortfall", "I counted 50 less than the receipt.", amount=5_000)
    complaint_decide(actor=csr, number=rejected.number, decision="rejected",
                     reason="The drawer balanced; the video shows the full count.")
    # clocks that have run: one near its final deadline, one past its acknowledgement and summary
    near = log("payments.delayed", "Standing order not paid.")
    _age(near, 18)
    late = log("loans", "No answer about my loan application.")
    _age(late, 10)
    deadlines_sweep(now=timezone.now())
