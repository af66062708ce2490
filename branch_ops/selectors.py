"""Reads of the platform that more than one caller needs (API, admin, screens)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from branch_ops.models import Branch, WebhookAttempt, WebhookDelivery, WebhookSubscription


def webhook_subscriptions(*, branch: Branch) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.select_related("branch").filter(branch=branch).order_by("-id")


def webhook_deliveries(*, subscription: WebhookSubscription, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries with their attempt log (two queries a page)."""
    qs = (WebhookDelivery.objects.filter(subscription=subscription).select_related("event")
          .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))))
    if status:
        qs = qs.filter(status=status)
    return qs
