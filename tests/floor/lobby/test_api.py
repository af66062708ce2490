import pytest

from branch_ops.floor.lobby.models import Ticket
from tests.floor.lobby.conftest import lobby_setup

pytestmark = pytest.mark.django_db
BASE = "/api/v1/floor/lobby/"


def test_ticket_life_through_the_api(api, staff, lobby):
    teller = api(staff["teller"])
    taken = teller.post(f"{BASE}tickets/", {"service": "cash", "language": "it", "priority_rule": "pregnant"},
                        format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert taken.status_code == 201, taken.content
    assert (taken.data["code"], taken.data["priority_rule"], taken.data["status"]) == ("A001", "pregnant", "waiting")
    replay = teller.post(f"{BASE}tickets/", {"service": "cash", "language": "it", "priority_rule": "pregnant"},
                         format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1

    assert teller.post(f"{BASE}counter/sign-in/", {"counter": "1"}, format="json").status_code == 200
    called = teller.post(f"{BASE}call-next/")
    assert called.status_code == 201 and called.data["counter"] == "1"
    ticket_id = called.data["id"]
    listed = teller.get(f"{BASE}tickets/", {"status": "called"})
    assert [t["code"] for t in listed.data["results"]] == ["A001"]
    assert teller.post(f"{BASE}tickets/{ticket_id}/recall/").data["recall_count"] == 1
    assert teller.post(f"{BASE}tickets/{ticket_id}/start/").data["status"] == "serving"
    done = teller.post(f"{BASE}tickets/{ticket_id}/done/", {"served_ref": "teller:OP-1"}, format="json")
    assert (done.data["status"], done.data["served_as"]) == ("done", "teller:OP-1")

    summary = teller.get(f"{BASE}summary/")
    assert summary.status_code == 200
    assert summary.data["total"]["served"] == 1
    assert [s["code"] for s in summary.data["services"]] == ["cash", "desk", "complaints"]


def test_api_errors_are_problems_with_codes(api, staff, foreign_staff, other_branch, lobby):
    lobby_setup(other_branch)
    teller = api(staff["teller"])
    empty = teller.post(f"{BASE}call-next/")
    assert empty.status_code == 409 and empty.json()["code"] == "NOT_AT_COUNTER"
    teller.post(f"{BASE}counter/sign-in/", {"counter": "1"}, format="json")
    empty = teller.post(f"{BASE}call-next/")
    assert empty.status_code == 404 and empty.json()["code"] == "QUEUE_EMPTY"
    assert empty["Content-Type"].startswith("application/problem+json")
    ticket = teller.post(f"{BASE}tickets/", {"service": "cash"}, format="json").data
    foreign = api(foreign_staff["teller"])
    foreign.post(f"{BASE}counter/sign-in/", {"counter": "1"}, format="json")
    assert foreign.post(f"{BASE}tickets/{ticket['id']}/call/").json()["code"] == "TICKET_NOT_FOUND"
    wrong = teller.post(f"{BASE}tickets/{ticket['id']}/no-show/")
    assert (wrong.status_code, wrong.json()["code"]) == (409, "TICKET_WRONG_STATE")
    bad = teller.post(f"{BASE}tickets/", {"service": "cash", "language": "fr"}, format="json")
    assert bad.status_code == 400
    assert api().get(f"{BASE}summary/").status_code in (401, 403)


def test_schema_documents_the_lobby(api, staff):
    schema = api(staff["supervisor"]).get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/floor/lobby/call-next/" in paths
    assert "/api/v1/floor/lobby/tickets/{ticket_id}/done/" in paths


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator", "supervisor"])
def test_every_role_may_serve_the_lobby(api, staff, lobby, role):
    client = api(staff[role])
    client.post(f"{BASE}tickets/", {"service": "desk"}, format="json")
    assert client.post(f"{BASE}counter/sign-in/", {"counter": "2"}, format="json").status_code == 200
    assert client.post(f"{BASE}call-next/").status_code == 201
    assert client.get(f"{BASE}summary/").data["total"]["called"] == 1


def test_anonymous_gets_no_counter_panel_and_no_api(client, api, lobby):
    assert client.get("/floor/lobby/counter/").status_code == 302  # to the login page
    assert client.post("/floor/lobby/counter/call-next/").status_code in (302, 403)
    assert api().post(f"{BASE}call-next/").status_code in (401, 403)
    assert Ticket.objects.count() == 0
