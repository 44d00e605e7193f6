"""The per-request state: visitor, its request number, the rules context, the jar."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cookies_app import visit
from cookies_app.jar import LATEST_ISSUED
from cookies_app.models import FETCH_SITE_MAX, Visitor
from tests import factories

VISITOR = "cookielab_visitor"


def browser_request(rf, key=None, path="/cookies", cookies=None, **extra):
    """A request from a browser holding ``cookies`` and, when given, the visitor id ``key``."""
    request = rf.get(path, **extra)
    request.COOKIES = dict(cookies or {})
    if key is not None:
        request.COOKIES[VISITOR] = key
    return request


def known(**fields):
    """A visitor who has been here before (a few requests logged)."""
    return factories.visitor(requests=fields.pop("requests", 3), **fields)


def jar_table_queries(queries):
    return [q["sql"] for q in queries if "cookies_app_jarcookie" in q["sql"]]


# The visitor id --------------------------------------------------------------


@pytest.mark.django_db
def test_new_browser_gets_a_key_and_a_visitor_row(rf):
    state = visit.build(browser_request(rf))

    assert state.is_new is True
    assert visit.VISITOR_KEY.fullmatch(state.key)
    stored = Visitor.objects.get()
    assert (stored.key, stored.requests) == (state.key, 1)
    assert (state.visitor.id, state.seq) == (stored.id, 1)


@pytest.mark.django_db
def test_new_browsers_get_different_keys(rf):
    first = visit.build(browser_request(rf))
    second = visit.build(browser_request(rf))

    assert first.key != second.key
    assert Visitor.objects.count() == 2


@pytest.mark.django_db
def test_live_check_writes_nothing_for_a_new_browser(rf):
    with CaptureQueriesContext(connection) as queries:
        state = visit.build(browser_request(rf), log=False)

    assert state.is_new is True and visit.VISITOR_KEY.fullmatch(state.key)
    assert (state.visitor, state.seq) == (None, 0)
    assert len(queries) == 0
    assert not Visitor.objects.exists()


@pytest.mark.django_db
def test_live_check_finds_a_known_visitor_without_counting(rf):
    visitor = known()

    state = visit.build(browser_request(rf, visitor.key), log=False)

    assert (state.is_new, state.visitor.id, state.seq) == (False, visitor.id, 0)
    visitor.refresh_from_db()
    assert visitor.requests == 3


@pytest.mark.django_db
def test_known_visitor_keeps_its_key(rf):
    visitor = known()

    state = visit.build(browser_request(rf, visitor.key))

    assert (state.is_new, state.key, state.visitor.id) == (False, visitor.key, visitor.id)
    assert Visitor.objects.count() == 1


@pytest.mark.django_db
def test_valid_key_unknown_to_the_log_is_not_adopted(rf):
    """A forgotten, pruned or made-up id gets a new one: ids are the server's to give."""
    key = uuid.uuid4().hex

    state = visit.build(browser_request(rf, key))

    assert state.is_new and state.key != key and state.seq == 1
    assert Visitor.objects.get().key == state.key


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        "<x>",
        "",
        "a" * 31,
        "a" * 33,
        "A" * 32,
        uuid.uuid4().hex.upper(),
        "g" * 32,
        uuid.uuid4().hex + "\n",
        str(uuid.uuid4()),  # dashed
        "0" * 31 + "\u0660",  # a non-ASCII digit
    ],
)
def test_forged_key_is_replaced(rf, forged):
    state = visit.build(browser_request(rf, forged))

    assert state.is_new is True
    assert state.key != forged and visit.VISITOR_KEY.fullmatch(state.key)
    assert not Visitor.objects.filter(key=forged).exists()


@pytest.mark.parametrize(
    ("raw", "valid"),
    [("0123456789abcdef" * 2, True), ("0123456789ABCDEF" * 2, False), ("x", False)],
)
def test_valid_visitor_key(raw, valid):
    assert visit.valid_visitor_key(raw) == (raw if valid else "")


# The request number ----------------------------------------------------------


@pytest.mark.django_db
def test_seq_counts_up_per_visitor(rf):
    mine, other = known(requests=7), known(requests=2)

    seqs = [visit.build(browser_request(rf, mine.key)).seq for _ in range(3)]
    theirs = visit.build(browser_request(rf, other.key)).seq

    assert seqs == [8, 9, 10]
    assert theirs == 3
    mine.refresh_from_db()
    assert mine.requests == 10


