"""Rate limits per API token (DRF throttling): each token has its own bucket, at its own
rate (``ApiToken.rate_limit``) or ``API_TOKEN_DEFAULT_RATE``. Over the limit the API
answers 429 ``RATE_LIMITED`` with ``Retry-After``. Browser sessions are not throttled here.

The counts live in Django's cache: per process with the default locmem cache, shared with
``CACHE_URL=dbcache://branch_ops_cache`` or Redis (see docs/operations.md).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from branch_ops.client_address import client_ip
from branch_ops.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def __init__(self):  # the rate is the token's, known only per request
        self.rate = None

    def allow_request(self, request, view):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is None:
            return True
        self.rate = token.rate_limit or settings.API_TOKEN_DEFAULT_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request):
        """The client address for any per-address bucket: behind trusted proxies only
        (``branch_ops.client_address``), unlike DRF's, which believes X-Forwarded-For from
        anyone once ``NUM_PROXIES`` is set."""
        return client_ip(request)

    def get_cache_key(self, request, view):
        return f"throttle_token_{request.auth.public_id}"
