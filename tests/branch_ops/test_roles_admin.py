import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from branch_ops.models import AuditEvent, Branch
from branch_ops.roles import ROLE_PERMISSIONS, sync_role_groups


def test_groups_are_synced_from_the_role_table(db):
    sync_role_groups()
    sync_role_groups()  # idempotent
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=f"role:{role.value}")
        assert set(group.permissions.values_list("codename", flat=True)) == {p.value for p in perms}


def test_staff_get_their_role_group_and_django_permissions(staff):
    sync_role_groups()
    teller = get_user_model().objects.get(username="teller.dxb")
    assert list(teller.groups.values_list("name", flat=True)) == ["role:teller"]
    assert teller.has_perm("branch_ops.post_cash")
    assert not teller.has_perm("branch_ops.decide_four_eyes")


@pytest.fixture
def admin_client_logged(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "Root-password-2026")
    client.force_login(admin)
    return client


@pytest.mark.parametrize("url", [
    "/admin/", "/admin/branch_ops/branch/", "/admin/branch_ops/currency/", "/admin/auth/user/",
    "/admin/branch_ops/auditevent/", "/admin/branch_ops/approval/", "/admin/branch_ops/apitoken/",
    "/admin/accounts/customer/", "/admin/accounts/bankaccount/",
])
def test_admin_pages_open(admin_client_logged, url, staff):
    assert admin_client_logged.get(url).status_code == 200


def test_admin_changes_are_audited(admin_client_logged, branch):
    response = admin_client_logged.post(f"/admin/branch_ops/branch/{branch.pk}/change/", {
        "code": branch.code, "name": "Dubai Marina", "currency": "AED", "time_zone": "Asia/Dubai",
        "address": branch.address, "country": "AE", "active": "on",
    })
    assert response.status_code == 302
    assert Branch.objects.get(pk=branch.pk).name == "Dubai Marina"
    event = AuditEvent.objects.get(action="admin.branch.changed")
    assert (event.before, event.after) == ({"name": "Dubai Main"}, {"name": "Dubai Marina"})
    assert event.actor_role == "superuser"


def test_admin_refuses_an_unknown_time_zone(admin_client_logged, branch):
    response = admin_client_logged.post(f"/admin/branch_ops/branch/{branch.pk}/change/", {
        "code": branch.code, "name": "X", "currency": "AED", "time_zone": "Mars/Olympus", "country": "AE",
    })
    assert response.status_code == 200
    assert "is not a known time zone" in response.content.decode()
