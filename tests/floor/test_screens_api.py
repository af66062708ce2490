import datetime as dt
import zoneinfo

from django.utils import timezone

from branch_ops.models import Approval
from tests.floor.conftest import make_every_kind


def _approval(staff, branch):
    from accounts.services import account_open_request
    from tests.factories import CustomerFactory

    account_open_request(actor=staff["csr"], customer_number=CustomerFactory(home_branch=branch).number,
                         product="current", currency="AED", reason="new salary account")
    return Approval.objects.get(kind="account.open", status="pending")


# --- screens -----------------------------------------------------------------------------------------

def test_the_inbox_page_shows_each_item_with_its_context_and_keyboard_script(client, staff, branch):
    make_every_kind(staff, branch)
    client.force_login(staff["supervisor2"])

    html = client.get("/floor/inbox/").content.decode()

    assert html.count('data-testid="inbox-item"') == 10
    assert "js/floor.js" in html and "<script>" not in html
    assert "Drawer cash" in html and "Reason given" in html
    assert client.get("/approvals/").status_code == 200  # the old address still works


def test_a_requesters_name_is_shown_escaped_on_the_inbox_card(client, staff, branch):
    """The "asked by" line is built in Python: the name must still be escaped, as the
    template's blocktranslate did."""
    csr = staff["csr"]
    csr.first_name, csr.last_name = "<b>Mallory</b>", "<script>x()</script>"
    csr.save(update_fields=["first_name", "last_name"])
    _approval(staff, branch)
    client.force_login(staff["supervisor2"])

    html = client.get("/floor/inbox/").content.decode()

    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert "<b>Mallory</b>" not in html and "<script>x()" not in html


