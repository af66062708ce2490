"""Liveness, readiness and metrics endpoints (outside the API, no session, no login)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from branch_ops.client_address import client_ip
from branch_ops.metrics import render_metrics, worker_heartbeat_age


@never_cache
@require_GET
def live(request):
    """The process answers. Nothing else is checked: a restart would not cure the database."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    """Can this instance do useful work: the database answers and a background worker has
    sent a heartbeat within ``WORKER_HEARTBEAT_MAX_AGE_SECONDS``. 503 with the reason if not."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        age = worker_heartbeat_age()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "reason": "database",
                             "detail": type(exc).__name__}, status=503)
    limit = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS
    if age is None:
        return JsonResponse({"status": "unavailable", "reason": "worker", "detail": "no worker has a heartbeat"},
                            status=503)
    if age > limit:
        return JsonResponse({"status": "unavailable", "reason": "worker",
                             "detail": f"last worker heartbeat {age:.0f}s ago (limit {limit}s)"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "worker_heartbeat_age_seconds": round(age, 1)})


def _metrics_allowed(request) -> bool:
    if settings.METRICS_TOKEN:
        header = request.headers.get("Authorization", "")
        if hmac.compare_digest(header.encode(), f"Bearer {settings.METRICS_TOKEN}".encode()):
            return True
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


@never_cache
@require_GET
def metrics(request):
    if not _metrics_allowed(request):
        return JsonResponse({"status": 403, "detail": "metrics are not served to this client"}, status=403)
    return HttpResponse(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
