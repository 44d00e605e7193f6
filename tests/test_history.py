"""Reading history: a response's Set-Cookie lines, and a request's cookies."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from cookies_app import history, rules, visit
from cookies_app.decorators import logs_cookies
from cookies_app.models import ChangeKind, CookieChange, JarCookie, Request
from cookies_app.setcookie import set_cookie
from tests import factories

VISITOR = "cookielab_visitor"


def browser_request(rf, key=None, cookies=None):
    request = rf.get("/cookies")
    request.COOKIES = dict(cookies or {})
    if key:
        request.COOKIES[VISITOR] = key
    return request


def browse(rf, key=None, cookies=None, sets=()):
    """
    One logged request through ``logs_cookies``; its response sets each
    ``(name, value, attributes)`` in ``sets``. Returns the request's Visit.
    """

    def view(request):
        response = HttpResponse()
        for name, value, attributes in sets:
            set_cookie(response, name, value, **attributes)
        return response

    request = browser_request(rf, key, cookies)
    logs_cookies(view)(request)
    return request.visit


def look(rf, key, cookies=None):
    """The lab page's Visit for the browser ``key``, as the view gets it."""
    return visit.build(browser_request(rf, key, cookies), log=False)


def lines(sent):
    return [entry["line"] for entry in sent]


def codes(entry):
    return [finding.code for finding in entry["findings"]]


# sent_lines ----------------------------------------------------------------------


@pytest.mark.django_db
def test_sent_lines_is_none_when_not_asked(rf):
    first = browse(rf, sets=[("flavor", "chip", {})])

    assert history.sent_lines(look(rf, first.key), None) is None


@pytest.mark.django_db
def test_sent_lines_are_the_set_cookie_lines_of_that_request(rf):
    first = browse(rf, sets=[("a", "1", {})])
    second = browse(rf, first.key, sets=[("b", "2", {}), ("c", "3", {"max_age": 60})])
    browse(rf, first.key, sets=[("d", "4", {})])

    sent = history.sent_lines(look(rf, first.key), str(second.seq))

    assert second.seq == 2
    assert lines(sent)[0] == "Set-Cookie: b=2; Path=/"
    assert lines(sent)[1].startswith("Set-Cookie: c=3; expires=")
    assert lines(sent)[1].endswith("; Max-Age=60; Path=/")
    assert len(sent) == 2


@pytest.mark.django_db
def test_sent_lines_leave_out_the_visitor_cookie(rf):
    first = browse(rf, sets=[("flavor", "chip", {})])

    sent = history.sent_lines(look(rf, first.key), "1")

    assert lines(sent) == ["Set-Cookie: flavor=chip; Path=/"]
    assert CookieChange.objects.set_cookie_lines().filter(cookie__name=VISITOR).exists()


@pytest.mark.django_db
def test_sent_lines_include_a_deletion(rf):
    first = browse(rf, sets=[("flavor", "chip", {})])
    browse(rf, first.key, sets=[("flavor", "", {"max_age": 0})])

    [entry] = history.sent_lines(look(rf, first.key), "2")

    assert entry["line"].startswith('Set-Cookie: flavor=""; expires=')
    assert entry["line"].endswith("; Max-Age=0; Path=/")
    assert CookieChange.objects.filter(kind=ChangeKind.DELETED).count() == 1


@pytest.mark.django_db
def test_received_cookies_are_not_sent_lines(rf):
    first = browse(rf)
    browse(rf, first.key, cookies={"from_js": "1"})

    assert CookieChange.objects.filter(kind=ChangeKind.APPEARED).exists()
    assert history.sent_lines(look(rf, first.key), "2") == []


@pytest.mark.django_db
def test_sent_lines_show_a_redacted_value_as_such(rf):
    first = browse(rf, sets=[("auth_token", "top-secret", {})])

    [entry] = history.sent_lines(look(rf, first.key), "1")

    assert entry["line"] == "Set-Cookie: auth_token=[redacted]; Path=/"


@pytest.mark.django_db
def test_sent_lines_carry_the_rules_findings(rf):
    first = browse(rf, sets=[("loose", "1", {"samesite": "None"})])

    [entry] = history.sent_lines(look(rf, first.key), "1")

    assert "SameSiteNoneInsecure" in codes(entry)
    assert all(isinstance(f, rules.Finding) for f in entry["findings"])


@pytest.mark.django_db
def test_sent_lines_leave_out_info_findings(rf):
    first = browse(rf, sets=[("gone", "", {"max_age": 0, "samesite": "Lax"})])
    line = CookieChange.objects.get(cookie__name="gone")
    every = rules.evaluate(history.line_cookie(line), look(rf, first.key).context)
    assert "Deletes" in [f.code for f in every]

    [entry] = history.sent_lines(look(rf, first.key), "1")

    assert all(f.severity != rules.Severity.INFO for f in entry["findings"])
    assert "Deletes" not in codes(entry)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "seq_text", ["", "abc", "-1", "+1", "1.0", " 1", "1 ", "0x1", "99999999999", "9" * 40]
)
def test_sent_lines_are_empty_without_a_query_for_a_text_that_is_no_seq(rf, seq_text):
    first = browse(rf, sets=[("flavor", "chip", {})])
    state = look(rf, first.key)

    with CaptureQueriesContext(connection) as queries:
        assert history.sent_lines(state, seq_text) == []

    assert len(queries) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("seq_text", ["0", "3"])
def test_sent_lines_are_empty_for_a_request_that_is_not_there(rf, seq_text):
    first = browse(rf, sets=[("flavor", "chip", {})])
    browse(rf, first.key, sets=[("flavor", "mint", {})])

    assert history.sent_lines(look(rf, first.key), seq_text) == []


