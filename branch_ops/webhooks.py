"""Webhooks: a branch's outbox events POSTed to subscribers by the background worker.

Services (one transaction each, audited): :func:`webhook_subscription_create`,
:func:`webhook_secret_rotate`, :func:`webhook_subscription_deactivate`,
:func:`webhook_redeliver`. The worker (``branch_ops.tasks.webhooks_dispatch``) runs
:func:`webhooks_fan_out` (feed -> one delivery row per subscription and event) and
:func:`webhooks_deliver_due` (POST the oldest pending delivery of each subscription).

Order: per subscription, only the oldest ``pending`` delivery (by feed position) is ever
attempted; the next one waits until it is delivered or given up. No row lock is held over
the network: a worker *leases* the delivery (``leased_until``) in a short transaction,
POSTs, then records the attempt in another.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import secrets as secrets_module
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops import idempotency
from branch_ops.access import _parse_uuid, staff_profile
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, Forbidden, NotFound
from branch_ops.models import Branch, WebhookAttempt, WebhookDelivery, WebhookSubscription
from branch_ops.outbox import event_document, events_feed, feed_end
from branch_ops.roles import Perm
from branch_ops.webhook_signature import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

WILDCARD = "*"


# --- who may manage --------------------------------------------------------------------------------

def _managed_branch(actor, branch: Branch | None = None) -> Branch:
    """The branch whose webhooks ``actor`` manages: their own (supervisors), or the one
    named (a superuser in the admin)."""
    if getattr(actor, "is_superuser", False) and getattr(actor, "staff", None) is None:
        if branch is None:
            raise ApplicationError(_("Choose a branch."), code="BRANCH_REQUIRED", field="branch")
        return branch
    profile = staff_profile(actor)
    if not profile.has(Perm.MANAGE_WEBHOOKS):
        raise Forbidden(_("Your role does not allow this."), code="ROLE_NOT_ALLOWED")
    if branch is not None and branch.pk != profile.branch_id:
        raise NotFound(_("No such branch."), code="BRANCH_NOT_FOUND")
    return profile.branch


def access_webhook_subscription(*, user, public_id, for_update: bool = False) -> WebhookSubscription:
    pid = _parse_uuid(public_id)
    qs = WebhookSubscription.objects.select_related("branch").filter(public_id=pid) if pid else (
        WebhookSubscription.objects.none())
    if not (getattr(user, "is_superuser", False) and getattr(user, "staff", None) is None):
        qs = qs.filter(branch=_managed_branch(user))
    if for_update:
        qs = qs.select_for_update(no_key=True, of=("self",))
    subscription = qs.first()
    if subscription is None:
        raise NotFound(_("No such webhook subscription."), code="WEBHOOK_NOT_FOUND")
    return subscription


def access_webhook_delivery(*, user, public_id, for_update: bool = False) -> WebhookDelivery:
    pid = _parse_uuid(public_id)
    qs = WebhookDelivery.objects.select_related("subscription__branch", "event").filter(public_id=pid) if pid else (
        WebhookDelivery.objects.none())
    if not (getattr(user, "is_superuser", False) and getattr(user, "staff", None) is None):
        qs = qs.filter(subscription__branch=_managed_branch(user))
    if for_update:
        qs = qs.select_for_update(no_key=True, of=("self",))
    delivery = qs.first()
    if delivery is None:
        raise NotFound(_("No such webhook delivery."), code="WEBHOOK_DELIVERY_NOT_FOUND")
    return delivery


# --- services --------------------------------------------------------------------------------------

def webhook_url_check(url: str) -> str:
    try:
        parts = urlsplit(url or "")
        parts.port  # noqa: B018 - a port that is not a number (or over 65535) raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(_("A webhook URL must start with http:// or https:// and name a host."),
                               code="WEBHOOK_URL_NOT_HTTP", field="url")
    if parts.username or parts.password:
        raise ApplicationError(_("A webhook URL must not carry a user name or password."),
                               code="WEBHOOK_URL_CREDENTIALS", field="url")
    if len(url) > 500:
        raise ApplicationError(_("A webhook URL is at most 500 characters."), code="WEBHOOK_URL_TOO_LONG", field="url")
    webhook_target_check(url)
    return url


# --- SSRF: where the worker may POST ----------------------------------------------------------------

#: names that are the cloud metadata service wherever they resolve
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal"})


def address_refused(address: str) -> bool:
    """True for an address the worker must never POST to (unless
    ``WEBHOOK_ALLOW_PRIVATE_TARGETS``): private, loopback, link-local (169.254.169.254, the
    cloud metadata service, is one), shared, reserved, unspecified or multicast; an IPv6
    address that maps an IPv4 one is judged as that IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_private or ip.is_link_local or ip.is_loopback


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _host_refused(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or name in METADATA_HOSTS


def _refused_target_error() -> ApplicationError:
    return ApplicationError(
        _("A webhook URL must not point at a private, loopback, link-local or cloud-metadata address."),
        code="WEBHOOK_URL_PRIVATE", field="url")


def webhook_target_check(url: str) -> None:
    """Refuse a URL whose host is, or resolves to, an address the worker must not reach
    (SSRF). A name that does not resolve yet is accepted here; every delivery resolves it
    again and refuses it then (and connects to the address it checked, so a DNS answer
    that changes in between cannot slip through)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    parts = urlsplit(url)
    if _host_refused(parts.hostname):
        raise _refused_target_error()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = _resolve(parts.hostname, port)
    except (OSError, UnicodeError, ValueError):
        return
    if any(address_refused(a) for a in addresses):
        raise _refused_target_error()


def webhook_event_types_check(event_types) -> list[str]:
    if not isinstance(event_types, list) or not event_types or not all(
            isinstance(t, str) and 0 < len(t) <= 80 for t in event_types):
        raise ApplicationError(_("List the event types to deliver, or [\"*\"] for every type."),
                               code="WEBHOOK_EVENT_TYPES", field="event_types")
    return sorted(set(event_types))


def _new_secret() -> str:
    return "whsec_" + secrets_module.token_urlsafe(32)


def webhook_subscription_create(*, actor, url: str, event_types: list[str], description: str = "",
                                branch: Branch | None = None,
                                idempotency_claim=None) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to the events of the actor's branch from now on. Returns the
    subscription and its signing secret (shown once; a replay of the same
    ``Idempotency-Key`` shows it again, from the stored response)."""
    url = webhook_url_check(url)
    event_types = webhook_event_types_check(event_types)
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        branch = _managed_branch(actor, branch)
        secret = _new_secret()
        subscription = WebhookSubscription.objects.create(
            branch=branch, url=url, event_types=event_types, description=description[:200], secret=secret,
            cursor=feed_end(branch=branch) or "", created_by=actor)
        audit_event_write(actor=actor, action="webhook.created", obj=subscription, branch=branch,
                          after={"url": url, "event_types": event_types, "description": description[:200]})
        idempotency.finish(idempotency_claim, (subscription, secret))
    return subscription, secret


def webhook_secret_rotate(*, actor, subscription_id, grace_seconds: int | None = None,
                          idempotency_claim=None) -> tuple[WebhookSubscription, str]:
    """A new secret signs from now on; the current one also signs for ``grace_seconds``
    (default ``WEBHOOK_SECRET_GRACE_SECONDS``), then no longer."""
    grace = settings.WEBHOOK_SECRET_GRACE_SECONDS if grace_seconds is None else grace_seconds
    if not 0 <= grace <= 30 * 24 * 3600:
        raise ApplicationError(_("The grace period is 0 to 30 days."), code="WEBHOOK_GRACE_INVALID",
                               field="grace_seconds")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        subscription = access_webhook_subscription(user=actor, public_id=subscription_id, for_update=True)
        secret = _new_secret()
        now = timezone.now()
        subscription.previous_secret = subscription.secret if grace else ""
        subscription.previous_secret_expires_at = now + timedelta(seconds=grace) if grace else None
        subscription.secret = secret
        subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        audit_event_write(actor=actor, action="webhook.secret_rotated", obj=subscription, branch=subscription.branch,
                          after={"previous_secret_expires_at": subscription.previous_secret_expires_at})
        idempotency.finish(idempotency_claim, (subscription, secret))
    return subscription, secret


def webhook_subscription_deactivate(*, actor, subscription_id) -> WebhookSubscription:
    """No more deliveries are attempted (pending ones stay in the log)."""
    with transaction.atomic(durable=True):
        subscription = access_webhook_subscription(user=actor, public_id=subscription_id, for_update=True)
        if subscription.active:
            subscription.active = False
            subscription.deactivated_at = timezone.now()
            subscription.save(update_fields=["active", "deactivated_at"])
            audit_event_write(actor=actor, action="webhook.deactivated", obj=subscription, branch=subscription.branch,
                              before={"active": True}, after={"active": False})
    return subscription


def webhook_redeliver(*, actor, delivery_id) -> WebhookDelivery:
    """Send a delivery again (delivered or given up): it becomes pending with a fresh set
    of attempts. It keeps its place in the feed order, so later pending deliveries of the
    subscription wait for it."""
    with transaction.atomic(durable=True):
        delivery = access_webhook_delivery(user=actor, public_id=delivery_id, for_update=True)
        before = {"status": delivery.status, "attempts": delivery.attempts}
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.give_up_after = delivery.attempts + settings.WEBHOOK_MAX_ATTEMPTS
        delivery.next_attempt_at = timezone.now()
        delivery.leased_until = None
        delivery.save(update_fields=["status", "give_up_after", "next_attempt_at", "leased_until"])
        audit_event_write(actor=actor, action="webhook.redelivery_requested", obj=delivery,
                          branch=delivery.subscription.branch, before=before, after={"status": delivery.status})
        _enqueue_dispatch()
    return delivery


def _enqueue_dispatch() -> None:
    """Wake the worker in this transaction (the periodic run would find it anyway)."""
    from branch_ops.tasks import webhooks_dispatch

    webhooks_dispatch.defer()


# --- the worker's side -----------------------------------------------------------------------------

def webhooks_fan_out(*, limit: int = 500) -> int:
    """Turn new feed events of each active subscription's branch into pending deliveries,
    in feed order. One short transaction per subscription; subscriptions another worker
    is fanning out are skipped."""
    created = 0
    for sub_id in WebhookSubscription.objects.filter(active=True).values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            subscription = (WebhookSubscription.objects.select_for_update(no_key=True, of=("self",), skip_locked=True)
                            .select_related("branch").filter(pk=sub_id, active=True).first())
            if subscription is None:
                continue
            events, cursor = events_feed(branch=subscription.branch, after=subscription.cursor or None, limit=limit)
            wanted = set(subscription.event_types)
            rows = [WebhookDelivery(subscription=subscription, event=e, txid=e.txid, event_seq=e.id,
                                    give_up_after=settings.WEBHOOK_MAX_ATTEMPTS)
                    for e in events if WILDCARD in wanted or e.event_type in wanted]
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
            if cursor and cursor != subscription.cursor:
                subscription.cursor = cursor
                subscription.save(update_fields=["cursor"])
    return created


_HEADS_SQL = """
WITH heads AS (
    SELECT DISTINCT ON (d.subscription_id) d.id, d.next_attempt_at, d.leased_until
    FROM branch_ops_webhookdelivery d
    JOIN branch_ops_webhooksubscription s ON s.id = d.subscription_id AND s.active
    WHERE d.status = 'pending'
    ORDER BY d.subscription_id, d.txid, d.event_seq
)
SELECT id FROM heads
WHERE next_attempt_at <= %s AND (leased_until IS NULL OR leased_until < %s)
ORDER BY next_attempt_at
LIMIT 20
"""


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    attempt: int
    url: str
    secrets: list[str]
    event_public_id: str
    body: bytes


def _claim_next(now) -> _Job | None:
    with connection.cursor() as cur:
        cur.execute(_HEADS_SQL, [now, now])
        candidates = [row[0] for row in cur.fetchall()]
    for delivery_id in candidates:
        with transaction.atomic(durable=True):
            delivery = (WebhookDelivery.objects.select_for_update(no_key=True, of=("self",), skip_locked=True)
                        .select_related("subscription", "event__branch")
                        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).first())
            if delivery is None or (delivery.leased_until and delivery.leased_until >= now):
                continue
            delivery.attempts += 1
            delivery.leased_until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30)
            delivery.save(update_fields=["attempts", "leased_until"])
            sub = delivery.subscription
            keys = [sub.secret]
            if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
                keys.append(sub.previous_secret)
            body = json.dumps(event_document(delivery.event), separators=(",", ":"), ensure_ascii=False).encode()
            return _Job(delivery.pk, delivery.attempts, sub.url, keys, str(delivery.event.public_id), body)
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the SSRF check passed, not to a fresh DNS answer."""

    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is verified for the host name (SNI too)."""

    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _target_address(parts) -> tuple[str | None, str]:
    """(the address to connect to, or None and why not)."""
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _host_refused(parts.hostname):
        return None, "refused: the host is a private, loopback, link-local or metadata address"
    try:
        addresses = _resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError, ValueError) as exc:
        return None, f"DNS: {exc}"[:500]
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        refused = [a for a in addresses if address_refused(a)]
        if refused:
            return None, f"refused: {parts.hostname} resolves to a private, loopback, link-local or metadata " \
                         f"address ({refused[0]})"
    return addresses[0], ""


