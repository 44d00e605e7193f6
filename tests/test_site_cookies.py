"""The site's own cookies: whatever settings name them, the lab leaves them alone."""

import pytest

from cookies_app.site_cookies import is_env_cookie, reserved_names


def test_reserved_names_are_session_csrf_and_visitor(settings):
    assert reserved_names() == {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.COOKIE_LAB_VISITOR_COOKIE,
    }
    assert {"sessionid", "csrftoken", "cookielab_visitor"} == reserved_names()


def test_reserved_names_follow_the_secure_settings(settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"

    assert reserved_names() == {"__Host-sessionid", "__Host-csrftoken", "cookielab_visitor"}


def test_reserved_names_follow_the_visitor_cookie_setting(settings):
    settings.COOKIE_LAB_VISITOR_COOKIE = "lab_id"

    assert "lab_id" in reserved_names()
    assert "cookielab_visitor" not in reserved_names()


@pytest.mark.parametrize(
    "name",
    ["sessionid", "SESSIONID", "CsrfToken", "cookielab_visitor", "CookieLab_Visitor"],
)
def test_env_cookies_match_in_any_case(name):
    assert is_env_cookie(name) is True


@pytest.mark.parametrize(
    "name", ["flavor", "", "session", "sessionid2", " sessionid", "csrf", "__Host-sessionid"]
)
def test_other_cookies_are_not_env_cookies(name):
    assert is_env_cookie(name) is False


@pytest.mark.parametrize("name", ["__Host-sessionid", "__host-SESSIONID", "__HOST-csrftoken"])
def test_env_cookies_follow_the_settings(settings, name):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"

    assert is_env_cookie(name) is True
    assert is_env_cookie("sessionid") is False
