import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.utils import InternalError

from branch_ops.audit import audit_chain_verify, audit_event_write
from branch_ops.models import AuditEvent


def _write(actor, n=1, **kw):
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit_event_write(actor=actor, action=f"test.action{i}", object_type="test.thing",
                                            object_id=str(i), before={"v": i}, after={"v": i + 1}, **kw))
    return [AuditEvent.objects.get(pk=e.pk) for e in events]


def test_events_record_actor_role_branch_and_chain_per_branch(staff, foreign_staff):
    first, second = _write(staff["teller"], 2)
    other = _write(foreign_staff["teller"], 1)[0]

    assert (first.actor_role, first.branch.code) == ("teller", "DXB01")
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert len(first.hash) == 64
    assert other.chain_key != first.chain_key
    assert audit_chain_verify().ok


@pytest.mark.parametrize("statement", [
    "UPDATE branch_ops_auditevent SET action = 'forged' WHERE id = %s",
    "DELETE FROM branch_ops_auditevent WHERE id = %s",
])
def test_postgresql_refuses_update_and_delete_of_audit_events(staff, statement):
    event = _write(staff["supervisor"])[0]
    with pytest.raises((DatabaseError, InternalError)) as err, transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement, [event.pk])
    assert "append-only" in str(err.value)
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_orm_update_is_refused_too(staff):
    event = _write(staff["supervisor"])[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={"forged": True})


def _tamper(sql, params):
    """What an attacker with table-owner rights would do: switch the guard off, edit."""
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # ordinary triggers off
        cur.execute(sql, params)
        cur.execute("SET session_replication_role = DEFAULT")


def test_verification_detects_an_edited_event(staff):
    events = _write(staff["supervisor"], 4)
    _tamper("UPDATE branch_ops_auditevent SET after = '{\"v\": 999}' WHERE id = %s", [events[1].pk])
    report = audit_chain_verify(branch=events[0].branch)
    assert not report.ok
    assert [(b.seq, b.problem) for b in report.breaks] == [(events[1].seq, "content does not match its hash")]


def test_verification_detects_a_deleted_event(staff):
    events = _write(staff["supervisor"], 4)
    _tamper("DELETE FROM branch_ops_auditevent WHERE id = %s", [events[2].pk])
    report = audit_chain_verify(branch=events[0].branch)
    assert not report.ok
    assert report.breaks[0].seq == events[3].seq


def test_verification_detects_deleting_the_newest_events(staff):
    events = _write(staff["supervisor"], 3)
    _tamper("DELETE FROM branch_ops_auditevent WHERE id = %s", [events[-1].pk])
    report = audit_chain_verify(branch=events[0].branch)
    assert [b.problem for b in report.breaks] == ["newest events are missing"]


def test_verify_command_exits_non_zero_on_a_break(staff):
    from django.core.management import CommandError, call_command

    events = _write(staff["supervisor"], 2)
    call_command("verify_audit_chain")
    _tamper("UPDATE branch_ops_auditevent SET action = 'x' WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("verify_audit_chain")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_branch_keep_one_unbroken_chain():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="CON01")
    users = [make_staff(branch, "teller", f"t{i}.con") for i in range(4)]
    start = threading.Barrier(len(users))
    errors = []

    def work(user):
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():
                    audit_event_write(actor=user, action="test.parallel", object_id=str(i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    seqs = list(AuditEvent.objects.filter(branch=branch).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditEvent.objects.filter(branch=branch, action="test.parallel").count() == 60
    assert audit_chain_verify(branch=branch).ok