def test_deciding_from_the_inbox_under_htmx_answers_with_the_decided_card(client, staff, branch):
    approval = _approval(staff, branch)
    client.force_login(staff["supervisor"])

    response = client.post(f"/floor/inbox/{approval.public_id}/decide/", {"decision": "reject", "reason": ""},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Give a reason for the rejection." in response.content.decode()

    response = client.post(f"/floor/inbox/{approval.public_id}/decide/", {"decision": "approve", "reason": "ok"},
                           HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Approved" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "approved"


def test_the_requester_sees_pending_then_the_decision_through_the_polled_status(client, staff, branch):
    approval = _approval(staff, branch)
    client.force_login(staff["csr"])
    page = client.get(f"/approvals/{approval.public_id}/").content.decode()
    assert f'hx-get="/approvals/{approval.public_id}/status/"' in page
    assert "Pending" in page

    from branch_ops.approvals import approval_decide

    approval_decide(approval_id=approval.public_id, actor=staff["supervisor"], approve=False, reason="no ID")
    status = client.get(f"/approvals/{approval.public_id}/status/").content.decode()

    assert "Rejected" in status and "no ID" in status
    assert "hx-trigger" not in status  # polling stops once decided


def test_board_audit_and_report_pages_render(client, staff, branch):
    make_every_kind(staff, branch)
    client.force_login(staff["supervisor"])

    board = client.get("/floor/board/")
    assert board.status_code == 200
    assert 'data-testid="board-lobby"' in board.content.decode()
    assert client.get("/floor/board/", HTTP_HX_REQUEST="true").status_code == 200
    audit = client.get("/floor/audit/?action=approval.&verify=1").content.decode()
    assert "The chain is intact" in audit
    assert client.get("/audit/").status_code == 200
    report = client.get("/floor/report/")
    assert report.status_code == 200 and "<svg" in report.content.decode()
    assert client.get("/floor/report/?format=csv")["Content-Type"].startswith("text/csv")


def test_a_future_report_day_on_the_screen_is_a_translated_error(client, staff):
    client.force_login(staff["supervisor"])
    tomorrow = timezone.localdate(timezone=zoneinfo.ZoneInfo("Asia/Dubai")) + dt.timedelta(days=1)

    response = client.get(f"/floor/report/?day={tomorrow}")

    assert response.status_code == 400
    assert "A report can only be made for today or a past day." in response.content.decode()


def test_the_board_is_forbidden_to_tellers(client, staff):
    client.force_login(staff["teller"])
    assert client.get("/floor/board/").status_code == 403


def test_another_branchs_board_and_report_screens_only_for_head_office(client, staff, foreign_staff, settings):
    client.force_login(staff["supervisor"])
    assert client.get("/floor/board/?branch=MIL01").status_code == 404
    assert client.get("/floor/report/?branch=MIL01").status_code == 404
    settings.FLOOR_HEAD_OFFICE_USERNAMES = ["supervisor.dxb"]
    assert "MIL01" in client.get("/floor/board/?branch=MIL01").content.decode()
    assert "MIL01" in client.get("/floor/report/?branch=MIL01").content.decode()


# --- API ---------------------------------------------------------------------------------------------

def test_api_inbox_and_decide(api, staff, branch):
    approval = _approval(staff, branch)

    inbox = api(staff["supervisor"]).get("/api/v1/floor/inbox/").json()
    assert inbox["total"] == 1
    item = inbox["items"][0]
    assert item["approval"]["id"] == str(approval.public_id)
    assert item["approval"]["request_reason"] == "new salary account"
    assert {"customer", "facts", "history", "link"} <= set(item["context"])
    assert api(staff["coordinator"]).get("/api/v1/floor/inbox/").json()["total"] == 0

    own = api(staff["csr"]).post(f"/api/v1/floor/inbox/{approval.public_id}/decide/", {"decision": "approve"},
                                 format="json")
    assert own.status_code in (403, 404)
    done = api(staff["supervisor"]).post(f"/api/v1/floor/inbox/{approval.public_id}/decide/",
                                         {"decision": "approve", "reason": "ok"}, format="json",
                                         HTTP_IDEMPOTENCY_KEY="k1")
    assert (done.status_code, done.json()["status"]) == (200, "approved")
    again = api(staff["supervisor2"]).post(f"/api/v1/floor/inbox/{approval.public_id}/decide/",
                                           {"decision": "reject", "reason": "no"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "APPROVAL_ALREADY_DECIDED")


def test_a_pending_approval_reads_as_pending_on_the_api(api, staff, branch):
    approval = _approval(staff, branch)
    body = api(staff["csr"]).get(f"/api/v1/approvals/{approval.public_id}/").json()
    assert (body["status"], body["decided_by"], body["decided_at"]) == ("pending", None, None)
    account = api(staff["csr"]).get(f"/api/v1/accounts/{approval.summary['account']}/").json()
    assert account["status"] == "pending"


def test_api_board_report_and_audit(api, staff, foreign_staff, branch, settings):
    make_every_kind(staff, branch)
    client = api(staff["supervisor"])

    board = client.get("/api/v1/floor/board/").json()
    assert [d["code"] for d in board["drawers"]] == ["W1", "W2"]
    assert board["lobby"]["total"]["waiting"] == 0 and board["approvals_waiting"] == 10

    report = client.get("/api/v1/floor/report/").json()
    assert report["branch"] == "DXB01" and report["cash"][0]["currency"] == "AED"
    tomorrow = timezone.localdate(timezone=zoneinfo.ZoneInfo("Asia/Dubai")) + dt.timedelta(days=1)
    future = client.get(f"/api/v1/floor/report/?day={tomorrow}")
    assert (future.status_code, future.json()["code"]) == (400, "REPORT_DAY_IN_FUTURE")
    assert client.get("/api/v1/floor/report.csv").status_code == 200

    events = client.get("/api/v1/floor/audit/events/?action=approval.").json()
    assert events["results"] and all(e["action"].startswith("approval.") for e in events["results"])
    assert client.get("/api/v1/floor/audit/events.csv?action=approval.").status_code == 200
    bad = client.get("/api/v1/floor/audit/events/?since=nonsense")
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_FILTER")

    # head office: another branch only when on the allow-list
    assert client.get("/api/v1/floor/board/?branch=MIL01").status_code == 404
    settings.FLOOR_HEAD_OFFICE_USERNAMES = ["supervisor.dxb"]
    assert client.get("/api/v1/floor/report/?branch=MIL01").json()["branch"] == "MIL01"
    assert api(staff["teller"]).get("/api/v1/floor/board/").status_code == 403


def test_a_pending_freeze_shows_as_pending_on_the_account_page(client, staff, branch):
    from accounts.services import account_freeze_request
    from tests.accounts.conftest import open_account

    account = open_account(staff["csr"], staff["supervisor"])
    approval = account_freeze_request(actor=staff["csr"], number=account.number, reason="police letter")
    client.force_login(staff["csr"])

    html = client.get(f"/accounts/{account.number}/").content.decode()

    assert 'data-testid="account-pending-approval"' in html
    assert "Account freeze: waiting for a supervisor" in html
    assert f"/approvals/{approval.public_id}/" in html
    assert 'data-testid="account-status">Active<' in html  # not frozen until approved


def test_deciding_another_branchs_item_from_the_inbox_answers_a_card_with_the_message(
        client, staff, foreign_staff, branch):
    approval = _approval(staff, branch)
    client.force_login(foreign_staff["supervisor"])

    response = client.post(f"/floor/inbox/{approval.public_id}/decide/", {"decision": "approve", "reason": "x"},
                           HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert "No such approval." in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending"
