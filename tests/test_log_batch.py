"""
The background writer's batch: unchanged requests in a fixed number of
statements, and the same log as the full path writes one request at a time.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cookies_app import log_batch, log_writer
from cookies_app.models import CookieChange, JarCookie, Request, Tally, Visitor


@pytest.fixture
def queued(settings):
    """Requests answered in background mode, kept instead of written."""
    settings.COOKIE_LAB_LOG = "background"
    entries = []
    original = log_writer.writer.submit
    log_writer.writer.submit = entries.append
    yield entries
    log_writer.writer.submit = original


def browser(**cookies):
    client = Client(HTTP_USER_AGENT="batch-test")
    for name, value in cookies.items():
        client.cookies[name] = value
    return client


def settled(client, settings):
    """A browser with an id and a logged request to compare the next ones with."""
    settings.COOKIE_LAB_LOG = "inline"
    client.get("/api/cookies")
    client.get("/api/cookies")
    settings.COOKIE_LAB_LOG = "background"
    return Visitor.objects.get(key=client.cookies["cookielab_visitor"].value)


def log_of(visitor):
    """What the log says of a browser, ids aside."""
    visitor.refresh_from_db()
    requests = Request.objects.filter(visitor=visitor).order_by("seq")
    carried = [
        sorted(JarCookie.objects.filter(id__in=r.carried_ids).values_list("name", flat=True))
        for r in requests
    ]
    rows = list(requests.values_list("seq", "path", "status", "cookie_count", "user_agent__text"))
    jar = [
        (name, "(its id)" if name == "cookielab_visitor" else value, *rest)
        for name, value, *rest in JarCookie.objects.filter(visitor=visitor)
        .order_by("name")
        .values_list("name", "value", "present", "run_from", "seen_before")
    ]
    return {
        "counters": (visitor.requests, visitor.logged, visitor.latest_request.seq),
        "requests": rows,
        "carried": carried,
        "jar": jar,
        "changes": CookieChange.objects.filter(visitor=visitor).count(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("each", [2, 10])
def test_unchanged_requests_take_five_statements_whatever_the_batch(queued, settings, each):
    clients = [browser(flavor="chip", n=str(i)) for i in range(3)]
    for client in clients:
        settled(client, settings)
    for client in clients:
        for _ in range(each):
            client.get("/api/cookies")

    with CaptureQueriesContext(connection) as queries:
        log_batch.record_batch(queued)

    # The visitors' locks, the User-Agents, the visitors, the tallies (the
    # test's own transaction adds a savepoint around them); the requests are
    # a fifth statement, which Django's query log does not see (a COPY on
    # PostgreSQL, on sqlite3's own connection on SQLite): their rows are
    # counted below.
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 4, [sql[:60] for sql in statements]
    assert Request.objects.count() == 3 * (2 + each)
    assert "JOIN" not in " ".join(statements)


@pytest.mark.django_db
def test_the_batch_logs_what_the_full_path_logs(queued, settings):
    one_by_one, batched = browser(flavor="chip"), browser(flavor="chip")
    inline_visitor = settled(one_by_one, settings)
    batch_visitor = settled(batched, settings)

    for _ in range(4):
        settings.COOKIE_LAB_LOG = "inline"
        one_by_one.get("/api/cookies")
        settings.COOKIE_LAB_LOG = "background"
        batched.get("/api/cookies")
    log_batch.record_batch(queued)

    assert log_of(batch_visitor) == log_of(inline_visitor)
    per_panel = Tally.objects.filter(panel="requests").values_list("count", flat=True)
    assert sum(per_panel) == 12


@pytest.mark.django_db
def test_a_browser_whose_cookies_changed_takes_the_full_path(queued, settings):
    client = browser(flavor="chip")
    visitor = settled(client, settings)
    client.get("/api/cookies")
    client.cookies["flavor"] = "mint"
    client.get("/api/cookies")
    client.get("/api/cookies")

    log_batch.record_batch(queued)

    jar = JarCookie.objects.get(visitor=visitor, name="flavor")
    assert (jar.value, jar.present) == ("mint", True)
    assert list(
        CookieChange.objects.filter(cookie=jar).order_by("id").values_list("kind", flat=True)
    ) == ["appeared", "changed"]
    seqs = Request.objects.filter(visitor=visitor).order_by("seq").values_list("seq", flat=True)
    assert list(seqs) == [1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_a_late_unchanged_request_is_logged_and_leaves_the_latest(queued, settings):
    """Another server process wrote a newer request of this browser first."""
    client = browser(flavor="chip")
    visitor = settled(client, settings)
    client.get("/api/cookies")
    [older] = queued
    settings.COOKIE_LAB_LOG = "inline"
    client.get("/api/cookies")  # newer, written first
    newest = Visitor.objects.get(id=visitor.id).latest_request

    log_batch.record_batch([older])

    visitor.refresh_from_db()
    assert Request.objects.filter(visitor=visitor).count() == 4
    assert visitor.latest_request == newest
    assert visitor.last_logged == newest.at