def _post(job: _Job) -> tuple[int | None, str]:
    """POST with http.client: no redirects followed (a 3xx is not a delivery), certificates
    verified for https, header names sent exactly as documented, and only to an address
    that passed the SSRF check."""
    parts = urlsplit(job.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:  # the database refuses it too
        return None, "URL is not http(s)"
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return None, "URL has an invalid port"
    address, why = _target_address(parts)
    if address is None:
        return None, why
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    conn = connection_class(parts.hostname, parts.port, address=address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=job.body, headers={
            "Content-Type": "application/json",
            "User-Agent": "BranchOps-Webhooks/1",
            EVENT_ID_HEADER: job.event_public_id,
            SIGNATURE_HEADER: sign(job.secrets, job.body, int(time.time())),
            "X-BranchOps-Delivery-Attempt": str(job.attempt),
        })
        response = conn.getresponse()
        response.read(4096)
        return response.status, ""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()


def backoff_seconds(attempt: int) -> float:
    """Delay after failed attempt number ``attempt`` (1, 2, ...): base * 2^(n-1), capped."""
    return min(settings.WEBHOOK_BACKOFF_CAP_SECONDS, settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))


def _record(job: _Job, started, status_code: int | None, error: str, latency_ms: int) -> str:
    from branch_ops.metrics import WEBHOOK_ATTEMPTS

    with transaction.atomic(durable=True):
        delivery = WebhookDelivery.objects.select_for_update(no_key=True, of=("self",)).get(pk=job.delivery_id)
        WebhookAttempt.objects.create(delivery=delivery, number=job.attempt, started_at=started,
                                      status_code=status_code, latency_ms=latency_ms, error=error)
        now = timezone.now()
        delivery.last_status_code = status_code
        delivery.leased_until = None
        if status_code is not None and 200 <= status_code < 300:
            delivery.status, delivery.delivered_at, outcome = WebhookDelivery.Status.DELIVERED, now, "delivered"
        elif delivery.attempts >= delivery.give_up_after:
            delivery.status, outcome = WebhookDelivery.Status.FAILED, "given_up"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
            outcome = "retry"
        delivery.save(update_fields=["status", "delivered_at", "last_status_code", "leased_until", "next_attempt_at"])
    WEBHOOK_ATTEMPTS.labels(outcome=outcome).inc()
    logger.info("webhook attempt", extra={"delivery": job.delivery_id, "attempt": job.attempt,
                                          "status_code": status_code, "latency_ms": latency_ms, "outcome": outcome,
                                          "error": error})
    return outcome


