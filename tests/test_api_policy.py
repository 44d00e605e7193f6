"""
The GET API's planting policy: any web page can make a browser call it, so its
cookies are host-only (or the configured lab domain), under /cookies or /api,
short-lived, and never the site's own. The damage stays inside the lab.
"""

import json
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.cookiejar import CookieJar
from urllib.parse import quote
from urllib.request import Request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cookies_app import httpbin
from cookies_app.rules import path_matches
from tests.conftest import record_examples

LAB_HOST = "lab.example.com"
PATHS_MESSAGE = "attr[Path] must be /cookies or /api or a path under them"


@pytest.fixture
def lab_host(settings):
    settings.ALLOWED_HOSTS = ["testserver", LAB_HOST]
    return LAB_HOST


def get(client, url, host=LAB_HOST):
    return client.get(url, HTTP_HOST=host)


def error(response):
    assert response.status_code == 400, response.content
    assert not response.cookies, "a refused request sets nothing"
    return json.loads(response.content)["error"]


def cookie_attributes(response, name="k"):
    return response.cookies[name].OutputString().split("; ")


# Domain: this host only, or the configured lab domain.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "domain", ["example.com", ".example.com", "other.example.com", "com", "evil.test"]
)
@pytest.mark.parametrize("endpoint", ["set?k=v", "delete?k"])
def test_domain_beyond_this_host_is_refused(client, lab_host, endpoint, domain):
    message = error(get(client, f"/api/cookies/{endpoint}&attr[Domain]={domain}"))

    assert message.startswith(f"attr[Domain] may only be {LAB_HOST} here")
    assert "Leave attr[Domain] out for a host-only cookie" in message


@pytest.mark.django_db
@pytest.mark.parametrize("domain", [LAB_HOST, ".lab.example.com", "LAB.Example.com"])
def test_domain_equal_to_this_host_is_allowed(client, lab_host, domain):
    response = get(client, f"/api/cookies/set?k=v&attr[Domain]={domain}")

    assert response.status_code == 302
    assert f"Domain={domain}" in cookie_attributes(response)


@pytest.mark.django_db
def test_configured_lab_domain_is_allowed(client, lab_host, settings):
    settings.COOKIE_LAB_API_DOMAIN = "example.com"

    allowed = get(client, "/api/cookies/set?k=v&attr[Domain]=example.com")
    refused = get(client, "/api/cookies/set?k=v&attr[Domain]=other.test")

    assert allowed.status_code == 302
    assert error(refused).startswith(f"attr[Domain] may only be example.com or {LAB_HOST}")


@pytest.mark.django_db
def test_cookies_are_host_only_by_default(client, lab_host):
    response = get(client, "/api/cookies/set?k=v")

    assert not any(a.startswith("Domain=") for a in cookie_attributes(response))


# Path: under /cookies or /api; never / or /admin.

REFUSED_PATHS = [
    "/",
    "/admin",
    "/admin/",
    "/admin/login/",
    "/admin/login",
    "/Admin",
    "/cookiesadmin",
    "/apiary",
    "/static",
    "admin",
    "api",
    "//admin",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", REFUSED_PATHS)
@pytest.mark.parametrize("endpoint", ["set?k=v", "delete?k", "set/k/v?x=1"])
def test_paths_outside_the_lab_are_refused(client, endpoint, path):
    message = error(client.get(f"/api/cookies/{endpoint}&attr[Path]={quote(path)}"))

    assert message.startswith(PATHS_MESSAGE)
    assert "stay inside the lab, never on / (every page) or /admin" in message


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/cookies/../admin", "/api/%2e%2e/admin", "/api/./cookies"])
def test_dot_segments_are_refused(client, path):
    message = error(client.get(f"/api/cookies/set?k=v&attr[Path]={quote(path)}"))

    assert message.startswith("attr[Path] cannot contain '.' or '..' segments")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/cookies", "/cookies/", "/cookies/sub/", "/api", "/api/cookies", "/api/x.y"]
)
def test_paths_inside_the_lab_are_allowed(client, path):
    response = client.get(f"/api/cookies/set?k=v&attr[Path]={quote(path)}")

    assert response.status_code == 302
    assert f"Path={path}" in cookie_attributes(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/cookies/set?k=v", "/api/cookies/set/k/v", "/api/cookies/delete?k"]
)
def test_default_path_is_the_apis(client, url):
    assert "Path=/api" in cookie_attributes(client.get(url))


