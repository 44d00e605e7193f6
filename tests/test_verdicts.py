"""Round-trip verdicts: issued (the log) against received (this request)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from cookies_app import verdicts
from tests.conftest import set_cookie_form


def verdict_for(response, name):
    [found] = [v for v in response.context["round_trip"] if v.name == name]
    return found


@pytest.mark.django_db
def test_kept(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form())

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.KEPT


@pytest.mark.django_db
def test_kept_but_hidden_from_js(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.KEPT_HIDDEN


@pytest.mark.django_db
def test_sensitive_cookie_compares_by_keyed_hash(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="auth_x", value="s3cret"))

    assert verdict_for(lab_client.get(lab_url), "auth_x").status == verdicts.KEPT


@pytest.mark.django_db
def test_value_changed(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form())
    lab_client.cookies["flavor"] = "mint"

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.REPLACED


@pytest.mark.django_db
def test_not_sent_to_this_path(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(path="/cookies/sub/"))
    del lab_client.cookies["flavor"]  # what a browser does on /cookies

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.NOT_SENT_HERE


@pytest.mark.django_db
def test_deleted(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(max_age="0"))
    del lab_client.cookies["flavor"]

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.EXPIRED


@pytest.mark.django_db
def test_dropped_with_the_rules_reason(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(samesite="None", send_anyway="on"))
    del lab_client.cookies["flavor"]  # Chromium drops SameSite=None without Secure

    found = verdict_for(lab_client.get(lab_url), "flavor")
    assert found.status == verdicts.DROPPED
    assert [f.code for f in found.reasons] == ["SameSiteNoneInsecure"]


@pytest.mark.django_db
def test_latest_issue_wins(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(value="one"))
    lab_client.post(lab_url, set_cookie_form(value="two"))

    found = verdict_for(lab_client.get(lab_url), "flavor")
    assert found.status == verdicts.KEPT
    assert found.header.startswith("flavor=two")


@pytest.mark.django_db
def test_lab_shows_the_verdicts(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))

    content = lab_client.get(lab_url).content.decode()

    assert 'id="verdict-table"' in content
    assert verdicts.KEPT_HIDDEN in content


@pytest.mark.django_db
def test_admin_visitor_view_shows_the_same_verdict(admin_client, lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))
    lab_client.get(lab_url)
    visitor = lab_client.cookies["cookielab_visitor"].value

    response = admin_client.get(
        reverse("admin:cookies_app_cookieevent_changelist"), {"visitor_id": visitor}
    )

    statuses = {v.name: v.status for v in response.context["round_trip"]}
    assert statuses == {"flavor": verdicts.KEPT_HIDDEN, "username": verdicts.KEPT}
    assert verdicts.KEPT_HIDDEN in response.content.decode()


@pytest.mark.django_db
def test_second_lab_path_renders_the_lab(client):
    response = client.get("/cookies/sub/")

    assert response.status_code == 200
    assert response.templates[0].name == "cookies_app/lab.html"


@pytest.mark.django_db
def test_set_from_the_sub_path_returns_there(lab_client):
    response = lab_client.post("/cookies/sub/", set_cookie_form(path="/cookies/sub/"))

    assert response["Location"].startswith("/cookies/sub/?sent=")


@pytest.mark.django_db
def test_delete_returns_only_to_a_lab_page(lab_client):
    sub = lab_client.post("/cookies/delete", {"key": "k", "path": "/", "back": "/cookies/sub/"})
    evil = lab_client.post(
        "/cookies/delete", {"key": "k", "path": "/", "back": "https://evil.example/"}
    )

    assert sub["Location"].startswith("/cookies/sub/?sent=")
    assert evil["Location"].startswith("/cookies?sent=")


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "matches"),
    [
        ("/cookies", "/", True),
        ("/cookies", "/cookies", True),
        ("/cookies/sub/", "/cookies", True),
        ("/cookiesX", "/cookies", False),
        ("/cookies", "/cookies/sub/", False),
        ("/cookies/sub/", "/cookies/sub/", True),
    ],
)
def test_path_matching(request_path, cookie_path, matches):
    assert verdicts.path_matches(request_path, cookie_path) is matches


def test_expiry_of_max_age_and_expires():
    class Row:
        observed_at = datetime(2026, 1, 1, tzinfo=UTC)
        max_age = 60
        expires = ""

    assert verdicts.expiry(Row) == Row.observed_at + timedelta(seconds=60)
    Row.max_age, Row.expires = None, "Thu, 01 Jan 2026 00:00:00 GMT"
    assert verdicts.expiry(Row) == datetime(2026, 1, 1, tzinfo=UTC)
    Row.expires = ""
    assert verdicts.expiry(Row) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("samesite", "method", "fetch_site", "withheld"),
    [
        ("Strict", "GET", "cross-site", True),
        ("Lax", "GET", "cross-site", False),
        ("Lax", "POST", "cross-site", True),
        ("", "POST", "cross-site", True),
        ("None", "POST", "cross-site", False),
        ("Strict", "GET", "same-origin", False),
    ],
)
def test_cross_site_withholding(samesite, method, fetch_site, withheld):
    from cookies_app.rules import RequestContext

    context = RequestContext(fetch_site=fetch_site, method=method)

    assert verdicts._withheld_cross_site(samesite, context) is withheld


def test_young_unspecified_cookie_rides_a_cross_site_post():
    from cookies_app.rules import RequestContext

    context = RequestContext(fetch_site="cross-site", method="POST")

    assert verdicts._withheld_cross_site("", context, age=timedelta(seconds=30)) is False
    assert verdicts._withheld_cross_site("Lax", context, age=timedelta(seconds=30)) is True
