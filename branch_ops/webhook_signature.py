"""Webhook signatures, Stripe-style. Standard library only: integrators may copy
:func:`verify_signature` into their receiver as it is.

Every delivery carries::

    X-BranchOps-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

During a secret rotation's grace period the header carries one ``v1=`` per valid secret
(the new one first); a receiver accepts the request if any of them matches its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-BranchOps-Signature"
EVENT_ID_HEADER = "X-BranchOps-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secrets: list[str], body: bytes, timestamp: int) -> str:
    """The header value for ``body`` signed with each of ``secrets`` at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """True if ``header`` (the ``X-BranchOps-Signature`` value) signs the raw request
    ``body`` with ``secret`` and its timestamp is within ``tolerance`` seconds of ``now``
    (which refuses a replay of an old delivery). Compare against the raw bytes received,
    before any JSON parsing."""
    timestamp, signatures = None, []
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