@pytest.mark.django_db
@pytest.mark.parametrize("seq_text", ["2147483648", "4294967296", "9999999999"])
def test_sent_lines_are_empty_past_the_columns_range(rf, seq_text):
    first = browse(rf, sets=[("flavor", "chip", {})])

    assert history.sent_lines(look(rf, first.key), seq_text) == []


@pytest.mark.django_db
@pytest.mark.parametrize("seq_text", ["\u00b2", "1\u00b9", "\u2460"])
def test_sent_lines_are_empty_for_digits_int_refuses(rf, seq_text):
    first = browse(rf, sets=[("flavor", "chip", {})])

    assert history.sent_lines(look(rf, first.key), seq_text) == []


@pytest.mark.django_db
def test_lab_page_with_a_superscript_sent_is_not_a_server_error(client, lab_url):
    client.get(lab_url)

    assert client.get(lab_url, {"sent": "\u00b2"}).status_code == 200


@pytest.mark.django_db
def test_sent_lines_are_never_another_visitors(rf):
    mine = browse(rf)
    theirs = browse(rf, sets=[("flavor", "chip", {})])

    assert history.sent_lines(look(rf, mine.key), "1") == []
    assert len(history.sent_lines(look(rf, theirs.key), "1")) == 1


@pytest.mark.django_db
def test_sent_lines_are_empty_for_a_browser_the_log_does_not_know(rf):
    browse(rf, sets=[("flavor", "chip", {})])

    assert history.sent_lines(look(rf, None), "1") == []


@pytest.mark.django_db
def test_a_lab_redirect_after_a_post_shows_its_lines(client, lab_url):
    client.get(lab_url)
    response = client.post(
        lab_url, {"key": "flavor", "value": "chip", "path": "/", "samesite": ""}, follow=True
    )

    assert response.redirect_chain[0][0].endswith("?sent=2#result")
    assert lines(response.context["sent"]) == ["Set-Cookie: flavor=chip; Path=/"]


# line_cookie ----------------------------------------------------------------------


def logged_line(rf, name, value, **attributes):
    """The CookieChange of one Set-Cookie, written through the log."""
    browse(rf, sets=[(name, value, attributes)])
    return CookieChange.objects.set_cookie_lines().select_related("cookie").get(cookie__name=name)


@pytest.mark.django_db
def test_line_cookie_is_the_cookie_the_line_set(rf):
    line = logged_line(
        rf,
        "flavor",
        "chip",
        max_age=60,
        path="/cookies/",
        domain="testserver",
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )

    assert history.line_cookie(line) == rules.ProposedCookie(
        name="flavor",
        value="chip",
        max_age=60,
        expires=None,
        path="/cookies/",
        domain="testserver",
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )


@pytest.mark.django_db
def test_line_cookie_reads_expires_when_there_is_no_max_age(rf):
    line = logged_line(rf, "flavor", "chip", expires="Wed, 21 Oct 2071 07:28:00 GMT")

    cookie = history.line_cookie(line)

    assert cookie.max_age is None
    assert cookie.expires == datetime(2071, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("expires", ["not a date", "Thu, 99 Foo 99999 99:99:99 GMT", ""])
def test_line_cookie_ignores_an_unreadable_expires(expires):
    owner = factories.visitor(requests=1)
    [request] = factories.requests(owner, 1)
    row = factories.jar_cookie(owner, "flavor", issued_at=request.at)
    line = factories.change(row, request, value="chip", size=10, expires=expires)

    assert history.line_cookie(line).expires is None


@pytest.mark.django_db
def test_line_cookie_of_a_redacted_value_is_a_placeholder_of_the_same_size(rf):
    line = logged_line(rf, "auth_token", "top-secret")

    cookie = history.line_cookie(line)

    assert "top-secret" not in line.value
    assert cookie.value == "x" * len("top-secret")


@pytest.mark.django_db
def test_line_cookie_of_a_truncated_value_keeps_its_size(rf):
    line = logged_line(rf, "big", "v" * 5000)

    cookie = history.line_cookie(line)

    assert len(line.value) < 5000
    assert cookie.value == "x" * 5000
    assert "NameValuePairExceedsMaxSize" in [f.code for f in rules.evaluate(cookie)]


@pytest.mark.django_db
def test_line_cookie_of_a_truncated_value_keeps_its_size_after_a_short_value_came_back(rf):
    first = browse(rf, sets=[("big", "v" * 5000, {})])
    browse(rf, first.key, cookies={"big": "short"})
    line = CookieChange.objects.set_cookie_lines().select_related("cookie").get(cookie__name="big")

    cookie = history.line_cookie(line)

    assert len(cookie.value) == 5000


# carried ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_carried_is_the_jar_rows_a_request_carried_by_name(rf):
    first = browse(rf)
    browse(rf, first.key, cookies={"b": "2", "a": "1"})
    request = Request.objects.get(seq=2)

    rows = history.carried(request)

    assert [row.name for row in rows] == ["a", "b", VISITOR]
    assert all(isinstance(row, JarCookie) for row in rows)


@pytest.mark.django_db
def test_carried_of_a_request_without_cookies_is_empty(rf):
    browse(rf)

    assert history.carried(Request.objects.get()) == []


@pytest.mark.django_db
def test_carried_leaves_out_rows_pruned_since(rf):
    first = browse(rf)
    browse(rf, first.key, cookies={"a": "1", "b": "2"})
    JarCookie.objects.filter(name="a").delete()

    assert [row.name for row in history.carried(Request.objects.get(seq=2))] == ["b", VISITOR]
