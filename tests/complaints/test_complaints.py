import datetime as dt
import zoneinfo
from unittest import mock

import pytest
from django.utils import timezone

from accounts.ledger import ledger_verify
from accounts.models import LedgerAccount, LedgerTransaction
from branch_ops.approvals import approval_decide
from branch_ops.business_days import Calendar
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval, AuditEvent, Holiday
from branch_ops.money import Money
from complaints.models import Category, Complaint, Deadline, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import (
    clock_colour,
    complaint_acknowledge,
    complaint_close,
    complaint_decide,
    complaint_extend,
    complaint_follow_up,
    complaint_handover,
    complaint_log,
    complaint_note,
    complaint_redress,
    complaint_reopen,
    deadlines_for,
    deadlines_sweep,
)
from tests.accounts.conftest import fund, open_account

DUBAI = zoneinfo.ZoneInfo("Asia/Dubai")
ROME = zoneinfo.ZoneInfo("Europe/Rome")


@pytest.fixture(autouse=True)
def reference(db):
    complaints_reference_load(Regime, Category)


def _at(year, month, day, hour, zone):
    return dt.datetime(year, month, day, hour, 0, tzinfo=zone)


# --- deadline arithmetic with a fixed clock, two calendars ---------------------------------------------------

def test_summary_deadline_skips_a_saturday_sunday_weekend_and_a_holiday():
    rome = Calendar(zone=ROME, weekend=frozenset({5, 6}), holidays=frozenset({dt.date(2026, 12, 8)}))
    regime = Regime(code="x", name="x", ack_business_days=1, summary_business_days=3, final_weeks=8)
    received = _at(2026, 12, 4, 16, ROME)  # Friday; Monday 7th, (Tuesday 8th holiday), Wed 9th, Thu 10th
    due = deadlines_for(regime, rome, received)
    assert due["ack"].astimezone(ROME).date() == dt.date(2026, 12, 7)
    assert due["summary"].astimezone(ROME).date() == dt.date(2026, 12, 10)
    assert due["summary"].astimezone(ROME).time() == dt.time(23, 59, 59, 999999)
    assert due["final"].astimezone(ROME).date() == dt.date(2027, 1, 29)  # 8 weeks


def test_summary_deadline_skips_a_friday_saturday_weekend():
    dubai = Calendar(zone=DUBAI, weekend=frozenset({4, 5}), holidays=frozenset())
    regime = Regime(code="p", name="p", ack_business_days=1, summary_business_days=3, final_business_days=15,
                    extended_final_business_days=35)
    received = _at(2026, 11, 26, 10, DUBAI)  # Thursday; Sun 29, Mon 30, Tue 1 Dec
    due = deadlines_for(regime, dubai, received)
    assert due["ack"].astimezone(DUBAI).date() == dt.date(2026, 11, 29)
    assert due["summary"].astimezone(DUBAI).date() == dt.date(2026, 12, 1)
    assert due["final"].astimezone(DUBAI).date() == dt.date(2026, 12, 17)  # 15 business days, Sun–Thu
    assert deadlines_for(regime, dubai, received, extended=True)["final"].astimezone(DUBAI).date() == dt.date(
        2027, 1, 14)


# --- the workflow ---------------------------------------------------------------------------------------------

@pytest.fixture
def funded(staff):
    return fund(open_account(staff["csr"], staff["supervisor"]), 100_000)


def _log(staff, account, *, category="accounts.charges", amount=20_000, actor="csr"):
    return complaint_log(actor=staff[actor], channel="branch", category=category,
                         description="Charged twice for a statement", customer_number=account.customer.number,
                         account_number=account.number, amount_disputed=Money(amount, "AED"))


def test_a_complaint_without_a_category_or_description_is_refused(staff, funded):
    for kwargs, code in [({"category": "", "description": "x"}, "CATEGORY_REQUIRED"),
                         ({"category": "cards", "description": "  "}, "DESCRIPTION_REQUIRED")]:
        with pytest.raises(ApplicationError) as err:
            complaint_log(actor=staff["csr"], channel="branch", customer_number=funded.customer.number, **kwargs)
        assert err.value.code == code
    assert not Complaint.objects.exists()


def test_backdating_is_refused(staff, funded):
    with pytest.raises(ApplicationError) as err:
        complaint_log(actor=staff["csr"], channel="letter", category="cash", description="x",
                      customer_number=funded.customer.number, received_at=timezone.now() - dt.timedelta(days=3))
    assert err.value.code == "BACKDATING_REFUSED"


