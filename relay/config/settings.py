"""Relay's settings: one module, every deployment choice read from the environment.

See README.md ("Configuration") for the variables.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RELAY_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("RELAY_DEBUG", False)
SECRET_KEY = os.environ.get("RELAY_SECRET_KEY", "relay-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = [
    h for h in os.environ.get("RELAY_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("RELAY_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "rules",
    "relay.core",
    "relay.accounts",
    "relay.customers",
    "relay.activities",
    "relay.cases",
    "relay.notifications",
    "relay.channels.email",
    "relay.channels.telephony",
    "relay.channels.push",
    "relay.channels.portal",
    "relay.commerce",
    "relay.recommendations",
    "relay.api",
    "anymail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "relay.accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "relay.core.middleware.AuditOriginMiddleware",
    "relay.core.middleware.UserTimeZoneMiddleware",
]
# API requests with a bearer token (relay.core.handlers): the security headers, no browser middleware
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "relay.core.middleware.AuditOriginMiddleware",
]

ROOT_URLCONF = "relay.config.urls"
WSGI_APPLICATION = "relay.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "relay" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------------
# SQLite by default (WAL, busy timeout, BEGIN IMMEDIATE so writers queue instead of failing), PostgreSQL
# through DATABASE_URL with psycopg's connection pool.
SQLITE_PATH = VAR_DIR / "relay.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # One connection per worker thread for its lifetime: opening one runs the pragmas below, which costs
    # more than most requests (1.3 ms of a 1.5 ms health check).
    _db["CONN_MAX_AGE"] = None
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;PRAGMA cache_size=-64000;PRAGMA mmap_size=268435456;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = 0
    # One test database per test process, so that concurrent runs on one server never clash.
    _db["TEST"] = {"NAME": os.environ.get("RELAY_TEST_DB_NAME", f"test_relay_{os.getpid()}")}
    _db["OPTIONS"] = {
        "pool": {
            "min_size": int(os.environ.get("RELAY_DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("RELAY_DB_POOL_MAX", "10")),
            "timeout": 10,
        },
    }
DATABASES = {"default": _db}
# PostgreSQL: the screen pop's reads are planned once per session (PREPARE / EXECUTE, ADR 0020); off
# behind a pooler that shares sessions between transactions (PgBouncer in transaction mode)
RELAY_DB_SERVER_STATEMENTS = os.environ.get("RELAY_DB_SERVER_STATEMENTS", "1") not in ("0", "false", "no")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "relay.accounts.backends.PasswordBackend",
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("RELAY_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "relay" / "static"]
MEDIA_ROOT = Path(os.environ.get("RELAY_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "relay.core.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Security -----------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "relay.accounts.sessions"  # one query for the session and its user
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# --- Relay ---------------------------------------------------------------------------------------------
RELAY_PHONE_REGION = os.environ.get("RELAY_PHONE_REGION", "US")
RELAY_CASE_REOPEN_DAYS = int(os.environ.get("RELAY_CASE_REOPEN_DAYS", "30"))
RELAY_ATTACHMENT_MAX_BYTES = int(os.environ.get("RELAY_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
RELAY_ATTACHMENT_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "text/plain",
    "text/csv",
    "message/rfc822",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "audio/mpeg",
    "audio/wav",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail --------------------------------------------------------------------------------------------
# RELAY_SMTP_URL=smtp://user:password@host:587 (smtps:// for implicit TLS; ?starttls=1 for STARTTLS).
# Without it, mail is written to files in var/mail (development and the demo): nothing is lost and no
# delivery waits for a mail server that is not there.
DEFAULT_FROM_EMAIL = os.environ.get("RELAY_FROM_EMAIL", "Relay <relay@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
RELAY_BASE_URL = os.environ.get("RELAY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_smtp_url = os.environ.get("RELAY_SMTP_URL", "")
if _smtp_url:
    from urllib.parse import parse_qs, unquote, urlsplit

    _smtp = urlsplit(_smtp_url)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp.hostname or "localhost",
                "port": _smtp.port or (465 if _smtp.scheme == "smtps" else 25),
                "username": unquote(_smtp.username or ""),
                "password": unquote(_smtp.password or ""),
                "use_ssl": _smtp.scheme == "smtps",
                "use_tls": parse_qs(_smtp.query).get("starttls", ["0"])[0] in {"1", "true"},
                "timeout": 20,
            },
        }
    }
elif os.environ.get("RELAY_EMAIL_PROVIDER"):
    # A provider through django-anymail: RELAY_EMAIL_PROVIDER=mailgun (or postmark, sendgrid, amazon_ses,
    # ...) and its credentials as ANYMAIL_<NAME> variables, e.g. ANYMAIL_MAILGUN_API_KEY.
    _provider = os.environ["RELAY_EMAIL_PROVIDER"].strip().lower()
    MAILERS = {"default": {"BACKEND": f"anymail.backends.{_provider}.EmailBackend"}}
    ANYMAIL = {k.removeprefix("ANYMAIL_"): v for k, v in os.environ.items() if k.startswith("ANYMAIL_")}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }

# --- Background work -----------------------------------------------------------------------------------
# Business code uses django.tasks only; the engine is Huey. Embedded (SQLite file, consumer started by
# `relay serve`) unless RELAY_TASKS names a Redis URL.
RELAY_TASKS = os.environ.get("RELAY_TASKS", "sqlite")
TASKS = {"default": {"BACKEND": "relay.core.tasks_backend.HueyTaskBackend"}}
if env_bool("RELAY_TASKS_IMMEDIATE"):
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# --- Channels (relay/channels/) ------------------------------------------------------------------------
# The SMTP ingress (`relay smtpd`) listens here; the demo mailbox takes mail sent to it.
RELAY_SMTPD_HOST = os.environ.get("RELAY_SMTPD_HOST", "127.0.0.1")
RELAY_SMTPD_PORT = int(os.environ.get("RELAY_SMTPD_PORT", "2525"))
RELAY_EMAIL_MAX_BYTES = int(os.environ.get("RELAY_EMAIL_MAX_BYTES", str(25 * 1024 * 1024)))
# Auto-acknowledgements: at most this many to one sender per hour (no mail loops with robots).
RELAY_AUTOREPLY_PER_HOUR = int(os.environ.get("RELAY_AUTOREPLY_PER_HOUR", "3"))
# Telephony: Twilio's auth token (validates X-Twilio-Signature) and the secret of the generic JSON webhook.
RELAY_TWILIO_AUTH_TOKEN = os.environ.get("RELAY_TWILIO_AUTH_TOKEN", "")
RELAY_PHONE_WEBHOOK_SECRET = os.environ.get("RELAY_PHONE_WEBHOOK_SECRET", "relay-demo-phone-secret")
# Live push (screen pops): through Redis pub/sub when RELAY_PUSH names a Redis URL (several web
# processes on several machines), else through the database (one machine, any number of processes).
RELAY_PUSH = os.environ.get("RELAY_PUSH", RELAY_TASKS if RELAY_TASKS.startswith("redis") else "database")
# Customer portal: one-time sign-in links live this long; portal sessions this long.
RELAY_PORTAL_LINK_MINUTES = int(os.environ.get("RELAY_PORTAL_LINK_MINUTES", "30"))
RELAY_PORTAL_SESSION_HOURS = int(os.environ.get("RELAY_PORTAL_SESSION_HOURS", "12"))

# --- API -----------------------------------------------------------------------------------------------
# History rows are read by record (relay.core.audit.AuditedHistory indexes what is read), not by date
SIMPLE_HISTORY_DATE_INDEX = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "relay.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["relay.api.permissions.IsStaffMember"],
    "DEFAULT_PAGINATION_CLASS": "relay.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "relay.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "relay.api.schema.RelayAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "relay.api.negotiation.ContentNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS is a 405: the OpenAPI document describes the endpoints
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Relay API",
    "DESCRIPTION": "The customer file, its timeline and the people who work on it.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "PartyKindEnum": "relay.customers.choices.PartyKind",
        "ContactKindEnum": "relay.customers.choices.ContactKind",
        "LifecycleStageEnum": "relay.customers.choices.LifecycleStage",
        "ChannelEnum": "relay.core.choices.Channel",
        "EntryKindEnum": "relay.activities.choices.EntryKind",
        "StatusCategoryEnum": "relay.cases.choices.StatusCategory",
        "PriorityEnum": "relay.cases.choices.Priority",
        "ProductKindEnum": "relay.commerce.choices.ProductKind",
        "SubscriptionKindEnum": "relay.commerce.choices.SubscriptionKind",
        "OrderStatusEnum": "relay.commerce.choices.OrderStatus",
        "InvoiceStatusEnum": "relay.commerce.choices.InvoiceStatus",
        "SubscriptionStatusEnum": "relay.commerce.choices.SubscriptionStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RELAY_LOG_LEVEL", "INFO")},
    "loggers": {"huey": {"level": "WARNING"}},
}
