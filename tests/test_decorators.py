"""@logs_cookies and @with_visit: the Visit built once, the log written after the view."""

import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from cookies_app.decorators import VISITOR_MAX_AGE, logs_cookies, with_visit
from cookies_app.models import ChangeKind, CookieChange, JarCookie, Request, Visitor
from tests import factories

VISITOR = "cookielab_visitor"
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.IGNORECASE)
ONE_YEAR = 365 * 24 * 60 * 60


def answering(status=200, **cookies):
    """A view answering ``status`` and setting ``cookies``; it keeps the Visit it got."""

    def view(request):
        view.seen = request.visit
        response = HttpResponse(status=status)
        for name, value in cookies.items():
            response.set_cookie(name, value)
        return response

    return view


def browser_request(rf, key=None, cookies=None, **extra):
    request = rf.get("/cookies", **extra)
    request.COOKIES = dict(cookies or {})
    if key:
        request.COOKIES[VISITOR] = key
    return request


def writes(queries):
    return [q["sql"] for q in queries if WRITES.match(q["sql"])]


# logs_cookies: the visitor cookie ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [200, 204, 302, 303, 304])
def test_new_browser_gets_its_visitor_cookie_on_success(rf, status):
    request = browser_request(rf)

    response = logs_cookies(answering(status))(request)

    morsel = response.cookies[VISITOR]
    assert morsel.value == request.visit.key == Visitor.objects.get().key


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_new_browser_gets_no_visitor_cookie_on_an_error(rf, status):
    response = logs_cookies(answering(status))(browser_request(rf))

    assert VISITOR not in response.cookies


@pytest.mark.django_db
def test_visitor_cookie_is_httponly_lax_for_a_year(rf):
    response = logs_cookies(answering())(browser_request(rf))

    morsel = response.cookies[VISITOR]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == ONE_YEAR == VISITOR_MAX_AGE.total_seconds()
    assert morsel["path"] == "/"
    assert not morsel["domain"]


@pytest.mark.django_db
@pytest.mark.parametrize("secure", [True, False])
def test_visitor_cookie_is_secure_when_the_request_is(rf, secure):
    response = logs_cookies(answering())(browser_request(rf, secure=secure))

    assert bool(response.cookies[VISITOR]["secure"]) is secure


@pytest.mark.django_db
def test_known_browser_gets_no_new_visitor_cookie(rf):
    visitor = factories.visitor(requests=1)

    response = logs_cookies(answering())(browser_request(rf, visitor.key))

    assert VISITOR not in response.cookies
    assert Visitor.objects.count() == 1


@pytest.mark.django_db
def test_forged_visitor_cookie_is_replaced(rf):
    response = logs_cookies(answering())(browser_request(rf, "<script>"))

    key = response.cookies[VISITOR].value
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert Visitor.objects.get().key == key


@pytest.mark.django_db
def test_the_visitor_cookie_is_logged_as_issued(rf):
    logs_cookies(answering())(browser_request(rf))

    row = JarCookie.objects.get(name=VISITOR)
    assert row.issued_at is not None
    assert row.httponly is True and row.samesite == "Lax"


# logs_cookies: the log ----------------------------------------------------------------


@pytest.mark.django_db
def test_view_gets_the_visit_that_is_logged(rf):
    view = answering()
    request = browser_request(rf)

    logs_cookies(view)(request)

    assert view.seen is request.visit
    assert Request.objects.get().seq == view.seen.seq == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [200, 400, 500])
def test_every_response_is_logged_with_its_status(rf, status):
    logs_cookies(answering(status))(browser_request(rf))

    row = Request.objects.get()
    assert row.status == status
    assert row.visitor == Visitor.objects.get()


@pytest.mark.django_db
def test_a_500_still_logs_what_came_and_what_was_issued(rf):
    visitor = factories.visitor(requests=1)

    logs_cookies(answering(500, flavor="chip"))(
        browser_request(rf, visitor.key, cookies={"seen": "1"})
    )

    row = Request.objects.get()
    assert (row.status, row.seq) == (500, 2)
    assert "seen" in {c.name for c in JarCookie.objects.filter(id__in=row.carried_ids)}
    assert CookieChange.objects.filter(cookie__name="flavor", kind=ChangeKind.ISSUED).exists()


@pytest.mark.django_db
def test_cookies_the_view_sets_are_logged(rf):
    logs_cookies(answering(flavor="chip", other="x"))(browser_request(rf))

    issued = set(CookieChange.objects.set_cookie_lines().values_list("cookie__name", flat=True))
    assert issued == {"flavor", "other", VISITOR}


@pytest.mark.django_db
def test_a_browsers_requests_are_one_visitors(rf):
    first = logs_cookies(answering())(browser_request(rf))
    key = first.cookies[VISITOR].value

    for _ in range(2):
        logs_cookies(answering())(browser_request(rf, key))

    visitor = Visitor.objects.get()
    assert list(visitor.request_log.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert visitor.latest_request.seq == 3


# with_visit -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_visit_gives_the_view_a_visit(rf):
    visitor = factories.visitor(requests=2)
    view = answering()

    with_visit(view)(browser_request(rf, visitor.key))

    assert (view.seen.visitor, view.seen.seq, view.seen.is_new) == (visitor, 0, False)


@pytest.mark.django_db
@pytest.mark.parametrize("known", [True, False])
def test_with_visit_never_writes(rf, known):
    key = factories.visitor(requests=2).key if known else None
    request = browser_request(rf, key, cookies={"flavor": "chip"})

    with CaptureQueriesContext(connection) as queries:
        response = with_visit(answering(flavor="mint"))(request)
        request.visit.context  # noqa: B018  (reading the jar is fine)

    assert writes(queries) == []
    assert VISITOR not in response.cookies
    assert not Request.objects.exists()
    assert Visitor.objects.count() == (1 if known else 0)