def test_the_full_path_from_logging_to_follow_up(staff, funded):
    complaint = _log(staff, funded)
    assert complaint.owner == staff["csr"]
    assert set(complaint.deadlines.values_list("kind", flat=True)) == {"ack", "summary", "final"}
    complaint_acknowledge(actor=staff["csr"], number=complaint.number)
    complaint_note(actor=staff["csr"], number=complaint.number, text="Checked: fee taken twice.")
    with pytest.raises(ApplicationError) as err:
        complaint_close(actor=staff["csr"], number=complaint.number, final_response="Sorry")
    assert err.value.code == "NO_DECISION"
    complaint_decide(actor=staff["csr"], number=complaint.number, decision="upheld", reason="double charge")
    with pytest.raises(ApplicationError) as err:
        complaint_follow_up(actor=staff["csr"], number=complaint.number, satisfaction=4)
    assert err.value.code == "NOT_CLOSED"
    complaint_redress(actor=staff["csr"], number=complaint.number, amount=Money(20_000, "AED"))
    complaint_close(actor=staff["csr"], number=complaint.number, final_response="We refunded the fee.")
    complaint_follow_up(actor=staff["csr"], number=complaint.number, satisfaction=4, comment="quick")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.redress_paid, complaint.satisfaction) == ("closed", 20_000, 4)
    assert all(d.met_at for d in complaint.deadlines.all())
    assert LedgerAccount.objects.get(pk=funded.ledger_id).balance == 120_000
    assert ledger_verify().ok
    complaint_reopen(actor=staff["csr"], number=complaint.number, reason="the fee was charged again")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.reopened_count) == ("investigating", 1)


def test_redress_over_the_threshold_waits_for_a_supervisor_and_posts_a_balanced_transaction(staff, funded):
    complaint = _log(staff, funded, amount=500_000)
    complaint_decide(actor=staff["csr"], number=complaint.number, decision="upheld", reason="ok")
    complaint_redress(actor=staff["csr"], number=complaint.number, amount=Money(150_000, "AED"), reason="")
    assert LedgerAccount.objects.get(pk=funded.ledger_id).balance == 100_000  # nothing yet
    approval = Approval.objects.get(kind="complaints.redress")
    approval_decide(approval_id=approval.public_id, actor=staff["supervisor"], approve=True, reason="fair")
    assert LedgerAccount.objects.get(pk=funded.ledger_id).balance == 250_000
    tx = LedgerTransaction.objects.get(kind="redress")
    assert {(e.side, e.amount) for e in tx.entries.all()} == {("D", 150_000), ("C", 150_000)}
    assert ledger_verify().ok


def test_redress_over_the_disputed_amount_needs_a_reason_and_a_closed_account_is_refused(staff, funded):
    complaint = _log(staff, funded, amount=10_000)
    complaint_decide(actor=staff["csr"], number=complaint.number, decision="partly_upheld", reason="ok")
    with pytest.raises(ApplicationError) as err:
        complaint_redress(actor=staff["csr"], number=complaint.number, amount=Money(15_000, "AED"))
    assert err.value.code == "REASON_REQUIRED"
    from accounts.models import BankAccount

    BankAccount.objects.filter(pk=funded.pk).update(status="closed")
    with pytest.raises(ApplicationError) as err:
        complaint_redress(actor=staff["csr"], number=complaint.number, amount=Money(5_000, "AED"))
    assert err.value.code == "ACCOUNT_CLOSED"


@pytest.mark.parametrize(("actor", "allowed"), [("csr", True), ("supervisor", True), ("coordinator", False),
                                                ("teller", False)])
def test_only_the_owner_or_a_supervisor_acts_on_a_complaint(staff, funded, actor, allowed):
    complaint = _log(staff, funded)
    if allowed:
        complaint_note(actor=staff[actor], number=complaint.number, text="looked")
    else:
        with pytest.raises(ApplicationError) as err:
            complaint_note(actor=staff[actor], number=complaint.number, text="looked")
        assert err.value.code in {"NOT_COMPLAINT_OWNER", "ROLE_NOT_ALLOWED"}


def test_handover_moves_ownership(staff, funded):
    complaint = _log(staff, funded)
    complaint_handover(actor=staff["csr"], number=complaint.number, to_username="coordinator.dxb")
    complaint_note(actor=staff["coordinator"], number=complaint.number, text="mine now")
    with pytest.raises(ApplicationError):
        complaint_note(actor=staff["csr"], number=complaint.number, text="not mine any more")


def test_the_worker_records_a_breach_at_the_deadline(staff, funded):
    complaint = _log(staff, funded)
    ack = complaint.deadlines.get(kind="ack")
    assert deadlines_sweep(now=ack.due_at - dt.timedelta(seconds=1))["breached"] == 0
    assert deadlines_sweep(now=ack.due_at + dt.timedelta(minutes=7))["breached"] == 1
    ack.refresh_from_db()
    assert ack.breached_at == ack.due_at  # when it happened, not when the worker looked
    assert clock_colour(ack, complaint.regime) == "red"
    assert AuditEvent.objects.filter(action="complaint.deadline_breached").count() == 1
    assert deadlines_sweep(now=ack.due_at + dt.timedelta(hours=1))["breached"] == 0  # once


