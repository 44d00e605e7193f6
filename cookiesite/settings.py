"""
Cookie Lab settings: one module, configured by a few environment variables.

DJANGO_DEBUG         0/1. manage.py defaults it to 1, wsgi.py/asgi.py to 0.
DJANGO_SECRET_KEY    required when DEBUG is off; a missing secret fails loudly.
DJANGO_ALLOWED_HOSTS comma-separated host names.
DATABASE_URL         default: SQLite file db.sqlite3 beside manage.py.
DJANGO_SECURE        0/1, the TLS-only settings; on by default when DEBUG is off.
COOKIE_LAB_REDACT_PATTERN  regex of cookie names whose values the log never keeps.
"""

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {raw!r}.")


def env_list(name, default):
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# The toolbar's own test detection; under tests the toolbar stays out.
TESTING = "test" in sys.argv[1:2] or "PYTEST_VERSION" in os.environ

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG=0) needs a "
            "secret: export DJANGO_SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')"
        )
    # Development and tests only; never used when DEBUG is off.
    SECRET_KEY = "django-insecure-cookie-lab-development-only"

# Loopback names in development and tests (the browser tests compare
# localhost with 127.0.0.1); production lists its hosts explicitly.
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG or TESTING else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cookies_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CSP early, so every response (errors included) carries the policy and the
    # nonce exists before any view renders a <script>.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ENABLE_DEBUG_TOOLBAR = DEBUG and not TESTING
if ENABLE_DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    # After the encoding middleware (none here) and as early as possible otherwise.
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    # Collapsed, so the lab's own panels stay readable.
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}

ROOT_URLCONF = "cookiesite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "cookiesite.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections in production (gunicorn's threads keep theirs), so
        # a request never pays for a new connection. runserver starts a thread per
        # request, which would leak one connection each: Django's docs advise 0.
        conn_max_age=0 if DEBUG else 600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write
        # lock at BEGIN, so a busy writer waits (up to the timeout) instead of
        # failing mid-transaction with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000"
        ),
    }
    if TESTING:
        # A file, not Django's shared-cache memory database: there, parallel
        # requests to the live server fail with "database table is locked"
        # instead of waiting, which a real (WAL) database never does.
        DATABASES["default"]["TEST"] = {
            "NAME": os.path.join(tempfile.gettempdir(), f"cookielab-test-{os.getpid()}.sqlite3")
        }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"

# Content-Security-Policy (Django's built-in middleware). Scripts and styles
# only from this origin or with the per-request nonce: a cookie value that
# slips into the page as markup still cannot run.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# TLS-only settings. On by default in production; DJANGO_SECURE=0 lets a
# production-mode server run over plain HTTP on loopback. Tests speak plain
# HTTP to the test client and live server, so they opt in explicitly.
SECURE = env_bool("DJANGO_SECURE", default=not (DEBUG or TESTING))
if SECURE:
    SECURE_SSL_REDIRECT = True
    # Behind a TLS-terminating proxy that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- binds the cookies to this exact host over HTTPS with Path=/.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookie Lab's own knobs.
COOKIE_LAB_VISITOR_COOKIE = "cookielab_visitor"
# Names whose values the log keeps only as a keyed hash and a length.
COOKIE_LAB_REDACT_PATTERN = os.environ.get(
    "COOKIE_LAB_REDACT_PATTERN", r"session|token|auth|secret|key|pass|sid|csrf"
)
# Flood caps for the log: longer values are truncated (original size kept),
# cookies past the count are counted on each row of the request, not stored.
COOKIE_LAB_LOG_VALUE_CAP = 1024
COOKIE_LAB_LOG_MAX_COOKIES = 64


def env_positive_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number, 1 or more, not {raw!r}.")
    return int(raw)


# The log is people's browsing history: prune_cookie_log deletes what is older than this.
COOKIE_LAB_LOG_RETENTION_DAYS = env_positive_int("COOKIE_LAB_LOG_RETENTION_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
