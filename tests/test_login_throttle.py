"""Admin login throttling (django-axes): lockout, cool-off, reset, unlock."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.asgi import get_asgi_application
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F
from django.urls import reverse

from tests.test_asgi import call
from tests.test_settings import run_python

PASSWORD = "pw-12345-long"
LIMIT = 5
COOLOFF = timedelta(minutes=15)
LOCKED_OUT = 429


@pytest.fixture(autouse=True)
def throttling(settings):
    """On, as in production (the rest of the suite runs with it off)."""
    settings.AXES_ENABLED = True
    # Hundreds of logins: a fast hash, which changes nothing that is tested here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return User.objects.create_user("staff", password=PASSWORD, is_staff=True)


def login(client, password, username="staff", address="10.0.0.1", **headers):
    data = {"username": username, "password": password, "next": "/admin/"}
    if "csrftoken" in client.cookies:
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post(reverse("admin:login"), data, REMOTE_ADDR=address, **headers)


def fail(client, times, **kwargs):
    return [login(client, "wrong-password", **kwargs).status_code for _ in range(times)]


def let_time_pass(delta):
    """Age every recorded failure, as if ``delta`` had gone by."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)


def is_logged_in(response):
    return response.status_code == 302 and "sessionid" in response.cookies


def test_settings_match_the_policy(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME == COOLOFF
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_failures_below_the_limit_show_the_login_form_again(client, staff):
    statuses = fail(client, LIMIT - 1)

    assert statuses == [200] * (LIMIT - 1)
    assert is_logged_in(login(client, PASSWORD))


def test_the_fifth_failure_locks_the_login(client, staff):
    statuses = fail(client, LIMIT)

    assert statuses == [200] * (LIMIT - 1) + [LOCKED_OUT]


def test_a_locked_login_refuses_the_right_password(client, staff):
    fail(client, LIMIT)

    response = login(client, PASSWORD)

    assert response.status_code == LOCKED_OUT
    assert "sessionid" not in response.cookies
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_lockout_message_says_what_happened_and_for_how_long(client, staff):
    fail(client, LIMIT)

    text = login(client, PASSWORD).content.decode()

    assert "Too many failed logins" in text
    assert "15 minutes" in text
    assert "ask an administrator to unlock it" in text


def test_the_lockout_answer_carries_the_site_headers(client, staff):
    fail(client, LIMIT)

    response = login(client, PASSWORD)

    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"


def test_the_lock_holds_one_username_from_one_address(client, staff):
    User.objects.create_user("other", password=PASSWORD, is_staff=True)
    fail(client, LIMIT)

    assert is_logged_in(login(client, PASSWORD, address="10.0.0.2"))
    client.logout()
    assert is_logged_in(login(client, PASSWORD, username="other"))


def test_changing_user_agent_does_not_reset_the_count(client, staff):
    statuses = [
        login(client, "wrong-password", HTTP_USER_AGENT=f"agent {i}").status_code
        for i in range(LIMIT)
    ]

    assert statuses[-1] == LOCKED_OUT
    assert login(client, PASSWORD, HTTP_USER_AGENT="a new one").status_code == LOCKED_OUT


def test_unknown_usernames_are_counted_too(client, db):
    statuses = fail(client, LIMIT, username="nobody")

    assert statuses[-1] == LOCKED_OUT


def test_still_locked_just_before_the_cool_off_ends(client, staff):
    fail(client, LIMIT)
    let_time_pass(COOLOFF - timedelta(seconds=5))

    assert login(client, PASSWORD).status_code == LOCKED_OUT


def test_the_lock_ends_after_the_cool_off(client, staff):
    fail(client, LIMIT)
    let_time_pass(COOLOFF + timedelta(seconds=1))

    assert is_logged_in(login(client, PASSWORD))


def test_tries_during_the_lockout_neither_extend_it_nor_grow_the_record(client, staff):
    fail(client, LIMIT)
    post_data = AccessAttempt.objects.get().post_data

    assert fail(client, 3) == [LOCKED_OUT] * 3
    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == LIMIT
    assert attempt.post_data == post_data

    let_time_pass(COOLOFF + timedelta(seconds=1))
    assert is_logged_in(login(client, PASSWORD))


def test_a_success_resets_the_count(client, staff):
    fail(client, LIMIT - 1)
    assert is_logged_in(login(client, PASSWORD))
    client.logout()

    assert not AccessAttempt.objects.exists()
    assert fail(client, LIMIT - 1) == [200] * (LIMIT - 1)


def test_staff_unlock_a_username_from_the_command_line(client, staff, capsys):
    fail(client, LIMIT)

    call_command("axes_reset_username", "staff")

    assert "1 attempts removed." in capsys.readouterr().out
    assert is_logged_in(login(client, PASSWORD))


def test_the_record_keeps_no_password_or_csrf_token(client, staff):
    client.get(reverse("admin:login"))  # a CSRF cookie, as a browser has
    fail(client, 1)

    post_data = AccessAttempt.objects.get().post_data

    assert "wrong-password" not in post_data
    assert client.cookies["csrftoken"].value not in post_data
    assert "csrfmiddlewaretoken=********************" in post_data


def test_staff_see_and_can_delete_attempts_in_the_admin(admin_client, client, staff):
    fail(client, LIMIT, username="<script>alert(1)</script>")
    attempt = AccessAttempt.objects.get()

    listing = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    deleted = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert listing.status_code == 200
    assert "<script>alert(1)</script>" not in listing.content.decode()
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_asgi_locks_out_too(monkeypatch):
    # Each ASGI request's thread opens its own connection: close it at the end
    # of the request, or it outlives the test and keeps the test database open.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    User.objects.create_user("staff", password=PASSWORD, is_staff=True)
    app = get_asgi_application()

    async def scenario():
        _, cookies = await call(app, "GET", "/admin/login/")
        token = next(c for c in cookies if c.startswith("csrftoken=")).split(";")[0][10:]
        headers = [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", f"csrftoken={token}".encode()),
        ]
        statuses = []
        for password in ["wrong-password"] * LIMIT + [PASSWORD]:
            body = f"username=staff&password={password}&csrfmiddlewaretoken={token}"
            status, _ = await call(app, "POST", "/admin/login/", body.encode(), headers)
            statuses.append(status)
        return statuses

    # A fresh thread: Playwright's session may keep an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        statuses = pool.submit(asyncio.run, scenario()).result(timeout=60)

    assert statuses == [200] * (LIMIT - 1) + [LOCKED_OUT, LOCKED_OUT]


HOSTILE_LOGINS = {
    "a 150-character username": {"username": "u" * 150},
    "a 256-character username": {"username": "u" * 256},
    "a 10,000-character username": {"username": "u" * 10_000},
    "a 4 KiB user agent": {"HTTP_USER_AGENT": "a" * 4096},
    "a 16 KiB Accept header": {"HTTP_ACCEPT": "text/html," * 1600},
    "non-ASCII everywhere": {"username": "stäff€", "HTTP_USER_AGENT": "Mözilla ☃"},
    "an IPv6 address": {"address": "2001:db8::1"},
}


@pytest.mark.parametrize("kwargs", HOSTILE_LOGINS.values(), ids=HOSTILE_LOGINS.keys())
def test_hostile_logins_are_counted_never_a_500(client, staff, kwargs):
    statuses = fail(client, LIMIT, **kwargs)

    assert statuses == [200] * (LIMIT - 1) + [LOCKED_OUT]


def test_an_overlong_username_is_recorded_cut_to_its_column(client, db):
    fail(client, LIMIT, username="u" * 10_000)

    assert AccessAttempt.objects.get().username == "u" * 255


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "5 0:15:00 True"),
        (
            {"COOKIE_LAB_LOGIN_FAILURE_LIMIT": "3", "COOKIE_LAB_LOGIN_COOLOFF_MINUTES": "60"},
            "3 1:00:00 True",
        ),
    ],
)
def test_production_reads_the_policy_from_the_environment(env, expected):
    result = run_python(
        "import cookiesite.wsgi; from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.AXES_ENABLED)",
        DJANGO_SECRET_KEY="x" * 60,
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    "name", ["COOKIE_LAB_LOGIN_FAILURE_LIMIT", "COOKIE_LAB_LOGIN_COOLOFF_MINUTES"]
)
def test_a_bad_policy_value_fails_loudly(name):
    result = run_python("import cookiesite.wsgi", DJANGO_SECRET_KEY="x" * 60, **{name: "0"})

    assert result.returncode != 0
    assert f"{name} must be a whole number" in result.stderr
