"""
Cookie Lab settings: one module, configured by a few environment variables.

DJANGO_DEBUG         0/1. manage.py defaults it to 1, wsgi.py/asgi.py to 0.
DJANGO_SECRET_KEY    required when DEBUG is off; a missing secret fails loudly.
DJANGO_ALLOWED_HOSTS comma-separated host names.
DATABASE_URL         default: SQLite file db.sqlite3 beside manage.py.
DJANGO_SECURE        0/1, the TLS-only settings; on by default when DEBUG is off.
COOKIE_LAB_REDACT_PATTERN  regex of cookie names whose values the log never keeps.
COOKIE_LAB_LOGIN_FAILURE_LIMIT    failed admin logins (one username, one address) before a lockout.
COOKIE_LAB_LOGIN_COOLOFF_MINUTES  how long that lockout lasts.
COOKIE_LAB_LOG       background, inline or off: how requests reach the log (see below).
COOKIE_LAB_LOG_LINGER_MS  how long a log batch waits for more requests (default 50).
COOKIE_LAB_JAR_CACHE jar rows each server process keeps to reuse (default 4096; 0: none).
COOKIE_LAB_PAGE_CACHE_KB  KB of lab pages a server process keeps to reuse (default 4096; 0: none).
DJANGO_DEBUG_TOOLBAR 0/1, django-debug-toolbar in development; off unless asked for.
"""

import os
import sys
import tempfile
from datetime import timedelta
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


def env_int(name, default, minimum):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, {minimum} or more, not {raw!r}."
        )
    return int(raw)


def env_positive_int(name, default):
    return env_int(name, default, minimum=1)


def env_count(name, default):
    return env_int(name, default, minimum=0)


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
    # django.contrib.admin, with the cookie log's dashboard as its index.
    "cookiesite.apps.CookieLabAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "cookies_app",
]

MIDDLEWARE = [
    # First: a flooded Cookie header is refused before anything parses it.
    "cookies_app.limits.CookieHeaderLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # CSP early, so every response (errors included) carries the policy and the
    # nonce exists before any view renders a <script>.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads request.POST: CsrfViewMiddleware is the first to,
    # and a form body Django refuses to decode must become a 400 there, not a 500.
    "cookies_app.middleware.FormCharsetMiddleware",
    "cookies_app.middleware.MultipartErrorMiddleware",
    # Django's sessions, users and messages, on the admin's URLs only.
    "cookies_app.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "cookies_app.middleware.AuthenticationMiddleware",
    "cookies_app.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A filter in an admin URL the database cannot answer: 400, not 500.
    "cookies_app.middleware.AdminQueryErrorMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the view
    # into the 429 answer, which then passes out through everything above.
    "axes.middleware.AxesMiddleware",
]

# django-axes refuses a locked-out login before ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

if not (DEBUG or TESTING):
    # Production serves collectstatic's output itself, answered before the rest
    # of the stack runs (WhiteNoise's documented place: after SecurityMiddleware).
    # runserver and the test servers serve the app folders as they are.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

# django-debug-toolbar only when asked for (DJANGO_DEBUG_TOOLBAR=1, development only):
# it lays a panel over the lab and its panel switches set djdt* cookies, which
# the lab would show and log like any other. Tests never load it.
ENABLE_DEBUG_TOOLBAR = DEBUG and not TESTING and env_bool("DJANGO_DEBUG_TOOLBAR", default=False)
if ENABLE_DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    # After the encoding middleware (none here) and as early as possible otherwise.
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    # Collapsed, so the lab's own panels stay readable.
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}

ROOT_URLCONF = "cookiesite.urls"

