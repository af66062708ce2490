"""API authentication: bearer tokens for integration clients, the browser session (with
CSRF) for screens that call the API. Both lead to the same role rules."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from branch_ops.client_address import client_ip
from branch_ops.models import ApiToken

TOKEN_PREFIX = "bo_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() not in ("bearer", "token"):
            return None
        # the client behind trusted proxies, never a spoofable X-Forwarded-For
        failures_key = f"bo_token_failures_{client_ip(request)}"
        if cache.get(failures_key, 0) >= settings.API_TOKEN_FAILURE_LIMIT:
            # anti-automation: this address guessed wrong too often; even a right token waits
            raise exceptions.Throttled(wait=settings.API_TOKEN_FAILURE_WINDOW_SECONDS,
                                       detail=_("Too many requests with a wrong API token from this address. Try again later."))
        try:
            return self._authenticate_token(request, parts)
        except exceptions.AuthenticationFailed:
            if cache.add(failures_key, 1, timeout=settings.API_TOKEN_FAILURE_WINDOW_SECONDS) is False:
                try:
                    cache.incr(failures_key)
                except ValueError:  # expired between add and incr
                    cache.add(failures_key, 1, timeout=settings.API_TOKEN_FAILURE_WINDOW_SECONDS)
            raise

    def _authenticate_token(self, request, parts):
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        token = (
            ApiToken.objects.select_related("user", "user__staff", "user__staff__branch")
            .filter(key_hash=hash_token(parts[1]))
            .first()
        )
        now = timezone.now()
        if (
            token is None
            or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= now)
            or not token.user.is_active
        ):
            raise exceptions.AuthenticationFailed(_("The API token is not valid (unknown, expired or revoked)."))
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.api_token = token
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session; CSRF enforced as for any form."""
