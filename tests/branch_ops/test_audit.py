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


def test_an_events_hash_is_the_sha256_of_its_fields_as_an_auditor_recomputes_it(staff):
    """The chain is checkable outside the application: each hash is the SHA-256 (hex) of the
    previous hash and the event's fields, joined by the unit separator, the time in UTC to the
    microsecond and the JSON as PostgreSQL prints it. Recomputed here in Python, not with the
    database's own digest function, so a change to that function cannot go unnoticed."""
    import datetime
    import hashlib

    first, second = _write(staff["teller"], 2, customer_ref="C-1")
    for event in (first, second):
        with connection.cursor() as cur:
            cur.execute("SELECT before::text, after::text FROM branch_ops_auditevent WHERE id = %s", [event.pk])
            before, after = cur.fetchone()
        fields = [event.prev_hash, str(event.chain_key), str(event.seq),
                  event.occurred_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                  str(event.actor_id), event.actor_role, str(event.branch_id), event.action, event.object_type,
                  event.object_id, event.customer_ref, before, after, event.request_id, str(event.public_id)]
        assert event.hash == hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
    assert second.prev_hash == first.hash


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
    chains = {}
    for key, seq in AuditEvent.objects.filter(branch=branch).order_by("seq").values_list("chain_key", "seq"):
        chains.setdefault(key, []).append(seq)
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in chains.values())  # each lane unbroken
    assert AuditEvent.objects.filter(branch=branch, action="test.parallel").count() == 60
    assert audit_chain_verify(branch=branch).ok


def _connection_in_another_lane(taken):
    """A new connection (psycopg, autocommit off) whose backend writes a lane none of ``taken`` writes."""
    import psycopg

    from branch_ops.audit import AUDIT_LANES

    settings = connection.settings_dict
    for _ in range(50):
        conn = psycopg.connect(dbname=settings["NAME"], host=settings["HOST"] or None, port=settings["PORT"] or None,
                               user=settings["USER"] or None, password=settings["PASSWORD"] or None)
        if conn.info.backend_pid % AUDIT_LANES not in {c.info.backend_pid % AUDIT_LANES for c in taken}:
            return conn
        conn.close()
    raise AssertionError("no connection in another lane")


@pytest.mark.django_db(transaction=True)
def test_a_writer_of_the_same_branch_does_not_wait_for_an_open_transaction_in_another_lane():
    """Two connections writing audit events for one branch: the second commits while the first
    still holds its chain head, and both lanes verify."""
    from tests.factories import BranchFactory

    branch = BranchFactory(code="LAN01")
    insert = ("INSERT INTO branch_ops_auditevent (public_id, chain_key, seq, actor_role, branch_id, action, "
              "object_type, object_id, customer_ref, before, after, request_id, prev_hash, hash) "
              "VALUES (gen_random_uuid(), 0, 0, 'teller', %s, 'test.lane', '', '', '', '{}', '{}', '', '', '')")
    from branch_ops.audit import branch_chain_keys

    first = _connection_in_another_lane([])
    second = _connection_in_another_lane([first])
    expected = {branch_chain_keys(branch.pk)[c.info.backend_pid % 64] for c in (first, second)}
    try:
        first.execute(insert, [branch.pk])  # its lane's head stays locked until it commits
        second.execute("SET lock_timeout = '2s'")
        second.execute(insert, [branch.pk])
        second.commit()  # did not wait for the first
        first.commit()
    finally:
        first.close()
        second.close()
    assert set(AuditEvent.objects.filter(branch=branch).values_list("chain_key", flat=True)) == expected
    report = audit_chain_verify(branch=branch)
    assert report.ok and report.events_checked == 2 and report.chains_checked == 2
