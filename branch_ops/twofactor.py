"""Two-factor sign-in (TOTP, django-otp) and re-authentication before sensitive actions.

- Who needs a second factor: the roles in ``OTP_REQUIRED_ROLES`` (supervisors by default)
  and superusers (``OTP_REQUIRED_FOR_SUPERUSERS``). Service accounts never sign in with a
  password, so they never meet it (their bearer tokens are their credential).
- A session is *verified* when django-otp's ``OTPMiddleware`` finds the device that
  accepted a code in it (``request.user.is_verified()``). ``TwoFactorMiddleware`` sends an
  unverified session of such a user to enrolment (no confirmed device yet) or to the code
  page before anything else.
- Codes are single use and throttled by django-otp itself: ``TOTPDevice.verify_token``
  refuses a time step at or before the last one accepted (``last_t``), tolerates one step of
  clock drift, and after each wrong code refuses every code for 1, 2, 4, 8… seconds.
- Every password or code check stamps the session (``AUTH_AT_KEY``); a sensitive action
  needs that stamp to be younger than ``REAUTH_MAX_AGE_SECONDS``.
- Backup codes (``BACKUP_CODE_COUNT`` one-time codes, django-otp's ``StaticDevice``) stand in
  for the phone at the sign-in step. They are made when TOTP is set up and on demand
  (after re-authentication), shown once, and stored as keyed hashes only: django-otp's
  ``StaticToken`` would keep them in plain text, so its 16-character ``token`` column holds
  an HMAC-SHA256 (``SECRET_KEY``, then each of ``SECRET_KEY_FALLBACKS`` when checking),
  truncated to 96 bits and base64url-encoded. A code is used by deleting its row, so two
  requests racing with one code cannot both succeed. A new set deletes the old one.
"""

from __future__ import annotations

import secrets
import time
from base64 import b32decode, b32encode, urlsafe_b64encode
from binascii import unhexlify

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from branch_ops.audit import audit_event_write

#: when the session last proved the password (and code, for 2FA roles): epoch seconds
AUTH_AT_KEY = "bo_auth_at"
DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
#: how many backup codes a new set has
BACKUP_CODE_COUNT = 10
#: lower-case letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, 10 of
#: them per code (~49 bits), shown as two groups of five
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_LENGTH = 10
_BACKUP_HASH_SALT = "branch_ops.twofactor.backup_code"


def two_factor_required(user) -> bool:
    """Does ``user`` have to pass a TOTP code after the password?"""
    if not user.is_authenticated:
        return False
    if user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSERS:
        return True
    profile = getattr(user, "staff", None)
    if profile is None or profile.kind != profile.Kind.PERSON:
        return False
    return profile.role in settings.OTP_REQUIRED_ROLES


