"""Flood caps: an oversized Cookie header gets a 431; a big jar is listed in part."""

import time

import pytest
from django.test import override_settings

from cookies_app import limits

MIDDLEWARE_PATH = "cookies_app.limits.CookieHeaderLimitMiddleware"


def flood(count, value="x"):
    return "; ".join(f"c{i}={value}" for i in range(count))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/cookies", "/api/cookies", "/cookies/check", "/admin/login/"])
def test_oversized_cookie_header_is_a_431_that_says_why(client, url, settings):
    header = flood(20_000)
    assert len(header) > settings.COOKIE_LAB_MAX_COOKIE_HEADER

    response = client.get(url, HTTP_COOKIE=header)

    assert response.status_code == 431
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert f"{len(header)} bytes" in body and str(settings.COOKIE_LAB_MAX_COOKIE_HEADER) in body


@pytest.mark.django_db
def test_header_at_the_limit_is_accepted(client, settings):
    header = flood(20_000)[: settings.COOKIE_LAB_MAX_COOKIE_HEADER]

    assert client.get("/api/cookies", HTTP_COOKIE=header).status_code == 200


def test_middleware_runs_before_anything_parses_cookies(settings):
    assert settings.MIDDLEWARE.index(MIDDLEWARE_PATH) < settings.MIDDLEWARE.index(
        "cookies_app.middleware.SessionMiddleware"
    )


@pytest.mark.django_db
def test_lab_lists_the_first_cookies_and_says_how_many_are_left_out(client, settings):
    limit = settings.COOKIE_LAB_MAX_COOKIES_SHOWN

    response = client.get("/cookies", HTTP_COOKIE=flood(limit + 37))

    assert len(response.context["received"]) == limit
    assert response.context["received_left_out"] == 37
    assert "37 more" in response.content.decode()


@pytest.mark.django_db
def test_api_json_says_how_many_are_left_out(client, settings):
    limit = settings.COOKIE_LAB_MAX_COOKIES_SHOWN

    answer = client.get("/api/cookies", HTTP_COOKIE=flood(limit + 5)).json()

    assert len(answer["cookies"]) == limit
    assert answer["left_out"] == 5


@pytest.mark.django_db
def test_api_json_has_no_left_out_key_without_a_flood(client):
    assert client.get("/api/cookies", HTTP_COOKIE="a=1").json() == {"cookies": {"a": "1"}}


@pytest.mark.django_db
def test_export_is_capped_too(client, settings):
    limit = settings.COOKIE_LAB_MAX_COOKIES_SHOWN

    body = client.get(
        "/api/cookies/export", {"format": "header"}, HTTP_COOKIE=flood(limit + 5)
    ).content.decode()

    assert body.count("=") == limit


@pytest.mark.django_db
def test_largest_accepted_request_keeps_the_lab_page_bounded(client, settings):
    """The biggest header the site accepts, as tiny cookies: the most rows a page could have."""
    header = flood(20_000, value="1")[: settings.COOKIE_LAB_MAX_COOKIE_HEADER].rsplit(";", 1)[0]
    cookies = header.count("=")

    started = time.perf_counter()
    response = client.get("/cookies", HTTP_COOKIE=header)
    elapsed = time.perf_counter() - started

    print(f"\nlargest accepted: {cookies} cookies, {len(response.content)} bytes, {elapsed:.2f} s")
    assert response.status_code == 200
    assert cookies > 5 * settings.COOKIE_LAB_MAX_COOKIES_SHOWN
    # What grows is bounded by the caps (rows shown, rows logged), not by the flood.
    assert len(response.content) < 400_000


@pytest.mark.parametrize(("count", "left_out"), [(0, 0), (3, 0), (5, 2)])
def test_shown_splits_at_the_limit(count, left_out):
    with override_settings(COOKIE_LAB_MAX_COOKIES_SHOWN=3):
        first, rest = limits.shown({f"c{i}": "v" for i in range(count)})

    assert (len(first), rest) == (min(count, 3), left_out)