@pytest.mark.django_db
def test_blank_path_leaves_the_browser_the_apis_directory(client):
    response = client.get("/api/cookies/set?k=v&attr[Path]=")

    assert response.status_code == 302
    assert not any(a.startswith("Path=") for a in cookie_attributes(response))


def policy():
    return httpbin.Policy(
        domains=frozenset({"testserver"}),
        paths=("/cookies", "/api"),
        default_path="/api",
        max_age=86400,
        now=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("cookie_path", "page", "sent"),
    [
        ("/api", "/api", True),
        ("/api", "/api/cookies", True),
        ("/api/", "/api/cookies", True),
        ("/api", "/apiary", False),
        ("/api", "/admin/", False),
        ("/cookies", "/cookies/sub/", True),
        ("/cookies/", "/cookies", False),
        ("/", "/admin/login/", True),
    ],
)
def test_path_matches_as_browsers_do(cookie_path, page, sent):
    assert path_matches(cookie_path, page) is sent


PATH_TEXT = st.one_of(
    st.text(alphabet="/adminlogcksp.%2e", max_size=20),
    st.builds("{}{}".format, st.sampled_from(["/cookies", "/api", "/admin"]), st.text(max_size=12)),
)


@settings(max_examples=300, deadline=None)
@given(path=PATH_TEXT)
def test_no_accepted_path_reaches_the_admin_or_the_root(path):
    record_examples("API paths against /admin")
    try:
        policy().check(httpbin.Attributes(path=path))
    except httpbin.BadAttribute:
        return
    for page in ("/", "/admin", "/admin/", "/admin/login/", "/admin/cookies_app/"):
        assert not (path and path_matches(path, page)), (path, page)


# Lifetime: capped by COOKIE_LAB_API_MAX_AGE (a day by default); longer is a 400.


@pytest.mark.django_db
@pytest.mark.parametrize("max_age", ["86400", "60", "0", "-1"])
def test_max_age_within_a_day_is_sent(client, max_age):
    response = client.get(f"/api/cookies/set?k=v&attr[Max-Age]={max_age}")

    assert f"Max-Age={max_age}" in cookie_attributes(response)


@pytest.mark.django_db
@pytest.mark.parametrize("max_age", ["86401", "34560000", "2147483647"])
def test_max_age_over_a_day_is_refused(client, max_age):
    message = error(client.get(f"/api/cookies/set?k=v&attr[Max-Age]={max_age}"))

    assert message.startswith(
        f"attr[Max-Age] may be at most 86400 seconds (1 day) here, not {max_age}"
    )
    assert "The lab's form (POST /cookies) accepts any lifetime." in message


def http_date(when):
    return quote(when.strftime("%a, %d %b %Y %H:%M:%S GMT"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (timedelta(hours=23), True),
        (-timedelta(days=3650), True),  # a past date deletes: always allowed
        (timedelta(days=2), False),
        (timedelta(days=400), False),
    ],
)
def test_expires_is_capped_like_max_age(client, offset, allowed):
    response = client.get(
        f"/api/cookies/set?k=v&attr[Expires]={http_date(datetime.now(UTC) + offset)}"
    )

    if allowed:
        assert response.status_code == 302
    else:
        assert error(response).startswith("attr[Expires] may be at most 86400 seconds (1 day)")


@pytest.mark.django_db
def test_lifetime_cap_follows_the_setting(client, settings):
    settings.COOKIE_LAB_API_MAX_AGE = 3600

    assert client.get("/api/cookies/set?k=v&attr[Max-Age]=3600").status_code == 302
    assert "at most 3600 seconds (1 hour)" in error(
        client.get("/api/cookies/set?k=v&attr[Max-Age]=3601")
    )


# The site's own cookies: refused by name, in any case, for set and delete.


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sessionid", "CSRFTOKEN", "cookielab_visitor"])
@pytest.mark.parametrize("endpoint", ["set?{}=x", "delete?{}", "set/{}/x?y=1"])
def test_the_sites_own_cookies_are_refused(client, endpoint, name):
    response = client.get("/api/cookies/" + endpoint.format(name))

    assert "this site's own cookies" in error(response)


