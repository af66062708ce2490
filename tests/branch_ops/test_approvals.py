import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.models import BankAccount
from accounts.services import account_open_request
from branch_ops.approvals import approval_cancel, approval_decide
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval, AuditEvent, OutboxEvent
from tests.factories import CustomerFactory


@pytest.fixture
def opening(staff, branch):
    """An account opening a CSR asked for: pending, waiting for a supervisor."""
    customer = CustomerFactory(home_branch=branch)
    account = account_open_request(actor=staff["csr"], customer_number=customer.number, product="current",
                                   currency="AED", reason="new customer")
    return Approval.objects.get(subject_id=str(account.public_id))


def test_a_supervisor_approves_and_the_account_becomes_active(opening, staff):
    approval_decide(approval_id=opening.public_id, actor=staff["supervisor"], approve=True, reason="KYC ok")

    opening.refresh_from_db()
    account = BankAccount.objects.get(public_id=opening.subject_id)
    assert (opening.status, opening.decided_by, opening.decision_reason) == ("approved", staff["supervisor"], "KYC ok")
    assert opening.decided_at is not None
    assert account.status == "active"
    assert AuditEvent.objects.filter(action="approval.approved", object_id=str(opening.public_id)).count() == 1
    assert OutboxEvent.objects.filter(event_type="account.opened", aggregate_id=str(account.public_id)).exists()


def test_rejection_needs_a_reason_and_closes_the_pending_account(opening, staff):
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=opening.public_id, actor=staff["supervisor"], approve=False, reason=" ")
    assert err.value.code == "REASON_REQUIRED"
    approval_decide(approval_id=opening.public_id, actor=staff["supervisor"], approve=False, reason="ID expired")
    assert BankAccount.objects.get(public_id=opening.subject_id).status == "closed"


@pytest.mark.parametrize(("role", "code"), [
    ("teller", "APPROVAL_NOT_FOUND"),  # not a decider: others' requests are invisible
    ("csr", "SELF_APPROVAL"),  # the CSR asked for it
    ("coordinator", "ROLE_NOT_ALLOWED"),  # decides routine kinds only
])
def test_roles_that_may_not_decide_a_four_eyes_kind_are_refused(opening, staff, role, code):
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=opening.public_id, actor=staff[role], approve=True, reason="")
    assert err.value.code == code
    opening.refresh_from_db()
    assert opening.status == "pending"


def test_nobody_approves_their_own_request(branch, staff):
    customer = CustomerFactory(home_branch=branch)
    account = account_open_request(actor=staff["supervisor"], customer_number=customer.number, product="savings",
                                   currency="USD")
    approval = Approval.objects.get(subject_id=str(account.public_id))
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=approval.public_id, actor=staff["supervisor"], approve=True, reason="")
    assert err.value.code == "SELF_APPROVAL"
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_a_supervisor_of_another_branch_cannot_see_or_decide_it(opening, foreign_staff):
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=opening.public_id, actor=foreign_staff["supervisor"], approve=True, reason="")
    assert err.value.code == "APPROVAL_NOT_FOUND"
    assert err.value.status_code == 404


def test_a_decided_approval_cannot_be_decided_again(opening, staff):
    approval_decide(approval_id=opening.public_id, actor=staff["supervisor"], approve=True, reason="")
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=opening.public_id, actor=staff["supervisor2"], approve=False, reason="no")
    assert err.value.code == "APPROVAL_ALREADY_DECIDED"
    with pytest.raises(ApplicationError):
        approval_cancel(approval_id=opening.public_id, actor=staff["csr"])


def test_the_requester_may_withdraw_a_pending_request(opening, staff):
    with pytest.raises(ApplicationError):
        approval_cancel(approval_id=opening.public_id, actor=staff["supervisor"])
    approval_cancel(approval_id=opening.public_id, actor=staff["csr"], reason="customer changed mind")
    opening.refresh_from_db()
    assert opening.status == "cancelled"
    assert BankAccount.objects.get(public_id=opening.subject_id).status == "closed"


# --- what PostgreSQL refuses by itself (raw SQL, no application code) ------------------------------