def webhooks_deliver_due(*, max_deliveries: int = 100, time_budget: float = 50.0) -> int:
    """POST due deliveries (each subscription's oldest pending one), one at a time, until
    none is due, ``max_deliveries`` were attempted or ``time_budget`` seconds passed.
    Returns the number of attempts made."""
    deadline = time.monotonic() + time_budget
    attempted = 0
    while attempted < max_deliveries and time.monotonic() < deadline:
        job = _claim_next(timezone.now())
        if job is None:
            break
        started = timezone.now()
        t0 = time.perf_counter()
        status_code, error = _post(job)
        _record(job, started, status_code, error, int((time.perf_counter() - t0) * 1000))
        attempted += 1
    return attempted


def webhook_pending_stats() -> tuple[int, float]:
    """(pending deliveries of active subscriptions, age in seconds of the oldest one)."""
    with connection.cursor() as cur:
        cur.execute("""SELECT count(*), coalesce(extract(epoch FROM now() - min(e.created_at)), 0)
                       FROM branch_ops_webhookdelivery d
                       JOIN branch_ops_webhooksubscription s ON s.id = d.subscription_id AND s.active
                       JOIN branch_ops_outboxevent e ON e.id = d.event_id
                       WHERE d.status = 'pending'""")
        count, age = cur.fetchone()
    return int(count), float(age)