def totp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def totp_enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device ``user`` is enrolling (a new random secret the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it by hand: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` URL as an SVG QR code in a ``data:`` URI (an <img>: no script)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def totp_code(key_hex: str, *, at: float | None = None) -> str:
    """The 6-digit code of a hex TOTP key now (or at epoch ``at``): the demo command and tests."""
    t = TOTP(unhexlify(key_hex))
    if at is not None:
        t.time = at
    return f"{t.token():06d}"


def base32_to_hex(secret: str) -> str:
    """A base32 secret (as printed for people) to the hex key django-otp stores."""
    cleaned = secret.replace(" ", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    return b32decode(cleaned).hex()


def session_mark_authenticated(request) -> None:
    """The password (and code) were just checked in this session."""
    request.session[AUTH_AT_KEY] = int(time.time())


def session_recently_authenticated(request) -> bool:
    stamp = request.session.get(AUTH_AT_KEY)
    return stamp is not None and time.time() - int(stamp) <= settings.REAUTH_MAX_AGE_SECONDS


def _verify(user, device: TOTPDevice, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits):
        # a malformed code counts as a failure for throttling too
        with transaction.atomic():
            locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            locked.throttle_increment(commit=True)
        return False
    return django_otp.verify_token(user, device.persistent_id, code) is not None


def totp_verify_allowed(device: TOTPDevice) -> bool:
    """False while django-otp's throttle makes the device refuse every code."""
    device.refresh_from_db()
    allowed, _info = device.verify_is_allowed()
    return allowed


def two_factor_confirm(*, request, code: str) -> bool:
    """Second step of sign-in: ``code`` from the user's confirmed device. On success the
    session is verified (django-otp) and stamped."""
    user = request.user
    device = totp_device_confirmed(user)
    if device is None or not _verify(user, device, code):
        return False
    django_otp.login(request, TOTPDevice.objects.get(pk=device.pk))
    session_mark_authenticated(request)
    return True


def two_factor_enrol(*, request, code: str) -> bool:
    """Finish enrolment: the first code from the new device confirms it and verifies the
    session. Audited (``two_factor.enrolled``)."""
    user = request.user
    device = totp_enrolment_device(user)
    if not _verify(user, device, code):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        audit_event_write(actor=user, action="two_factor.enrolled", object_type="totp_device",
                          object_id=str(device.pk), after={"device": device.name})
    django_otp.login(request, TOTPDevice.objects.get(pk=device.pk))
    session_mark_authenticated(request)
    return True


def totp_device_set(*, user, key_hex: str, name: str = DEVICE_NAME) -> TOTPDevice:
    """Give ``user`` one confirmed device with a known key (demo data and tests only: a real
    person enrols through the screen, which draws a random key)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=name, key=key_hex, confirmed=True)


# --- backup codes ------------------------------------------------------------------------------

def backup_code_normalize(code: str) -> str:
    """What the person typed, as stored: lower case, without spaces and hyphens."""
    return "".join(ch for ch in (code or "").lower() if ch not in " -\t")


def looks_like_backup_code(code: str) -> bool:
    """A backup code, not a 6-digit TOTP code: the sign-in step accepts either."""
    cleaned = backup_code_normalize(code)
    return len(cleaned) == BACKUP_CODE_LENGTH and all(ch in BACKUP_CODE_ALPHABET for ch in cleaned)


def _backup_code_hashes(code: str) -> list[str]:
    """The stored forms of ``code``: under the current secret key first, then each fallback
    (a key rotation does not void the codes people have printed)."""
    cleaned = backup_code_normalize(code)
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [urlsafe_b64encode(salted_hmac(_BACKUP_HASH_SALT, cleaned, secret=key, algorithm="sha256")
                              .digest()[:12]).decode() for key in keys]


def backup_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name=BACKUP_DEVICE_NAME).order_by("pk").first()


def backup_codes_remaining(user) -> int:
    device = backup_device(user)
    return 0 if device is None else StaticToken.objects.filter(device=device).count()


def backup_codes_generate(*, user, reason: str) -> list[str]:
    """A new set of ``BACKUP_CODE_COUNT`` codes for ``user``, replacing (and so voiding) any
    earlier set. Returns the codes in clear, once: only their hashes are stored. Audited
    (``two_factor.backup_codes_generated``, with ``reason``: ``enrolment`` or
    ``regenerated``)."""
    codes = ["".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
             for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        # one generation at a time per person: two at once would otherwise both replace the
        # set (and both be shown), or both create the device (the database refuses a second)
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        device = backup_device(user)
        voided = 0
        if device is None:
            device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        else:
            voided, _ = StaticToken.objects.filter(device=device).delete()
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=_backup_code_hashes(code)[0]) for code in codes])
        audit_event_write(actor=user, action="two_factor.backup_codes_generated", object_type="static_device",
                          object_id=str(device.pk),
                          after={"reason": reason, "count": len(codes), "voided": voided})
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def backup_code_verify_allowed(user) -> bool:
    """False while django-otp's throttle (after wrong backup codes) refuses every code."""
    device = backup_device(user)
    if device is None:
        return True
    allowed, _info = device.verify_is_allowed()
    return allowed


def backup_code_use(*, request, code: str) -> bool:
    """Sign-in step with a backup code instead of the phone. The code is spent by deleting
    its row (so it works exactly once, even for two requests at the same moment); the
    session is then verified by the backup-code device. A wrong code throttles the device
    (1, 2, 4… seconds). Audited (``two_factor.backup_code_used``, with how many are left)."""
    user = request.user
    device = backup_device(user)
    if device is None or not looks_like_backup_code(code):
        return False
    with transaction.atomic():
        locked = StaticDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _info = locked.verify_is_allowed()
        used = 0
        if allowed:
            # one row (the same code could in theory hash alike under two keys); the device
            # row is locked, so a second request with this code waits and then finds nothing
            match = StaticToken.objects.filter(device=locked, token__in=_backup_code_hashes(code)).first()
            if match is not None:
                used, _ = StaticToken.objects.filter(pk=match.pk).delete()
        if not used:
            if allowed:
                locked.throttle_increment(commit=True)
            return False
        locked.throttle_reset(commit=False)
        locked.last_used_at = timezone.now()
        locked.save(update_fields=["throttling_failure_count", "throttling_failure_timestamp", "last_used_at"])
        audit_event_write(actor=user, action="two_factor.backup_code_used", object_type="static_device",
                          object_id=str(locked.pk),
                          after={"remaining": StaticToken.objects.filter(device=locked).count()})
    django_otp.login(request, locked)
    session_mark_authenticated(request)
    return True