# The lab's own pages are Jinja2 (templates/ and cookies_app/jinja2/): the lab
# page renders in a fraction of the time. The admin and forms stay on Django's.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "cookies_app.jinja.environment",
            "context_processors": ["django.template.context_processors.csp"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
# Production serves collectstatic's output through WhiteNoise: hashed names
# (cached for a year, WhiteNoise's default for them), gzip copies made once at
# collectstatic. Development and tests read the app folders directly, no
# manifest needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"

# Admin login throttling (django-axes). Failures are counted per username *and*
# address together: a guesser is stopped, but cannot lock staff out from
# elsewhere. Behind a proxy every client shares its address (REMOTE_ADDR), so
# there the lockout is in effect per username. Staff unlock early with
# `manage.py axes_reset_username NAME` (or delete the attempt in the admin).
COOKIE_LAB_LOGIN_COOLOFF_MINUTES = env_positive_int("COOKIE_LAB_LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = env_positive_int("COOKIE_LAB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=COOKIE_LAB_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout neither extend it nor append to the attempt row, so the
# cool-off ends when it says and hammering a locked login writes nothing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The attempt row keeps the posted form; keep secrets out of it as the log does.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_COOLOFF_MESSAGE = (
    "Too many failed logins: this account is locked from your address for "
    f"{COOKIE_LAB_LOGIN_COOLOFF_MINUTES} minutes. Try again later, or ask an "
    "administrator to unlock it."
)


def axes_username(request, credentials):
    """The username django-axes records, cut to its column's length (255).

    The admin's login form shows a maxlength but does not enforce it, so any
    length reaches authenticate(), and PostgreSQL would refuse the INSERT: a 500.
    """
    from axes.models import AccessAttempt  # apps are loaded by the time axes asks

    username = (credentials or request.POST).get("username")
    if not isinstance(username, str):
        return username
    return username[: AccessAttempt._meta.get_field("username").max_length]


AXES_USERNAME_CALLABLE = axes_username
# Django's test client login() and plain authenticate() calls carry no request,
# which django-axes refuses; tests that exercise throttling turn it back on.
AXES_ENABLED = not TESTING

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
# Fragments of the names frameworks give session and credential cookies: Django
# (sessionid, csrftoken), PHP/Java/Express/Koa/Laravel (PHPSESSID, JSESSIONID,
# connect.sid, koa.sess, laravel_session, remember_web_*), WordPress
# (wordpress_logged_in_*, wordpress_sec_*), GitHub (_gh_sess), Tornado (_xsrf),
# OAuth and JWT (access_token, refresh, bearer, jwt), passwords (pass, pwd).
COOKIE_LAB_REDACT_PATTERN = os.environ.get(
    "COOKIE_LAB_REDACT_PATTERN",
    r"sess|token|auth|secret|key|pass|pwd|sid|csrf|xsrf|jwt|bearer|refresh|remember"
    r"|logged_in|wordpress_sec|credential|login|sso|saml|otp|mfa|hmac|ticket|nonce|cred|priv"
    r"|cf_clearance|__cf_bm",
)
# Values shaped like credentials (a JWT, 32+ hex digits, a long high-entropy
# token) are redacted whatever their name; 0 keeps them in clear.
COOKIE_LAB_REDACT_CREDENTIAL_VALUES = env_bool("COOKIE_LAB_REDACT_CREDENTIAL_VALUES", default=True)
# Flood caps: a Cookie header over this many bytes is answered 431; pages and
# JSON list at most this many cookies (and say how many they left out).
COOKIE_LAB_MAX_COOKIE_HEADER = 64 * 1024
COOKIE_LAB_MAX_COOKIES_SHOWN = 200
# Any web page can make a browser call the GET API (an image tag is enough): its
# cookies live at most this long, and only this host (or this domain) may be their Domain.
COOKIE_LAB_API_MAX_AGE = env_positive_int("COOKIE_LAB_API_MAX_AGE", 24 * 60 * 60)
COOKIE_LAB_API_DOMAIN = os.environ.get("COOKIE_LAB_API_DOMAIN", "").strip().lower()
# Flood caps for the log: longer values are truncated (original size kept),
# cookies past the count are counted on each row of the request, not stored.
COOKIE_LAB_LOG_VALUE_CAP = 1024
COOKIE_LAB_LOG_MAX_COOKIES = 64


# How a request reaches the log (cookies_app/log_writer.py):
#   background  the response goes out at once; a thread per server process
#               writes queued requests in batches, one transaction each, and
#               flushes on graceful shutdown (production's default);
#   inline      written before the response (development and tests: what a
#               page shows was logged already);
#   off         nothing is logged (to measure what logging costs).
COOKIE_LAB_LOG_MODES = ("background", "inline", "off")
COOKIE_LAB_LOG = os.environ.get("COOKIE_LAB_LOG") or (
    "inline" if DEBUG or TESTING else "background"
)
if COOKIE_LAB_LOG not in COOKIE_LAB_LOG_MODES:
    raise ImproperlyConfigured(
        f"COOKIE_LAB_LOG must be one of {', '.join(COOKIE_LAB_LOG_MODES)}, not {COOKIE_LAB_LOG!r}."
    )
# The background writer's bounds: a request waits for room when this many are
# queued (backpressure, never loss), and a batch holds at most this many.
COOKIE_LAB_LOG_QUEUE = env_positive_int("COOKIE_LAB_LOG_QUEUE", 1000)
COOKIE_LAB_LOG_BATCH = 200
# How long a batch waits for more requests after its first: one transaction
# for tens of requests under load, for a log that lands that much later.
COOKIE_LAB_LOG_LINGER_MS = env_count("COOKIE_LAB_LOG_LINGER_MS", 50)
# Jar rows each server process keeps for reuse while unchanged (jar_cache), a
# few KB each at most; 0 reads every jar from the database.
COOKIE_LAB_JAR_CACHE = env_count("COOKIE_LAB_JAR_CACHE", 4096)
# KB of rendered lab pages each server process keeps, to answer a reload that
# changes nothing without rendering again (page_cache); 0 renders every time.
COOKIE_LAB_PAGE_CACHE_KB = env_count("COOKIE_LAB_PAGE_CACHE_KB", 4096)

# The log is people's browsing history: prune_cookie_log deletes what is older than this.
COOKIE_LAB_LOG_RETENTION_DAYS = env_positive_int("COOKIE_LAB_LOG_RETENTION_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Standard output, where the app server's own lines go too (12-factor logs).
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
