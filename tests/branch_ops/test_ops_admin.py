"""The admin side of webhooks and API tokens: every change goes through the services
(audited), secrets are shown once."""

import pytest
from django.contrib.auth import get_user_model

from branch_ops.models import ApiToken, AuditEvent, OutboxEvent, WebhookDelivery, WebhookSubscription
from branch_ops.services import api_token_issue
from branch_ops.webhooks import webhook_subscription_create
from tests.factories import make_staff


@pytest.fixture
def root(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "Root-password-2026")
    client.force_login(admin)
    return admin


@pytest.mark.parametrize("url", ["/admin/branch_ops/webhooksubscription/", "/admin/branch_ops/webhooksubscription/add/",
                                 "/admin/branch_ops/webhookdelivery/", "/admin/procrastinate/procrastinatejob/"])
def test_pages_open(client, root, url):
    assert client.get(url).status_code == 200


def test_a_superuser_subscribes_a_branch_through_the_service(client, root, branch):
    response = client.post("/admin/branch_ops/webhooksubscription/add/", {
        "branch": branch.pk, "url": "https://core.example/hooks", "description": "core",
        "event_types_text": "account.opened, account.closed"}, follow=True)
    assert response.status_code == 200
    sub = WebhookSubscription.objects.get()
    assert sub.branch == branch and sub.event_types == ["account.closed", "account.opened"]
    assert sub.secret in response.content.decode()  # shown once, as a message
    assert AuditEvent.objects.get(action="webhook.created").actor == root


def test_a_non_http_url_is_refused_in_the_admin_too(client, root, branch):
    response = client.post("/admin/branch_ops/webhooksubscription/add/", {
        "branch": branch.pk, "url": "ftp://core.example/hooks", "event_types_text": "*"})
    assert response.status_code == 200  # the form again, with the error
    assert WebhookSubscription.objects.count() == 0


def test_rotate_deactivate_and_redeliver_actions(client, root, staff, branch):
    sub, old_secret = webhook_subscription_create(actor=staff["supervisor"], url="https://x.example/", event_types=["*"])
    client.post("/admin/branch_ops/webhooksubscription/", {"action": "rotate_secret", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.secret != old_secret and sub.previous_secret == old_secret
    event = OutboxEvent.objects.create(event_type="x", branch=branch, aggregate_type="t", aggregate_id="1")
    delivery = WebhookDelivery.objects.create(subscription=sub, event=event, txid=event.txid, event_seq=event.id,
                                              status="failed", attempts=8)
    client.post("/admin/branch_ops/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.give_up_after == 16
    client.post("/admin/branch_ops/webhooksubscription/", {"action": "deactivate", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.active is False
    assert set(AuditEvent.objects.filter(actor=root).values_list("action", flat=True)) == {
        "webhook.secret_rotated", "webhook.redelivery_requested", "webhook.deactivated"}


def test_token_rotate_and_revoke_actions(client, root, staff, branch):
    service = make_staff(branch, "supervisor", "svc.admin", service=True)
    token, _raw = api_token_issue(actor=staff["supervisor"], username=service.username, name="core")
    response = client.post("/admin/branch_ops/apitoken/", {"action": "rotate", "_selected_action": [token.pk]},
                           follow=True)
    new = ApiToken.objects.get(replaces=token)
    assert "bo_" + new.prefix in response.content.decode()  # the new secret, shown once
    client.post("/admin/branch_ops/apitoken/", {"action": "revoke", "_selected_action": [new.pk]})
    new.refresh_from_db()
    assert new.revoked_at is not None
    assert {"api_token.rotated", "api_token.revoked"} <= set(
        AuditEvent.objects.filter(actor=root).values_list("action", flat=True))