def test_automatic_escalation_near_the_final_deadline(staff, funded):
    complaint = _log(staff, funded)
    final = complaint.deadlines.get(kind="final")
    near = final.started_at + (final.due_at - final.started_at) * 0.85
    with mock.patch("django.utils.timezone.now", return_value=near):
        result = deadlines_sweep(now=near)
    complaint.refresh_from_db()
    assert complaint.escalated
    assert result["escalated"] == 1


def test_extension_is_a_supervisors_recorded_decision_for_payment_services(staff, funded):
    complaint = _log(staff, funded, category="payments.delayed")
    before = complaint.deadlines.get(kind="final").due_at
    with pytest.raises(ApplicationError):
        complaint_extend(actor=staff["csr"], number=complaint.number, reason="complex")
    complaint_extend(actor=staff["supervisor"], number=complaint.number, reason="waiting for the other bank")
    assert complaint.deadlines.get(kind="final").due_at > before
    standard = _log(staff, funded)
    with pytest.raises(ApplicationError) as err:
        complaint_extend(actor=staff["supervisor"], number=standard.number, reason="x")
    assert err.value.code == "EXTENSION_NOT_ALLOWED"


def test_deadlines_use_the_branch_calendar(staff, funded, branch):
    branch.weekend_days = [4, 5]
    branch.save()
    today = timezone.now().astimezone(DUBAI).date()
    Holiday.objects.create(branch=branch, date=today + dt.timedelta(days=1), name="test holiday")
    complaint = _log(staff, funded)
    ack = complaint.deadlines.get(kind="ack").due_at.astimezone(DUBAI).date()
    assert ack != today + dt.timedelta(days=1)
    assert ack.weekday() not in (4, 5)
    assert Deadline.objects.filter(complaint=complaint).count() == 3


def test_report_figures_equal_a_count_made_by_hand(staff, funded):
    from complaints.selectors import complaint_report, complaint_report_csv

    made = [_log(staff, funded) for _ in range(4)]
    for c, decision in zip(made[:3], ["upheld", "rejected", "partly_upheld"], strict=True):
        complaint_decide(actor=staff["csr"], number=c.number, decision=decision, reason="r")
        complaint_close(actor=staff["csr"], number=c.number, final_response="done")
    today = timezone.now().astimezone(DUBAI).date()
    report = complaint_report(actor=staff["supervisor"], start=today, end=today)
    rows = list(Complaint.objects.all())
    closed = [c for c in rows if c.status == "closed"]
    assert report.received == len(rows) == 4
    assert report.closed == len(closed) == 3
    assert report.upheld == sum(1 for c in closed if c.decision in ("upheld", "partly_upheld")) == 2
    assert report.upheld_rate == round(2 / 3, 4)
    assert report.by_category == {"accounts.charges": {"received": 4, "closed": 3, "upheld": 2}}
    assert "accounts.charges" in complaint_report_csv(report)
    with pytest.raises(ApplicationError):
        complaint_report(actor=staff["csr"], start=today, end=today)


def test_a_csr_sees_only_their_own_complaints_a_supervisor_all(staff, funded):
    from complaints.selectors import complaint_queue

    mine = _log(staff, funded)
    theirs = _log(staff, funded, actor="coordinator")
    assert list(complaint_queue(actor=staff["csr"]).values_list("number", flat=True)) == [mine.number]
    assert set(complaint_queue(actor=staff["supervisor"]).values_list("number", flat=True)) == {mine.number,
                                                                                                theirs.number}


def test_the_api_logs_a_complaint_idempotently_and_acts_on_it(api, staff, funded):
    import uuid

    client = api(staff["csr"])
    body = {"channel": "branch", "category": "accounts.charges", "description": "Charged twice",
            "customer_number": funded.customer.number, "account_number": funded.number,
            "amount_disputed": {"amount": 1000, "currency": "AED"}}
    key = str(uuid.uuid4())
    first = client.post("/api/v1/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    assert again.json()["number"] == first.json()["number"]
    assert Complaint.objects.count() == 1
    number = first.json()["number"]
    assert {d["colour"] for d in first.json()["deadlines"]} <= {"green", "amber"}
    ack = client.post(f"/api/v1/complaints/{number}/acknowledge/", {}, format="json")
    assert ack.json()["status"] == "acknowledged"
    no = client.post(f"/api/v1/complaints/{number}/close/", {"final_response": "x"}, format="json")
    assert no.json()["code"] == "NO_DECISION"
    assert api(staff["teller"]).get(f"/api/v1/complaints/{number}/").status_code == 404
    report = api(staff["supervisor"]).get("/api/v1/complaints/report/?download=csv")
    assert report.status_code == 200
    assert b"received" in report.content
