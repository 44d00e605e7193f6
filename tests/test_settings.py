"""Settings read from the environment, checked in fresh interpreters."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_python(code, **env):
    """Run ``code`` in a new interpreter with a clean Django environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def manage(*args, **env):
    return run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        f"execute_from_command_line(['manage.py', *{list(args)!r}])",
        DJANGO_SETTINGS_MODULE="cookiesite.settings",
        **env,
    )


@pytest.mark.parametrize("entry_point", ["cookiesite.wsgi", "cookiesite.asgi"])
def test_production_entry_points_refuse_to_start_without_a_secret(entry_point):
    result = run_python(f"import {entry_point}")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_entry_point_starts_with_a_secret():
    result = run_python(
        "import cookiesite.wsgi; from django.conf import settings; "
        "print(settings.DEBUG, settings.SECURE, settings.SESSION_COOKIE_NAME)",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="lab.example",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "__Host-sessionid"]


def test_manage_py_defaults_to_development():
    result = run_python(
        "import runpy, sys; sys.argv = ['manage.py', 'diffsettings', '--all']; "
        "runpy.run_path('manage.py', run_name='__main__')"
    )

    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout
    assert "SECURE_SSL_REDIRECT = False" in result.stdout


def test_secure_can_be_turned_off_for_plain_http_on_loopback():
    result = run_python(
        "import cookiesite.wsgi; from django.conf import settings; "
        "print(settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE)",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_SECURE="0",
    )

    assert result.stdout.split() == ["False", "False"], result.stderr


def test_a_bad_boolean_is_a_clear_error():
    result = run_python("import cookiesite.wsgi", DJANGO_DEBUG="maybe")

    assert "DJANGO_DEBUG must be 0 or 1, not 'maybe'" in result.stderr


def test_allowed_hosts_is_a_comma_separated_list():
    result = run_python(
        "import cookiesite.wsgi; from django.conf import settings; print(settings.ALLOWED_HOSTS)",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="a.example, b.example",
    )

    assert result.stdout.strip() == "['a.example', 'b.example']"


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    result = run_python(
        "import django; django.setup(); "
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA temp_store'); print(c.fetchone()[0]); "
        "print(connection.transaction_mode)",
        DJANGO_SETTINGS_MODULE="cookiesite.settings",
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'lab.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    # temp_store 0, SQLite's default: only the log writer keeps its scratch
    # storage in memory (tests/test_sqlite_turns.py).
    assert result.stdout.split() == ["wal", "20000", "0", "IMMEDIATE"]


CONCURRENT_WRITERS = """
import threading
import django
django.setup()
from django.db import connection
from django.test import Client
from cookies_app.models import Request

errors = []

def writer():
    # Each thread is a browser: every request writes through the real log path.
    client = Client(HTTP_HOST="localhost")
    try:
        for i in range(40):
            client.cookies[f"c{i % 5}"] = str(i)
            response = client.get("/api/cookies")
            assert response.status_code == 200, response.status_code
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=writer) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(len(errors), Request.objects.count())
print(errors[:1])
"""


def test_concurrent_writers_never_hit_database_is_locked(tmp_path):
    env = {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'lab.sqlite3'}"}
    assert manage("migrate", "--noinput", **env).returncode == 0

    result = run_python(CONCURRENT_WRITERS, DJANGO_SETTINGS_MODULE="cookiesite.settings", **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"0 {8 * 40}", result.stdout


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE": "1",
    "DJANGO_SECRET_KEY": "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
    "DJANGO_ALLOWED_HOSTS": "lab.example",
}


def test_check_deploy_passes_in_production_configuration():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weak_production_setup():
    """The check above can fail: plain HTTP in production is reported."""
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DJANGO_SECURE": "0"}
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr or "security.W004" in result.stdout


def test_production_security_headers_and_cookie_names():
    result = run_python(
        "import cookiesite.wsgi; from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY, "
        "s.SECURE_CROSS_ORIGIN_OPENER_POLICY, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "same-origin",
        "same-origin",
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "31536000",
    ]


def test_persistent_connections_in_production_only():
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.DATABASES['default']['CONN_MAX_AGE'])"
    production = run_python(code, DJANGO_SETTINGS_MODULE="cookiesite.settings", **PRODUCTION)
    development = run_python(code, DJANGO_SETTINGS_MODULE="cookiesite.settings", DJANGO_DEBUG="1")

    assert production.stdout.strip() == "600", production.stderr
    assert development.stdout.strip() == "0", "runserver's thread per request would leak them"


TOOLBAR_STATE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "from django.urls import NoReverseMatch, reverse\n"
    "try:\n    reverse('djdt:render_panel'); routed = True\n"
    "except NoReverseMatch:\n    routed = False\n"
    "print(s.ENABLE_DEBUG_TOOLBAR, 'debug_toolbar' in s.INSTALLED_APPS, "
    "any('debug_toolbar' in m for m in s.MIDDLEWARE), routed)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # A new user's `make run`: no toolbar over the lab, no djdt* cookies in it.
        ({"DJANGO_DEBUG": "1"}, "False False False False"),
        ({"DJANGO_DEBUG": "1", "DJANGO_DEBUG_TOOLBAR": "0"}, "False False False False"),
        ({"DJANGO_DEBUG": "1", "DJANGO_DEBUG_TOOLBAR": "1"}, "True True True True"),
        # Asking for it in production changes nothing.
        ({**PRODUCTION, "DJANGO_DEBUG_TOOLBAR": "1"}, "False False False False"),
    ],
)
def test_the_debug_toolbar_is_off_unless_asked_for(env, expected):
    result = run_python(TOOLBAR_STATE, DJANGO_SETTINGS_MODULE="cookiesite.settings", **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_tests_never_load_the_debug_toolbar():
    result = run_python(
        TOOLBAR_STATE,
        DJANGO_SETTINGS_MODULE="cookiesite.settings",
        DJANGO_DEBUG="1",
        DJANGO_DEBUG_TOOLBAR="1",
        PYTEST_VERSION="9",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False False False"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COOKIE_LAB_LOG": "sometimes"}, "COOKIE_LAB_LOG must be one of background, inline, off"),
        ({"COOKIE_LAB_LOG_QUEUE": "0"}, "COOKIE_LAB_LOG_QUEUE must be a whole number, 1 or more"),
        ({"COOKIE_LAB_JAR_CACHE": "-1"}, "COOKIE_LAB_JAR_CACHE must be a whole number, 0 or more"),
        ({"COOKIE_LAB_LOG_LINGER_MS": "0.5"}, "COOKIE_LAB_LOG_LINGER_MS must be a whole number, 0"),
    ],
)
def test_the_log_settings_refuse_a_bad_value_clearly(env, expected):
    result = run_python("import cookiesite.wsgi", DJANGO_SECRET_KEY="x" * 50, **env)

    assert expected in result.stderr


@pytest.mark.parametrize(
    ("env", "mode"),
    [({}, "background"), ({"DJANGO_DEBUG": "1"}, "inline"), ({"COOKIE_LAB_LOG": "off"}, "off")],
)
def test_production_logs_in_the_background_development_inline(env, mode):
    code = (
        "import cookiesite.wsgi; from django.conf import settings; print(settings.COOKIE_LAB_LOG)"
    )
    result = run_python(code, DJANGO_SECRET_KEY="x" * 50, **env)

    assert result.stdout.split() == [mode], result.stderr
