"""The jar's bounded reads: what a request loads, and what Forget me may expire."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cookies_app import jar
from cookies_app.jar_cache import JarCache
from cookies_app.models import JarCookie, Visitor
from tests import factories

VISITOR = "cookielab_visitor"


def issued(owner, name, minutes_ago=0, **fields):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return factories.jar_cookie(owner, name, issued_at=at, **fields)


def many_rows(owner, number):
    """``number`` rows, present and issued, written in one statement."""
    now = timezone.now()
    JarCookie.objects.bulk_create(
        JarCookie(
            visitor=owner,
            name=f"bulk{i:04d}",
            path="/",
            present=True,
            issued_at=now - timedelta(seconds=i),
        )
        for i in range(number)
    )


# load_jar ---------------------------------------------------------------------


@pytest.mark.django_db
def test_load_jar_reads_named_present_and_latest_issued_rows():
    owner = factories.visitor(requests=5)
    named = factories.jar_cookie(owner, "named")
    present = factories.jar_cookie(owner, "present", present=True)
    latest = issued(owner, "latest")
    factories.jar_cookie(owner, "forgotten")  # neither named, present nor issued

    rows = jar.load_jar(owner, ["named"])

    assert set(rows) == {named.id, present.id, latest.id}
    assert rows[named.id] == named


@pytest.mark.django_db
def test_load_jar_reads_every_row_of_a_named_cookie():
    owner = factories.visitor(requests=5)
    paths = [factories.jar_cookie(owner, "a", path=p) for p in ("/", "/x", "")]

    rows = jar.load_jar(owner, ["a"])

    assert set(rows) == {row.id for row in paths}


@pytest.mark.django_db
def test_load_jar_reads_only_the_visitors_own_rows():
    owner, other = factories.visitor(requests=5), factories.visitor(requests=5)
    mine = factories.jar_cookie(owner, "a")
    factories.jar_cookie(other, "a")
    factories.jar_cookie(other, "present", present=True)
    issued(other, "latest")

    rows = jar.load_jar(owner, ["a"])

    assert list(rows) == [mine.id]


@pytest.mark.django_db
def test_load_jar_of_an_empty_jar_is_empty():
    assert jar.load_jar(factories.visitor(), ["a", "b"]) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, 1, 300])
def test_load_jar_runs_one_query_whatever_the_jar_size(size):
    owner = factories.visitor(requests=5)
    many_rows(owner, size)

    with CaptureQueriesContext(connection) as queries:
        jar.load_jar(owner, ["bulk0000", "other"])

    # The four bounded reads, each with its own LIMIT, in one statement.
    assert len(queries) == 1
    assert queries[0]["sql"].count("LIMIT") == 3


@pytest.mark.django_db
def test_load_jar_skips_the_name_lookup_without_names():
    owner = factories.visitor(requests=5)
    many_rows(owner, 3)

    with CaptureQueriesContext(connection) as queries:
        rows = jar.load_jar(owner, [])

    assert len(queries) == 1
    assert " IN (" not in queries[0]["sql"]
    assert len(rows) == 3


@pytest.mark.django_db
def test_load_jar_reads_are_bounded(settings):
    owner = factories.visitor(requests=5)
    many_rows(owner, 300)

    rows = jar.load_jar(owner, [])

    assert len(rows) >= settings.COOKIE_LAB_LOG_MAX_COOKIES
    assert len(rows) <= settings.COOKIE_LAB_LOG_MAX_COOKIES + jar.LATEST_ISSUED


@pytest.mark.django_db
def test_load_jar_reads_the_latest_issued_first():
    owner = factories.visitor(requests=5)
    newest = [issued(owner, f"new{i}", minutes_ago=i) for i in range(jar.LATEST_ISSUED)]
    issued(owner, "oldest", minutes_ago=10_000)

    rows = jar.load_jar(owner, [])

    assert set(rows) == {row.id for row in newest}


@pytest.mark.django_db
def test_every_load_jar_query_filters_by_visitor():
    owner = factories.visitor(requests=5)
    many_rows(owner, 10)

    with CaptureQueriesContext(connection) as queries:
        jar.load_jar(owner, ["bulk0001"])

    for query in queries:
        assert re.search(rf'"visitor_id" = (%s|{owner.id})\b', query["sql"]), query["sql"]


@pytest.mark.django_db
def test_loaded_rows_know_their_visitor_without_a_query():
    owner = factories.visitor(requests=5)
    factories.jar_cookie(owner, "a", present=True)
    rows = jar.load_jar(owner, ["a"])

    with CaptureQueriesContext(connection) as queries:
        [row] = rows.values()
        assert row.visitor is owner
        row.times_seen  # noqa: B018

    assert len(queries) == 0


# forgettable_cookies ------------------------------------------------------------


@pytest.mark.django_db
def test_forgettable_cookies_are_the_issued_ones_newest_first():
    owner = factories.visitor()
    old = issued(owner, "old", minutes_ago=20)
    new = issued(owner, "new", minutes_ago=10)
    factories.jar_cookie(owner, "from_js", present=True)  # never issued: cannot expire it

    assert jar.forgettable_cookies(owner) == [new, old]


@pytest.mark.django_db
def test_forgettable_cookies_leave_out_the_sites_own(settings):
    owner = factories.visitor()
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, VISITOR):
        issued(owner, name)
    mine = issued(owner, "flavor")

    assert jar.forgettable_cookies(owner) == [mine]


@pytest.mark.django_db
def test_forgettable_cookies_follow_the_site_cookie_names(settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    owner = factories.visitor()
    issued(owner, "__Host-sessionid")
    old_name = issued(owner, "sessionid")

    assert jar.forgettable_cookies(owner) == [old_name]


@pytest.mark.django_db
def test_forgettable_cookies_leave_out_deleted_ones():
    owner = factories.visitor()
    issued(owner, "gone", deleted_at=timezone.now())
    kept = issued(owner, "kept")

    assert jar.forgettable_cookies(owner) == [kept]


@pytest.mark.django_db
def test_forgettable_cookies_are_the_visitors_own():
    owner, other = factories.visitor(), factories.visitor()
    mine = issued(owner, "a")
    issued(other, "a")
    issued(other, "b")

    assert jar.forgettable_cookies(owner) == [mine]


@pytest.mark.django_db
def test_forgettable_cookies_are_capped(monkeypatch):
    monkeypatch.setattr(jar, "FORGET_LIMIT", 3)
    owner = factories.visitor()
    rows = [issued(owner, f"c{i}", minutes_ago=i) for i in range(5)]

    assert jar.forgettable_cookies(owner) == rows[:3]


@pytest.mark.django_db
def test_forgettable_cookies_query_has_a_limit():
    owner = factories.visitor()
    issued(owner, "a")

    with CaptureQueriesContext(connection) as queries:
        jar.forgettable_cookies(owner)

    [query] = queries
    assert re.search(rf"\bLIMIT {jar.FORGET_LIMIT}\b", query["sql"]), query["sql"]


# The per-process jar cache -------------------------------------------------------


def jar_reads(queries):
    table = JarCookie._meta.db_table
    return [
        q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT") and table in q["sql"]
    ]


def lab_get(client, lab_url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(lab_url)
    assert response.status_code == 200
    return response, jar_reads(queries)


@pytest.mark.django_db
def test_an_unchanged_jar_is_read_once_then_reused(client, lab_url):
    client.cookies["flavor"] = "chip"
    client.get(lab_url)  # first visit: the lab issues username=root
    client.get(lab_url)  # the jar changes: username came back
    visitor = Visitor.objects.get()
    version = visitor.jar_version

    _, first = lab_get(client, lab_url)
    _, second = lab_get(client, lab_url)

    assert first, "the lab page reads the jar"
    assert second == [], "the same jar, unchanged since: no read"
    visitor.refresh_from_db()
    assert visitor.jar_version == version, "an unchanged request leaves the version alone"


@pytest.mark.django_db
def test_a_cookie_set_by_the_lab_is_on_the_next_page(client, lab_url):
    client.get(lab_url)
    lab_get(client, lab_url)
    lab_get(client, lab_url)  # cached now
    before = Visitor.objects.get().jar_version

    client.post(lab_url, {"key": "flavor", "value": "chip", "path": "/", "samesite": "Lax"})
    response, reads = lab_get(client, lab_url)

    assert Visitor.objects.get().jar_version > before
    assert reads, "the version moved: the jar is read again"
    assert {v.name for v in response.context["round_trip"]} >= {"flavor", "username"}


@pytest.mark.django_db
def test_a_change_written_by_another_process_is_seen(client, lab_url):
    client.get(lab_url)
    lab_get(client, lab_url)
    lab_get(client, lab_url)  # cached now
    visitor = Visitor.objects.get()
    # Another server process logs a response that re-issues username HttpOnly:
    # its rows and the version change in one transaction.
    JarCookie.objects.filter(visitor=visitor, name="username").update(httponly=True)
    Visitor.objects.filter(id=visitor.id).update(jar_version=F("jar_version") + 1)

    response, reads = lab_get(client, lab_url)

    assert reads
    [row] = [r for r in response.context["received"] if r["name"] == "username"]
    assert row["issued"].httponly


@pytest.mark.django_db
def test_the_cache_keeps_within_its_rows_dropping_the_least_recently_used():
    cache = JarCache(12)
    owners = [factories.visitor(requests=5) for _ in range(5)]
    for owner in owners:
        many_rows(owner, 3)
        cache.get(owner, ("a",))
    cache.get(owners[1], ("a",))  # used again: the second is now the newest

    assert list(cache.jars) == [o.id for o in (owners[2], owners[3], owners[4], owners[1])]
    assert cache.rows == 12
    with CaptureQueriesContext(connection) as queries:
        cache.get(owners[0], ("a",))
    assert len(queries) == 1, "the first was dropped: read again"
    assert list(cache.jars) == [o.id for o in (owners[3], owners[4], owners[1], owners[0])]


@pytest.mark.django_db
def test_a_jar_over_a_quarter_of_the_budget_is_read_each_time():
    cache = JarCache(12)
    owner = factories.visitor(requests=5)
    many_rows(owner, 4)

    with CaptureQueriesContext(connection) as queries:
        assert len(cache.get(owner, ("a",))) == 4
        cache.get(owner, ("a",))

    assert len(queries) == 2
    assert not cache.jars and cache.rows == 0


@pytest.mark.django_db
def test_the_cache_holds_one_jar_per_browser_for_the_names_it_carried():
    cache = JarCache(8)
    owner = factories.visitor(requests=5)
    a = factories.jar_cookie(owner, "a")
    b = factories.jar_cookie(owner, "b")

    assert set(cache.get(owner, ("a",))) == {a.id}
    assert set(cache.get(owner, ("b",))) == {b.id}, "other names: another read"
    assert len(cache.jars) == 1


@pytest.mark.django_db
def test_a_cache_of_size_0_reads_every_time():
    cache = JarCache(0)
    owner = factories.visitor(requests=5)
    factories.jar_cookie(owner, "a")

    with CaptureQueriesContext(connection) as queries:
        cache.get(owner, ("a",))
        cache.get(owner, ("a",))

    assert len(queries) == 2
    assert not cache.jars
