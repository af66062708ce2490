import threading

import pytest
from django.db import connection

from branch_ops.approvals import approval_decide, approval_kinds
from branch_ops.errors import ApplicationError
from branch_ops.floor.inbox import approval_inbox
from branch_ops.models import Approval, AuditEvent, OutboxEvent
from branch_ops.roles import ROLE_PERMISSIONS, Role
from tests.factories import make_staff
from tests.floor.conftest import KINDS

ROLES = ["teller", "csr", "coordinator", "supervisor"]


def _may_decide(role: str, kind: str) -> bool:
    spec = next(k for k in approval_kinds() if k.code == kind)
    return spec.decide_perm in ROLE_PERMISSIONS[Role(role)]


def test_the_fixture_covers_every_registered_kind(every_kind):
    assert sorted(every_kind) == sorted(k.code for k in approval_kinds())


@pytest.mark.parametrize("role", ROLES)
def test_every_kind_reaches_the_inbox_of_exactly_the_roles_that_may_decide_it(every_kind, branch, role):
    reader = make_staff(branch, role, f"reader.{role}")  # asked for nothing

    seen = {item.approval.kind for item in approval_inbox(actor=reader).items}

    assert seen == {kind for kind in KINDS if _may_decide(role, kind)}
    if role == "coordinator":
        assert seen == {"cs.request.routine"}
    if role == "supervisor":
        assert seen == set(KINDS)
    if role in ("teller", "csr"):
        assert seen == set()


def test_the_inbox_is_oldest_first_and_every_item_carries_its_context(every_kind, branch):
    reader = make_staff(branch, "supervisor", "reader.sup")

    items = approval_inbox(actor=reader).items

    times = [(i.approval.requested_at, i.approval.id) for i in items]
    assert times == sorted(times)
    for item in items:
        assert item.context["facts"], item.approval.kind  # each kind says something beyond its summary
    override = next(i for i in items if i.approval.kind == "teller.override")
    labels = {f["label"] for f in override.context["facts"]}
    assert {"Balance", "Available", "Drawer cash"} <= labels
    assert override.context["customer"]["number"]


def test_nobody_sees_their_own_request_nor_another_branchs(every_kind, staff, foreign_staff):
    # the supervisor who asked for nothing at another branch sees nothing of this one
    assert approval_inbox(actor=foreign_staff["supervisor"]).items == []
    # a supervisor's own request is not in their inbox
    from accounts.services import account_open_request
    from tests.factories import CustomerFactory

    customer = CustomerFactory(home_branch=staff["supervisor"].staff.branch)
    own = account_open_request(actor=staff["supervisor2"], customer_number=customer.number, product="current",
                               currency="AED")
    ids = {i.approval.subject_id for i in approval_inbox(actor=staff["supervisor2"]).items}
    assert str(own.public_id) not in ids
    assert str(own.public_id) in {i.approval.subject_id for i in approval_inbox(actor=staff["supervisor"]).items}


def test_a_service_account_has_an_empty_inbox(every_kind, branch):
    robot = make_staff(branch, "supervisor", "robot.sup", service=True)
    assert approval_inbox(actor=robot).items == []


def _counts():
    return (Approval.objects.filter(status="pending").count(), AuditEvent.objects.count(), OutboxEvent.objects.count())


@pytest.mark.parametrize(("who", "code"), [
    ("own", "SELF_APPROVAL"),
    ("foreign", "APPROVAL_NOT_FOUND"),
    ("coordinator", "ROLE_NOT_ALLOWED"),
])
def test_deciding_own_other_branch_or_unallowed_is_a_coded_error_and_changes_nothing(
        staff, foreign_staff, branch, who, code):
    from accounts.services import account_open_request
    from tests.factories import CustomerFactory

    customer = CustomerFactory(home_branch=branch)
    account_open_request(actor=staff["supervisor"], customer_number=customer.number, product="current",
                         currency="AED")
    approval = Approval.objects.get(kind="account.open", status="pending")
    actor = {"own": staff["supervisor"], "foreign": foreign_staff["supervisor"],
             "coordinator": staff["coordinator"]}[who]
    before = _counts()

    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=approval.public_id, actor=actor, approve=True, reason="ok")

    assert err.value.code == code
    assert _counts() == before
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_deciding_twice_is_a_coded_error_and_changes_nothing(staff, branch):
    from accounts.services import account_open_request
    from tests.factories import CustomerFactory

    account_open_request(actor=staff["csr"], customer_number=CustomerFactory(home_branch=branch).number,
                         product="current", currency="AED")
    approval = Approval.objects.get(kind="account.open", status="pending")
    approval_decide(approval_id=approval.public_id, actor=staff["supervisor"], approve=True, reason="ok")
    after_first = (AuditEvent.objects.count(), OutboxEvent.objects.count())

    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=approval.public_id, actor=staff["supervisor2"], approve=False, reason="no")

    assert err.value.code == "APPROVAL_ALREADY_DECIDED"
    assert (AuditEvent.objects.count(), OutboxEvent.objects.count()) == after_first
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == ("approved", staff["supervisor"])


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_one_item_at_once_make_one_decision():
    from accounts.services import account_open_request
    from branch_ops.roles import sync_role_groups
    from tests.factories import BranchFactory, CustomerFactory

    sync_role_groups()
    branch = BranchFactory(code="DXB01")
    csr = make_staff(branch, "csr", "csr.t")
    sups = [make_staff(branch, "supervisor", f"sup.{i}") for i in range(2)]
    account_open_request(actor=csr, customer_number=CustomerFactory(home_branch=branch).number,
                         product="current", currency="AED")
    approval = Approval.objects.get(kind="account.open", status="pending")
    barrier = threading.Barrier(2)
    results: list = []

    def decide(user, approve):
        try:
            barrier.wait()
            approval_decide(approval_id=approval.public_id, actor=user, approve=approve, reason="r")
            results.append("ok")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(sups[0], True)),
               threading.Thread(target=decide, args=(sups[1], False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == ["APPROVAL_ALREADY_DECIDED", "ok"]
    approval.refresh_from_db()
    assert approval.status in ("approved", "rejected")
    assert AuditEvent.objects.filter(action__in=["approval.approved", "approval.rejected"],
                                     object_id=str(approval.public_id)).count() == 1
