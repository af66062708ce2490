"""The complaints screens: the list with its coloured clocks (and who sees what), the log
form, one complaint with its timeline and the actions of its status, the printable letter
in the complainant's language, and the report. Set-up goes through the real services and
the screens themselves."""

import datetime as dt
import re
import uuid
import zoneinfo
from html import unescape

import pytest
from django.utils import timezone

from branch_ops.models import Approval
from branch_ops.money import Money
from complaints.models import Category, Complaint, ComplaintEntry, Deadline, Regime
from complaints.reference_data import complaints_reference_load
from complaints.selectors import complaint_report
from complaints.services import complaint_close, complaint_decide, complaint_log
from tests.accounts.conftest import fund, open_account
from tests.factories import CustomerFactory, make_staff

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def reference(db):
    complaints_reference_load(Regime, Category)


@pytest.fixture
def funded(staff):
    return fund(open_account(staff["csr"], staff["supervisor"]), 100_000)


def _log(staff, account, *, actor="csr", category="accounts.charges", amount=20_000) -> Complaint:
    return complaint_log(actor=staff[actor], channel="branch", category=category,
                         description="Charged twice for a statement", customer_number=account.customer.number,
                         account_number=account.number, amount_disputed=Money(amount, "AED"))


def _form(**fields) -> dict:
    return {"idempotency_key": str(uuid.uuid4()), "channel": "branch", "category": "accounts.charges",
            "description": "", **fields}


def _act(client, complaint, action, **data):
    return client.post(f"/complaints/{complaint.number}/{action}/", data)


# --- logging ---------------------------------------------------------------------------------------------

def test_logging_through_the_form_creates_a_complaint_owned_by_the_logger_and_redirects_to_it(client, staff,
                                                                                               funded):
    client.force_login(staff["csr"])
    page = client.get("/complaints/new/").content.decode()
    assert "\u00a0\u00a0\u00a0\u00a0Charges and fees" in page  # the sub-category indented under its parent
    response = client.post("/complaints/new/", _form(
        customer_number=funded.customer.number, account_number=funded.number, amount_disputed="1,234.50",
        description="Charged twice for one statement"))
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/complaints/{complaint.number}/"
    assert (complaint.owner, complaint.received_by) == (staff["csr"], staff["csr"])
    assert (complaint.amount_disputed, complaint.currency_id) == (123_450, "AED")
    assert complaint.account == funded
    html = client.get(response["Location"]).content.decode()
    assert f"Complaint {complaint.number} was logged." in html
    assert complaint.number in html and "Charged twice for one statement" in html


def test_a_complainant_who_is_not_a_customer_is_logged_by_name(client, staff):
    client.force_login(staff["teller"])
    response = client.post("/complaints/new/", _form(
        category="cash.shortfall", complainant_name="Mariam Al Zaabi", complainant_contact="+971 50 000 0000",
        description="Short by 100"))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.customer, complaint.complainant_name, complaint.owner) == (None, "Mariam Al Zaabi",
                                                                               staff["teller"])


@pytest.mark.parametrize(("fields", "message", "kept"), [
    ({"category": "", "description": "My words about the fee"}, "Choose a category.", "My words about the fee"),
    ({"description": "   ", "complainant_name": "Fatima Typed"}, "Describe the complaint.", "Fatima Typed"),
])
def test_a_missing_category_or_description_shows_the_message_and_keeps_what_was_typed(client, staff, funded, fields,
                                                                                      message, kept):
    client.force_login(staff["csr"])
    response = client.post("/complaints/new/", _form(customer_number=funded.customer.number, **fields))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert re.search(r'data-testid="field-error">' + re.escape(message), html)  # beside the field
    assert kept in html
    assert not Complaint.objects.exists()


def test_an_unknown_customer_or_a_bad_amount_is_shown_beside_the_field(client, staff, funded):
    client.force_login(staff["csr"])
    response = client.post("/complaints/new/", _form(customer_number="X9999999", description="Lost card"))
    html = response.content.decode()
    assert response.status_code == 404
    assert "No such customer." in html and 'value="X9999999"' in html
    response = client.post("/complaints/new/", _form(customer_number=funded.customer.number, description="Fee",
                                                     amount_disputed="12.345"))
    assert response.status_code == 400
    assert "at most 2 decimal places" in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_same_form_sent_twice_logs_one_complaint(client, staff, funded):
    client.force_login(staff["csr"])
    data = _form(customer_number=funded.customer.number, description="Twice")
    first = client.post("/complaints/new/", data)
    again = client.post("/complaints/new/", data)
    assert first["Location"] == again["Location"]
    assert Complaint.objects.count() == 1


