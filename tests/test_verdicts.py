"""Round-trip verdicts: issued (the log) against received (this request)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse

from cookies_app import verdicts
from cookies_app.cookie_log import expiry
from cookies_app.models import Visitor
from tests.conftest import set_cookie_form


def verdict_for(response, name):
    [found] = [v for v in response.context["round_trip"] if v.name == name]
    return found


@pytest.mark.django_db
def test_kept(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form())

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.Status.KEPT


@pytest.mark.django_db
def test_kept_but_hidden_from_js(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.Status.KEPT_HIDDEN


@pytest.mark.django_db
def test_sensitive_cookie_compares_by_keyed_hash(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="auth_x", value="s3cret"))

    assert verdict_for(lab_client.get(lab_url), "auth_x").status == verdicts.Status.KEPT


@pytest.mark.django_db
def test_value_changed(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form())
    lab_client.cookies["flavor"] = "mint"

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.Status.REPLACED


@pytest.mark.django_db
def test_not_sent_to_this_path(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(path="/cookies/sub/"))
    del lab_client.cookies["flavor"]  # what a browser does on /cookies

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.Status.NOT_SENT_HERE


@pytest.mark.django_db
def test_deleted(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(max_age="0"))
    del lab_client.cookies["flavor"]

    assert verdict_for(lab_client.get(lab_url), "flavor").status == verdicts.Status.EXPIRED


@pytest.mark.django_db
def test_dropped_with_the_rules_reason(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(samesite="None", send_anyway="on"))
    del lab_client.cookies["flavor"]  # Chromium drops SameSite=None without Secure

    found = verdict_for(lab_client.get(lab_url), "flavor")
    assert found.status == verdicts.Status.DROPPED
    assert [f.code for f in found.reasons] == ["SameSiteNoneInsecure"]


@pytest.mark.django_db
def test_latest_issue_wins(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(value="one"))
    lab_client.post(lab_url, set_cookie_form(value="two"))

    found = verdict_for(lab_client.get(lab_url), "flavor")
    assert found.status == verdicts.Status.KEPT
    assert found.header.startswith("flavor=two")


@pytest.mark.django_db
def test_lab_shows_the_verdicts(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))

    content = lab_client.get(lab_url).content.decode()

    assert 'id="verdict-table"' in content
    assert verdicts.Status.KEPT_HIDDEN in content


@pytest.mark.django_db
def test_admin_visitor_view_shows_the_same_verdict(admin_client, lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(httponly="on"))
    lab_client.get(lab_url)
    visitor = Visitor.objects.get(key=lab_client.cookies["cookielab_visitor"].value)

    response = admin_client.get(reverse("admin:cookies_app_visitor_change", args=[visitor.pk]))

    statuses = {v.name: v.status for v in response.context["round_trip"]}
    assert statuses == {"flavor": verdicts.Status.KEPT_HIDDEN, "username": verdicts.Status.KEPT}
    assert verdicts.Status.KEPT_HIDDEN in response.content.decode()


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
    at = datetime(2026, 1, 1, tzinfo=UTC)

    assert expiry(at, 60, "") == at + timedelta(seconds=60)
    assert expiry(at, None, "Thu, 01 Jan 2026 00:00:00 GMT") == datetime(2026, 1, 1, tzinfo=UTC)
    assert expiry(at, None, "") is None
    assert expiry(at, None, "not a date") is None


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


@pytest.mark.django_db
def test_domain_that_does_not_cover_the_issuing_host_is_dropped_not_out_of_scope(
    lab_client, lab_url
):
    lab_client.post(lab_url, set_cookie_form(domain="example.com", send_anyway="on"))
    del lab_client.cookies["flavor"]  # the browser never stored it

    found = verdict_for(lab_client.get(lab_url), "flavor")

    assert found.status == verdicts.Status.DROPPED
    assert [f.code for f in found.reasons] == ["InvalidDomain"]


@pytest.mark.django_db
def test_cookie_is_judged_where_it_was_issued(lab_client):
    """Path=/cookies/sub/ set from /cookies/sub/ is fine there, and not sent to /cookies."""
    lab_client.post("/cookies/sub/", set_cookie_form(path="/cookies/sub/"))
    del lab_client.cookies["flavor"]

    found = verdict_for(lab_client.get("/cookies"), "flavor")

    assert found.status == verdicts.Status.NOT_SENT_HERE


# When the clock changes a verdict (the lab page's cache keeps a page until then)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def jar_row(issued_minutes_ago, expires_in_minutes=None):
    return SimpleNamespace(
        issued_at=T0 - timedelta(minutes=issued_minutes_ago),
        expires_at=None
        if expires_in_minutes is None
        else T0 + timedelta(minutes=expires_in_minutes),
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], None),
        ([jar_row(60)], None),  # long issued, no end
        ([jar_row(60, expires_in_minutes=10)], T0 + timedelta(minutes=10)),
        ([jar_row(60, expires_in_minutes=-10)], None),  # expired already
        ([jar_row(1)], T0 + timedelta(minutes=1)),  # leaves SameSite's two-minute window
        ([jar_row(60, 10), jar_row(0.5, 30)], T0 + timedelta(minutes=1.5)),
    ],
)
def test_next_change_is_the_first_moment_the_clock_changes_a_verdict(rows, expected):
    visit = SimpleNamespace(at=T0, latest_issued=lambda: rows)
    assert verdicts.next_change(visit) == expected
