import csv
import io

import pytest

from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError
from branch_ops.floor.audit_search import audit_search
from branch_ops.floor.board import branch_board
from branch_ops.models import AuditEvent
from tests.floor.conftest import make_every_kind


def test_the_board_shows_drawers_vault_queues_complaints_alerts(staff, branch):
    make_every_kind(staff, branch)

    board = branch_board(actor=staff["supervisor"])

    assert [(d.code, d.status) for d in board.drawers] == [("W1", "open"), ("W2", "closed")]
    assert board.vault and board.vault[0]["currency"] == "AED"
    assert board.requests["total"] >= 2
    assert board.complaints["total"] == 1
    assert board.alerts["variances"] == [{"drawer": "W2", "teller": "teller2.dxb", "currency": "AED",
                                          "variance": -1000}]
    assert board.approvals_waiting == 10
    assert board.lobby["total"]["waiting"] in (0, None)  # nobody in the lobby yet


def test_the_board_shows_who_waits_in_the_lobby(staff, branch):
    from branch_ops.floor.lobby.services import ticket_call_next, ticket_take
    from tests.floor.lobby.conftest import lobby_setup, seat

    lobby_setup(branch)
    for _ in range(3):
        ticket_take(branch=branch, service="cash")
    ticket_take(branch=branch, service="desk")
    seat(staff["teller"], "1")
    ticket_call_next(actor=staff["teller"])

    board = branch_board(actor=staff["supervisor"])

    waiting = {s["code"]: s["waiting"] for s in board.lobby["services"]}
    assert waiting["cash"] == 2 and waiting["desk"] == 1
    assert board.lobby["total"]["waiting"] == 3


@pytest.mark.parametrize("role", ["teller", "csr"])
def test_the_board_is_for_supervisors_and_coordinators(staff, role):
    with pytest.raises(ApplicationError) as err:
        branch_board(actor=staff[role])
    assert err.value.code == "ROLE_NOT_ALLOWED"
    assert branch_board(actor=staff["coordinator"]).branch.code == "DXB01"


def test_another_branchs_board_is_not_found_unless_head_office(staff, foreign_staff, settings):
    with pytest.raises(ApplicationError) as err:
        branch_board(actor=staff["supervisor"], branch_code="MIL01")
    assert err.value.code == "BRANCH_NOT_FOUND"
    settings.FLOOR_HEAD_OFFICE_USERNAMES = ["supervisor.dxb"]
    assert branch_board(actor=staff["supervisor"], branch_code="MIL01").branch.code == "MIL01"


def test_audit_search_returns_only_the_own_branchs_events(staff, foreign_staff):
    audit_event_write(actor=staff["csr"], action="customer.viewed", object_type="accounts.customer",
                      object_id="C1", customer_ref="C1")
    audit_event_write(actor=foreign_staff["csr"], action="customer.viewed", object_type="accounts.customer",
                      object_id="C1", customer_ref="C1")

    everything = audit_search(actor=staff["supervisor"], params={}).qs
    by_customer = audit_search(actor=staff["supervisor"], params={"customer": "C1"}).qs
    by_actor = audit_search(actor=staff["supervisor"], params={"actor": "csr.mil"}).qs

    assert set(everything.values_list("branch__code", flat=True)) == {"DXB01"}
    assert [e.actor.username for e in by_customer] == ["csr.dxb"]
    assert list(by_actor) == []


def test_audit_search_filters_by_action_object_and_time(staff):
    audit_event_write(actor=staff["csr"], action="customer.viewed", object_type="accounts.customer", object_id="C1",
                      customer_ref="C1", before={"a": 1}, after={"a": 2})
    audit_event_write(actor=staff["csr"], action="account.open_requested", object_type="accounts.bankaccount",
                      object_id="A1")
    first = AuditEvent.objects.get(object_id="C1")

    assert [e.object_id for e in audit_search(actor=staff["supervisor"], params={"action": "customer."}).qs] == ["C1"]
    assert [e.object_id for e in audit_search(actor=staff["supervisor"],
                                              params={"object_type": "accounts.bankaccount"}).qs] == ["A1"]
    since = audit_search(actor=staff["supervisor"], params={"since": first.occurred_at.isoformat(),
                                                            "object_id": "C1"}).qs
    assert [(e.before, e.after) for e in since] == [({"a": 1}, {"a": 2})]
    assert not audit_search(actor=staff["supervisor"], params={"since": "not a time"}).is_valid()
    # what a datetime-local input sends (no zone: read in the server's zone)
    local = audit_search(actor=staff["supervisor"], params={"since": "2000-01-01T10:00", "until": "2100-01-01T00:00"})
    assert local.is_valid()
    assert local.qs.count() == audit_search(actor=staff["supervisor"], params={}).qs.count()


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_audit_search_is_for_supervisors(staff, role):
    with pytest.raises(ApplicationError):
        audit_search(actor=staff[role], params={})


def test_the_audit_csv_is_streamed_and_formula_safe(client, staff):
    audit_event_write(actor=staff["csr"], action="customer.viewed", object_type="accounts.customer",
                      object_id="=HYPERLINK(1)", customer_ref="C9")
    client.force_login(staff["supervisor"])

    response = client.get("/floor/audit/?customer=C9&format=csv")

    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["seq", "occurred_at", "actor", "actor_role", "action"]
    assert [r[6] for r in rows[1:]] == ["'=HYPERLINK(1)"]