def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_postgresql_refuses_self_approval_even_from_raw_sql(opening, staff):
    with pytest.raises(IntegrityError) as err:
        _raw("UPDATE branch_ops_approval SET status='approved', decided_by_id=requested_by_id, decided_at=now() "
             "WHERE id=%s", [opening.pk])
    assert "cannot be decided by the person who requested it" in str(err.value)
    assert err.value.__cause__.diag.constraint_name == "approval_not_self_decided"
    opening.refresh_from_db()
    assert opening.status == "pending"


def test_postgresql_check_constraint_refuses_self_decision_without_the_trigger(opening, staff):
    with pytest.raises(IntegrityError) as err, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # triggers off: the CHECK still holds
        cur.execute("UPDATE branch_ops_approval SET status='approved', decided_by_id=requested_by_id, "
                    "decided_at=now() WHERE id=%s", [opening.pk])
    assert "approval_not_self_decided" in str(err.value)


@pytest.mark.parametrize("decider", ["teller", "coordinator", "foreign_supervisor"])
def test_postgresql_refuses_a_decider_whose_role_or_branch_may_not_decide(opening, staff, foreign_staff, decider):
    user = foreign_staff["supervisor"] if decider == "foreign_supervisor" else staff[decider]
    with pytest.raises(IntegrityError) as err:
        _raw("UPDATE branch_ops_approval SET status='approved', decided_by_id=%s, decided_at=now() WHERE id=%s",
             [user.pk, opening.pk])
    assert "may not decide" in str(err.value)


def test_postgresql_refuses_a_service_account_as_decider(opening, branch):
    from tests.factories import make_staff

    robot = make_staff(branch, "supervisor", "robot.dxb", service=True)
    with pytest.raises(IntegrityError):
        _raw("UPDATE branch_ops_approval SET status='approved', decided_by_id=%s, decided_at=now() WHERE id=%s",
             [robot.pk, opening.pk])


def test_postgresql_refuses_a_second_decision_and_deletion(opening, staff):
    approval_decide(approval_id=opening.public_id, actor=staff["supervisor"], approve=True, reason="")
    with pytest.raises(IntegrityError, match="already decided"):
        _raw("UPDATE branch_ops_approval SET status='rejected', decided_by_id=%s WHERE id=%s",
             [staff["supervisor2"].pk, opening.pk])
    with pytest.raises(IntegrityError, match="DELETE refused"):
        _raw("DELETE FROM branch_ops_approval WHERE id=%s", [opening.pk])


def test_postgresql_allows_only_one_pending_approval_per_subject(opening, staff):
    with pytest.raises(IntegrityError):
        _raw("INSERT INTO branch_ops_approval (public_id, kind, branch_id, subject_type, subject_id, summary, "
             "decider_roles, requested_by_id, requested_at, request_reason, status, decision_reason) "
             "SELECT gen_random_uuid(), kind, branch_id, subject_type, subject_id, summary, decider_roles, "
             "requested_by_id, now(), '', 'pending', '' FROM branch_ops_approval WHERE id=%s", [opening.pk])


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_at_once_exactly_one_wins():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="RACE1")
    csr = make_staff(branch, "csr", "csr.race")
    supervisors = [make_staff(branch, "supervisor", f"sup{i}.race") for i in range(2)]
    customer = CustomerFactory(home_branch=branch)
    account = account_open_request(actor=csr, customer_number=customer.number, product="current", currency="AED")
    approval = Approval.objects.get(subject_id=str(account.public_id))

    start = threading.Barrier(2)
    outcomes = {}

    def decide(user, approve):
        try:
            start.wait()
            approval_decide(approval_id=approval.public_id, actor=user, approve=approve, reason="race")
            outcomes[user.username] = "won"
        except ApplicationError as exc:
            outcomes[user.username] = exc.code
        except DatabaseError as exc:  # pragma: no cover - would be a bug
            outcomes[user.username] = f"db error: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(supervisors[0], True)),
               threading.Thread(target=decide, args=(supervisors[1], False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes.values()) == ["APPROVAL_ALREADY_DECIDED", "won"]
    approval.refresh_from_db()
    winner = next(name for name, result in outcomes.items() if result == "won")
    assert approval.decided_by.username == winner
    assert AuditEvent.objects.filter(object_id=str(approval.public_id),
                                     action__in=["approval.approved", "approval.rejected"]).count() == 1
    expected = "active" if approval.status == "approved" else "closed"
    assert BankAccount.objects.get(pk=account.pk).status == expected