# --- the list ------------------------------------------------------------------------------------------

def test_the_list_shows_coloured_clocks_and_refreshes(client, staff, funded):
    on_time = _log(staff, funded)
    late = _log(staff, funded)
    now = timezone.now()
    Deadline.objects.filter(complaint=late, kind="ack").update(started_at=now - dt.timedelta(days=2),
                                                               due_at=now - dt.timedelta(hours=1))
    Deadline.objects.filter(complaint=late, kind="summary").update(started_at=now - dt.timedelta(days=2),
                                                                   due_at=now + dt.timedelta(hours=2))
    client.force_login(staff["csr"])
    response = client.get("/complaints/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 30s"' in html
    rows = dict(re.findall(r'data-number="(CMP\d+)">(.*?)</tr>', html, re.S))
    assert set(rows) == {on_time.number, late.number}
    assert re.search(r'text-bg-success" data-testid="clock-ack" data-colour="green"', rows[on_time.number])
    assert re.search(r'text-bg-danger" data-testid="clock-ack" data-colour="red"', rows[late.number])
    assert re.search(r'text-bg-warning" data-testid="clock-summary" data-colour="amber"', rows[late.number])
    assert "overdue" in rows[late.number]
    assert re.search(r"\d+ d \d+ h left", rows[on_time.number])

    refresh = client.get("/complaints/", **HTMX).content.decode()
    assert refresh.startswith('<div id="complaint-list"') and "<nav" not in refresh


def test_a_csr_sees_only_their_own_complaints_the_supervisor_all(client, staff, funded):
    mine = _log(staff, funded)
    theirs = _log(staff, funded, actor="coordinator")
    client.force_login(staff["csr"])
    html = client.get("/complaints/").content.decode()
    assert mine.number in html and theirs.number not in html
    assert client.get(f"/complaints/{theirs.number}/").status_code == 404
    client.force_login(staff["supervisor"])
    html = client.get("/complaints/").content.decode()
    assert mine.number in html and theirs.number in html


def test_the_list_filters_by_status(client, staff, funded):
    logged = _log(staff, funded)
    decided = _log(staff, funded)
    complaint_decide(actor=staff["csr"], number=decided.number, decision="rejected", reason="no error found")
    client.force_login(staff["csr"])
    html = client.get("/complaints/", {"status": "decided"}).content.decode()
    assert decided.number in html and logged.number not in html
    assert client.get("/complaints/", {"status": "nonsense"}).status_code == 400


# --- one complaint and its actions ------------------------------------------------------------------------------

def test_the_owner_works_a_complaint_through_to_the_follow_up_on_the_detail_page(client, staff, funded):
    complaint = _log(staff, funded)
    client.force_login(staff["csr"])
    html = client.get(f"/complaints/{complaint.number}/").content.decode()
    for action in ("acknowledge", "note", "decide", "escalate", "handover"):
        assert f'data-testid="action-{action}"' in html
    assert 'data-testid="action-extend"' not in html  # supervisors only (and not the standard regime)

    assert _act(client, complaint, "acknowledge").status_code == 302
    tx = funded.ledger.entries.first().transaction.public_id
    assert _act(client, complaint, "note", text="Checked: fee taken twice.", transaction_ref=str(tx)).status_code == 302
    assert _act(client, complaint, "decide", decision="upheld", reason="double charge").status_code == 302
    assert _act(client, complaint, "redress", amount="150.00", reason="").status_code == 302
    assert _act(client, complaint, "close", final_response="We refunded the fee.").status_code == 302
    response = _act(client, complaint, "follow-up", satisfaction="4", comment="quick")
    assert response.status_code == 302

    complaint.refresh_from_db()
    assert (complaint.status, complaint.decision, complaint.redress_paid, complaint.satisfaction) == (
        "closed", "upheld", 15_000, 4)
    assert list(complaint.entries.values_list("kind", flat=True)) == [
        "logged", "acknowledged", "note", "decided", "redress_paid", "closed", "follow_up"]
    html = client.get(response["Location"]).content.decode()
    assert "The follow-up of complaint" in html
    assert 'data-testid="action-reopen"' in html and 'data-testid="action-note"' not in html
    assert "AED\u00a0150.00" in html  # the redress paid, formatted
    assert "We refunded the fee." in html


def test_a_refused_action_shows_the_message_beside_the_field_and_keeps_the_text(client, staff, funded):
    complaint = _log(staff, funded)
    client.force_login(staff["csr"])
    response = _act(client, complaint, "decide", decision="", reason="my typed reason")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose upheld, partly upheld or rejected." in html and "my typed reason" in html
    response = _act(client, complaint, "close", final_response="Too early")
    assert response.status_code == 409
    assert "Decide the complaint before closing it." in response.content.decode()
    assert Complaint.objects.get().status == "logged"


def test_another_csr_may_not_act_on_the_complaint(client, staff, funded):
    complaint = _log(staff, funded)
    other = make_staff(staff["csr"].staff.branch, "csr", "csr2.dxb")
    client.force_login(other)
    for action, data in [("note", {"text": "not mine"}), ("decide", {"decision": "upheld", "reason": "x"}),
                         ("close", {"final_response": "x"})]:
        response = _act(client, complaint, action, **data)
        assert response.status_code == 403
        assert "Only the complaint's owner or a supervisor can do this." in unescape(response.content.decode())
    assert list(ComplaintEntry.objects.values_list("kind", flat=True)) == ["logged"]
    assert Complaint.objects.get().status == "logged"


def test_a_supervisor_acts_on_any_complaint_and_extends_a_payment_services_deadline(client, staff, funded):
    complaint = _log(staff, funded, category="payments.delayed")
    client.force_login(staff["supervisor"])
    html = client.get(f"/complaints/{complaint.number}/").content.decode()
    assert 'data-testid="action-extend"' in html
    assert _act(client, complaint, "extend", reason="waiting for the other bank").status_code == 302
    assert Complaint.objects.get().extended


def test_a_handover_moves_the_complaint_and_its_actions(client, staff, funded):
    complaint = _log(staff, funded)
    client.force_login(staff["csr"])
    html = client.get(f"/complaints/{complaint.number}/").content.decode()
    assert 'value="coordinator.dxb"' in html and 'value="teller.dxb"' not in html
    assert _act(client, complaint, "handover", to="coordinator.dxb", reason="holiday").status_code == 302
    html = client.get(f"/complaints/{complaint.number}/").content.decode()  # the receiver still sees it
    assert 'data-testid="no-actions"' in html and 'data-testid="action-note"' not in html
    client.force_login(staff["coordinator"])
    assert _act(client, complaint, "note", text="mine now").status_code == 302


def test_redress_over_the_threshold_waits_for_approval_with_a_link_to_it(client, staff, funded):
    complaint = _log(staff, funded, amount=500_000)
    client.force_login(staff["csr"])
    _act(client, complaint, "decide", decision="upheld", reason="ok")
    response = _act(client, complaint, "redress", amount="1,500.00", reason="")
    assert response.status_code == 302
    approval = Approval.objects.get(kind="complaints.redress", subject_id=str(complaint.public_id), status="pending")
    html = client.get(response["Location"]).content.decode()
    assert "waits for a supervisor&#x27;s approval" in html
    assert f'href="/approvals/{approval.public_id}/"' in html
    assert Complaint.objects.get().redress_paid == 0


def test_redress_under_the_threshold_is_paid_at_once(client, staff, funded):
    complaint = _log(staff, funded, amount=20_000)
    client.force_login(staff["csr"])
    _act(client, complaint, "decide", decision="partly_upheld", reason="ok")
    response = _act(client, complaint, "redress", amount="199.99")
    assert response.status_code == 302
    assert Complaint.objects.get().redress_paid == 19_999
    assert not Approval.objects.filter(kind="complaints.redress").exists()
    bad = _act(client, complaint, "redress", amount="abc")
    assert bad.status_code == 400 and "abc" in bad.content.decode()


# --- the letter -----------------------------------------------------------------------------------------------

def test_the_letter_is_in_the_complainants_language(client, staff, funded):
    customer = CustomerFactory(home_branch=funded.branch, preferred_language="ar", full_name="سارة المنصوري")
    complaint = complaint_log(actor=staff["csr"], channel="branch", category="cards", description="بطاقة",
                              customer_number=customer.number)
    client.force_login(staff["csr"])
    _act(client, complaint, "acknowledge")
    response = client.get(f"/complaints/{complaint.number}/letter/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<article[^>]*lang="ar" dir="rtl" data-testid="letter"', html)
    assert 'lang="en" dir="ltr"' in html  # the page itself stays in the user's language
    letter = ComplaintEntry.objects.get(kind="acknowledged").text
    assert customer.full_name in letter and complaint.number in letter
    assert customer.full_name in html
    assert "<nav" not in html and "d-print-none" in html
    assert 'data-testid="final-response"' not in html


def test_the_letter_page_carries_the_final_response_once_closed(client, staff, funded):
    complaint = _log(staff, funded)
    complaint_decide(actor=staff["csr"], number=complaint.number, decision="rejected", reason="fee is due")
    complaint_close(actor=staff["csr"], number=complaint.number, final_response="The fee was due.")
    client.force_login(staff["csr"])
    html = client.get(f"/complaints/{complaint.number}/letter/").content.decode()
    assert re.search(r'lang="en" dir="ltr" data-testid="letter"', html)
    assert 'data-testid="final-response"' in html and "The fee was due." in html


# --- the report -------------------------------------------------------------------------------------------------

def _figure(html, name):
    return re.search(rf'data-testid="{name}">([^<]*)<', html).group(1)


def test_the_report_page_shows_figures_matching_the_rows(client, staff, funded):
    made = [_log(staff, funded) for _ in range(3)] + [_log(staff, funded, actor="coordinator", category="cash")]
    for complaint, decision in zip(made[:2], ["upheld", "rejected"], strict=True):
        complaint_decide(actor=staff["csr"], number=complaint.number, decision=decision, reason="r")
        complaint_close(actor=staff["csr"], number=complaint.number, final_response="done")
    client.force_login(staff["supervisor"])
    response = client.get("/complaints/report/")
    html = response.content.decode()
    assert response.status_code == 200
    rows = list(Complaint.objects.all())
    closed = [c for c in rows if c.status == "closed"]
    assert _figure(html, "received") == str(len(rows)) == "4"
    assert _figure(html, "closed") == str(len(closed)) == "2"
    assert _figure(html, "upheld") == "1"
    assert _figure(html, "upheld-rate") == "50.0 %"
    assert _figure(html, "breaches") == "0"
    assert _figure(html, "redress-paid") == "AED\u00a00.00"
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Dubai")).date()  # the branch's day
    report = complaint_report(actor=staff["supervisor"], start=today - dt.timedelta(days=30), end=today)
    assert report.received == 4 and report.closed == 2
    assert 'data-key="accounts.charges"' in html and 'data-key="cash"' in html
    assert 'data-key="csr.dxb"' in html and 'data-key="coordinator.dxb"' in html
    assert "<meter" in html and "style=" not in html
    start = (today - dt.timedelta(days=30)).isoformat()
    assert f"/api/v1/complaints/report/?download=csv&amp;start={start}&amp;end={today.isoformat()}" in html


def test_the_report_takes_a_date_range(client, staff, funded):
    _log(staff, funded)
    client.force_login(staff["supervisor"])
    later = timezone.now().date() + dt.timedelta(days=5)
    html = client.get("/complaints/report/", {"start": later.isoformat(), "end": later.isoformat()}).content.decode()
    assert _figure(html, "received") == "0"
    bad = client.get("/complaints/report/", {"start": later.isoformat(), "end": "2000-01-01"})
    assert bad.status_code == 400


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_only_a_supervisor_sees_the_report(client, staff, role):
    client.force_login(staff[role])
    assert client.get("/complaints/report/").status_code == 403
    assert ">Reports<" not in client.get("/complaints/").content.decode()


def test_the_navigation_offers_complaints_and_reports(client, staff):
    client.force_login(staff["supervisor"])
    html = client.get("/complaints/").content.decode()
    assert 'href="/complaints/"' in html and ">Complaints<" in html and ">Reports<" in html


def test_no_inline_script_style_or_event_handler_on_the_screens(client, staff, funded):
    complaint = _log(staff, funded)
    client.force_login(staff["supervisor"])
    for url in ("/complaints/", "/complaints/new/", f"/complaints/{complaint.number}/",
                f"/complaints/{complaint.number}/letter/", "/complaints/report/"):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=|\sstyle=|<style", html), url