@pytest.mark.django_db
def test_seq_is_taken_from_the_counter_not_a_stale_read(rf):
    """
    Another request of the same browser takes a number between this one's read
    of the visitor and its update: both keep distinct, consecutive numbers.
    """
    visitor = known(requests=4)
    raced = []

    def other_request_first(execute, sql, params, many, context):
        if not raced and sql.lstrip().upper().startswith("UPDATE"):
            raced.append(True)
            Visitor.objects.filter(id=visitor.id).update(requests=F("requests") + 1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(other_request_first):
        state = visit.build(browser_request(rf, visitor.key))

    assert raced
    assert state.seq == 6
    visitor.refresh_from_db()
    assert visitor.requests == 6


@pytest.mark.django_db
def test_visitor_forgotten_between_lookup_and_count_is_not_logged(rf):
    """Forget me ran between this request's lookup and its count: nothing to log against."""
    visitor = known()

    def forgotten_meanwhile(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE"):
            Visitor.objects.filter(pk=visitor.pk).delete()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(forgotten_meanwhile):
        state = visit.build(browser_request(rf, visitor.key))

    assert state.visitor is None and state.seq == 0


@pytest.mark.django_db
def test_visitor_row_is_counted_with_one_update(rf):
    visitor = known()

    with CaptureQueriesContext(connection) as queries:
        visit.build(browser_request(rf, visitor.key))

    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1
    assert len(queries) == 2  # the lookup by key, the counter


@pytest.mark.django_db
def test_previous_seen_is_the_last_visits_time(rf):
    before = timezone.now() - timedelta(days=3)
    visitor = known(last_seen=before)

    state = visit.build(browser_request(rf, visitor.key))

    assert state.visitor.previous_seen == before
    assert state.visitor.last_seen == state.at
    visitor.refresh_from_db()
    assert visitor.last_seen == state.at


@pytest.mark.django_db
def test_a_new_visitor_was_never_seen_before(rf):
    state = visit.build(browser_request(rf))

    assert state.visitor.previous_seen is None
    assert state.visitor.first_seen == state.visitor.last_seen == state.at


# What the request looks like to the log and the rules -------------------------


@pytest.mark.django_db
def test_request_fields_are_escaped_and_capped(rf):
    request = browser_request(
        rf,
        path="/cookies/a%01b",
        HTTP_SEC_FETCH_SITE="cross-site" * 5,
        HTTP_USER_AGENT="agent\x07",
    )

    state = visit.build(request, log=False)

    assert state.path == "/cookies/a\\x01b"
    assert state.user_agent == "agent\\x07"
    assert state.fetch_site == ("cross-site" * 5)[:FETCH_SITE_MAX]
    assert (state.method, state.host) == ("GET", "testserver")


@pytest.mark.django_db
def test_base_context_describes_the_request(rf, settings):
    request = browser_request(
        rf, cookies={"a": "1", "b": "2"}, secure=True, HTTP_SEC_FETCH_SITE="same-site"
    )

    context = visit.build(request, log=False).base_context

    assert (context.scheme, context.host, context.path) == ("https", "testserver", "/cookies")
    assert context.received_names == {"a", "b"}
    assert context.fetch_site == "same-site"
    assert settings.SESSION_COOKIE_NAME in context.reserved_names
    assert VISITOR in context.reserved_names
    assert context.httponly_names == frozenset()


# The jar -----------------------------------------------------------------------


@pytest.mark.django_db
def test_jar_is_not_read_until_used(rf):
    visitor = known()
    factories.jar_cookie(visitor, "a", issued_at=timezone.now())

    with CaptureQueriesContext(connection) as building:
        state = visit.build(browser_request(rf, visitor.key, cookies={"a": "1"}))
    with CaptureQueriesContext(connection) as using:
        state.jar  # noqa: B018

    assert jar_table_queries(building) == []
    assert len(jar_table_queries(using)) == 1  # one statement, four bounded reads


@pytest.mark.django_db
def test_context_reads_the_jar_once(rf):
    visitor = known()
    factories.jar_cookie(visitor, "a", issued_at=timezone.now(), httponly=True)
    state = visit.build(browser_request(rf, visitor.key, cookies={"a": "1"}))

    with CaptureQueriesContext(connection) as queries:
        state.context  # noqa: B018
        state.context  # noqa: B018
        state.jar  # noqa: B018
        state.latest_issued()
        state.issued_row("a")

    assert len(queries) == 1


@pytest.mark.django_db
def test_a_new_browser_has_an_empty_jar_without_a_query(rf):
    state = visit.build(browser_request(rf))

    with CaptureQueriesContext(connection) as queries:
        assert state.jar == {}

    assert len(queries) == 0


@pytest.mark.django_db
def test_jar_holds_only_this_visitors_rows(rf):
    mine, other = known(), known()
    row = factories.jar_cookie(mine, "a", issued_at=timezone.now())
    factories.jar_cookie(other, "a", issued_at=timezone.now())

    state = visit.build(browser_request(rf, mine.key, cookies={"a": "1"}))

    assert list(state.jar) == [row.id]


@pytest.mark.django_db
def test_live_check_reads_the_jar_of_a_known_visitor(rf):
    visitor = known()
    row = factories.jar_cookie(visitor, "a", issued_at=timezone.now())

    state = visit.build(browser_request(rf, visitor.key, cookies={"a": "1"}), log=False)

    assert list(state.jar) == [row.id]


@pytest.mark.django_db
def test_context_knows_received_cookies_issued_httponly(rf):
    visitor = known()
    now = timezone.now()
    factories.jar_cookie(visitor, "hidden", issued_at=now, httponly=True)
    factories.jar_cookie(visitor, "open", issued_at=now, httponly=False)
    factories.jar_cookie(visitor, "absent", issued_at=now, httponly=True)
    cookies = {"hidden": "1", "open": "2", "unknown": "3"}

    state = visit.build(browser_request(rf, visitor.key, cookies=cookies))

    assert state.context.httponly_names == {"hidden"}


def issued(visitor, name, minutes_ago, **fields):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return factories.jar_cookie(visitor, name, issued_at=at, **fields)


@pytest.mark.django_db
def test_latest_issued_keeps_the_newest_row_per_name_newest_first(rf):
    visitor = known()
    issued(visitor, "a", 30, path="/old")
    newest_a = issued(visitor, "a", 10, path="/new")
    b = issued(visitor, "b", 20)
    factories.jar_cookie(visitor, "never_issued", present=True)

    state = visit.build(browser_request(rf, visitor.key))

    assert [row.id for row in state.latest_issued()] == [newest_a.id, b.id]


@pytest.mark.django_db
def test_latest_issued_leaves_out_the_sites_own_cookies(rf, settings):
    visitor = known()
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, VISITOR):
        issued(visitor, name, 1)
    mine = issued(visitor, "flavor", 5)

    state = visit.build(browser_request(rf, visitor.key))

    assert state.latest_issued() == [mine]


@pytest.mark.django_db
def test_latest_issued_is_capped(rf):
    visitor = known()
    rows = [issued(visitor, f"c{i:03d}", minutes_ago=i) for i in range(LATEST_ISSUED + 10)]
    # Every one of them came back, so the jar holds them all.
    cookies = {row.name: "v" for row in rows}

    state = visit.build(browser_request(rf, visitor.key, cookies=cookies))

    assert len(state.jar) == LATEST_ISSUED + 10
    assert state.latest_issued() == rows[:LATEST_ISSUED]


@pytest.mark.django_db
def test_issued_row_is_the_latest_set_cookie_for_the_name(rf):
    visitor = known()
    issued(visitor, "a", 30, path="/old")
    newest = issued(visitor, "a", 10, path="/new")
    factories.jar_cookie(visitor, "a", path="", present=True)  # never issued, newer
    issued(visitor, "b", 1)

    state = visit.build(browser_request(rf, visitor.key, cookies={"a": "1"}))

    assert state.issued_row("a") == newest
    assert {row.path for row in state.jar_rows("a")} == {"/old", "/new", ""}


@pytest.mark.django_db
def test_issued_row_is_none_for_a_cookie_never_issued(rf):
    visitor = known()
    factories.jar_cookie(visitor, "js", path="", present=True)

    state = visit.build(browser_request(rf, visitor.key, cookies={"js": "1"}))

    assert state.jar_rows("js") != []
    assert state.issued_row("js") is None
    assert state.issued_row("nowhere") is None