@pytest.mark.django_db
def test_production_cookie_names_are_refused(client, settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"

    for name in ("__Host-sessionid", "__host-csrftoken"):
        assert "this site's own cookies" in error(client.get(f"/api/cookies/set?{name}=x"))


# "The damage stays inside the lab": what a hostile page can make a browser do.

HOSTILE = [
    "/api/cookies/set?JSESSIONID=x&attr[Domain]=example.com",
    "/api/cookies/set?k=v&attr[Path]=/",
    "/api/cookies/set?k=v&attr[Path]=/admin",
    "/api/cookies/set?k=v&attr[Path]=/admin/login/&attr[Max-Age]=60",
    "/api/cookies/set?k=" + "x" * 4000 + "&attr[Max-Age]=34560000",
    "/api/cookies/set?k=v&attr[Expires]=Fri, 31 Dec 9999 23:59:59 GMT",
    "/api/cookies/set?sessionid=x",
    "/api/cookies/delete?sessionid",
    "/api/cookies/delete?k&attr[Path]=/",
    "/api/cookies/delete?k&attr[Domain]=example.com",
    "/api/cookies/set?" + "&".join(f"c{i}=v" for i in range(51)),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_page_cannot_plant_beyond_the_lab(client, lab_host, url):
    assert error(get(client, url))


class Received:
    """What http.cookiejar reads from a response: its headers, via info()."""

    def __init__(self, response):
        self.headers = Message()
        for morsel in response.cookies.values():
            self.headers["Set-Cookie"] = morsel.OutputString()

    def info(self):
        return self.headers


def browser_jar(responses, url):
    """A browser-like jar (http.cookiejar) fed the Set-Cookie lines of ``responses``."""
    jar = CookieJar()
    for response in responses:
        jar.extract_cookies(Received(response), Request(f"http://{LAB_HOST}{url}"))
    return jar


def names_sent_to(jar, url):
    request = Request(url)
    jar.add_cookie_header(request)
    pairs = (request.get_header("Cookie") or "").split("; ")
    return {pair.split("=")[0] for pair in pairs if pair} - {"cookielab_visitor"}


ACCEPTED = [
    "/api/cookies/set?k=v",
    "/api/cookies/set/k2/v",
    "/api/cookies/set?k3=v&attr[Path]=/cookies&attr[Max-Age]=86400",
    f"/api/cookies/set?k4=v&attr[Domain]={LAB_HOST}",
    "/api/cookies/set?k5=v&attr[Path]=",
]


@pytest.mark.django_db
def test_what_the_api_plants_never_reaches_the_admin_or_another_host(client, lab_host):
    responses = [get(client, url) for url in ACCEPTED]
    assert [r.status_code for r in responses] == [302] * len(ACCEPTED)
    jar = browser_jar(responses, "/api/cookies/set")

    for page in ("/admin/", "/admin/login/", "/", "/static/x.css"):
        assert names_sent_to(jar, f"http://{LAB_HOST}{page}") == set(), page
    for host in ("example.com", "other.example.com"):
        assert names_sent_to(jar, f"http://{host}/api/cookies") == set()
    assert names_sent_to(jar, f"http://{LAB_HOST}/api/cookies") == {"k", "k2", "k4", "k5"}
    assert names_sent_to(jar, f"http://{LAB_HOST}/cookies") == {"k3"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "expires",
    [
        "Wed, 21 Oct 2026 99999999999999999999:28:00 GMT",
        "Wed, 21 Oct 2026 07:99999999999999999999:00 GMT",
        "Wed, 21 Oct 2026 07:28:00 +99999999999999999999",
        "Wed, 21 Oct 2026 07:28:00 -99999999999999",
    ],
)
def test_http_dates_with_huge_numbers_are_a_400(client, expires):
    response = client.get("/api/cookies/set", {"a": "1", "attr[Expires]": expires})

    assert response.status_code == 400
    assert "attr[Expires]" in response.json()["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(("attribute", "limit"), [("Path", 512), ("Domain", 255)])
def test_long_path_or_domain_is_a_400_before_it_is_repeated_on_every_line(client, attribute, limit):
    value = "/api/" + "p" * limit if attribute == "Path" else "d" * (limit + 1)
    pairs = {f"p{i}": "" for i in range(50)}

    response = client.get("/api/cookies/set", {**pairs, f"attr[{attribute}]": value})

    assert response.status_code == 400
    assert f"at most {limit} characters" in response.json()["error"]
