"""
The background log writer, in process: requests go through the real view
stack with COOKIE_LAB_LOG=background, the writer thread writes them to the
real database on its own connection (so these tests commit: transaction=True).
"""

import threading
import time
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cookies_app import log_batch, log_writer
from cookies_app.models import CookieChange, JarCookie, Request, Visitor

from .conftest import set_cookie_form

pytestmark = pytest.mark.django_db(transaction=True)


def visitor_of(client):
    return Visitor.objects.get(key=client.cookies["cookielab_visitor"].value)


def test_requests_are_logged_after_their_response_in_order(background, client):
    client.cookies["flavor"] = "chip"
    for _ in range(5):
        assert client.get("/api/cookies").status_code == 200
    background.flush()

    visitor = visitor_of(client)
    seqs = list(
        Request.objects.filter(visitor=visitor).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == [1, 2, 3, 4, 5]
    assert (visitor.requests, visitor.logged) == (5, 5)
    assert visitor.latest_request.seq == 5
    row = JarCookie.objects.get(visitor=visitor, name="flavor")
    assert row.value == "chip" and row.present


def held(monkeypatch):
    """The writer, held inside its next batch until ``release`` is set."""
    entered, release = threading.Event(), threading.Event()
    original = log_batch.record_batch

    def slow(batch):
        entered.set()
        release.wait(10)
        original(batch)

    monkeypatch.setattr(log_batch, "record_batch", slow)
    return entered, release


def test_the_view_does_not_wait_for_the_log(background, client, monkeypatch):
    client.get("/api/cookies")
    background.flush()
    entered, release = held(monkeypatch)
    try:
        client.get("/api/cookies")
        assert entered.wait(10)
        for _ in range(3):
            assert client.get("/api/cookies").status_code == 200
        assert Request.objects.filter(visitor=visitor_of(client)).count() == 1
    finally:
        release.set()
    background.flush()
    assert Request.objects.filter(visitor=visitor_of(client)).count() == 5


def batch_sizes(monkeypatch):
    """The size of every batch the writer writes from now on, as each is written."""
    sizes, original = [], log_batch.record_batch

    def counted(batch):
        original(batch)
        sizes.append(len(batch))  # once written

    monkeypatch.setattr(log_batch, "record_batch", counted)
    return sizes


def test_a_batch_lingers_for_the_requests_that_follow(background, client, monkeypatch):
    client.get("/api/cookies")  # a first visit sets the visitor id: written inline
    background.flush()
    monkeypatch.setattr(background, "linger", 1.0)
    sizes = batch_sizes(monkeypatch)

    for _ in range(3):
        client.get("/api/cookies")
    deadline = time.monotonic() + 10
    while not sizes and time.monotonic() < deadline:
        time.sleep(0.05)  # the linger ends by itself: no flush, which would end it early

    assert sizes == [3], "one transaction for the three requests of the linger"
    assert Request.objects.filter(visitor=visitor_of(client)).count() == 4


def test_a_whole_batch_queued_is_written_without_lingering(background, client, monkeypatch):
    client.get("/api/cookies")
    background.flush()
    monkeypatch.setattr(background, "linger", 30.0)
    monkeypatch.setattr(background, "batch_size", 3)

    started = time.monotonic()
    for _ in range(3):
        client.get("/api/cookies")
    while Request.objects.count() < 4 and time.monotonic() - started < 10:
        time.sleep(0.02)  # no flush: the full batch itself ends the wait

    assert Request.objects.filter(visitor=visitor_of(client)).count() == 4
    assert time.monotonic() - started < 5, "written long before the 30 s linger"


def test_a_flush_does_not_wait_out_the_linger(background, client, monkeypatch):
    client.get("/api/cookies")
    background.flush()
    monkeypatch.setattr(background, "linger", 30.0)
    client.get("/api/cookies")

    started = time.monotonic()
    background.flush()

    assert time.monotonic() - started < 5
    assert Request.objects.filter(visitor=visitor_of(client)).count() == 2


def test_a_batch_upserts_its_tallies_once(background, client):
    client.get("/api/cookies")
    background.flush()
    visit_entries = []
    original = log_writer.writer.submit
    log_writer.writer.submit = visit_entries.append  # collect instead of queueing
    try:
        for _ in range(4):
            client.get("/api/cookies")
    finally:
        log_writer.writer.submit = original

    with CaptureQueriesContext(connection) as queries:
        log_batch.record_batch(visit_entries)

    sql = [q["sql"] for q in queries]
    assert sum(s.startswith('INSERT INTO "cookies_app_tally"') for s in sql) == 1
    assert Request.objects.filter(visitor=visitor_of(client)).count() == 5


def test_one_refused_request_does_not_lose_its_batch(background, client, other_client):
    client.get("/api/cookies")
    other_client.get("/api/cookies")
    background.flush()
    entries = []
    original = log_writer.writer.submit
    log_writer.writer.submit = entries.append
    try:
        client.get("/api/cookies")
        other_client.get("/api/cookies")
    finally:
        log_writer.writer.submit = original
    # The database refuses one of them (a status its CHECK constraint refuses).
    entries[0] = replace(entries[0], status=-1)

    log_writer.writer._write(entries)

    assert Request.objects.filter(visitor=entries[0].visit.visitor).count() == 1
    assert Request.objects.filter(visitor=entries[1].visit.visitor).count() == 2


def test_a_form_post_is_logged_before_its_answer(background, client, lab_url):
    client.get(lab_url)
    background.flush()
    response = client.post(lab_url, set_cookie_form(key="flavor"))

    assert response.status_code == 303
    # No flush: the answer names the request, which is on record already.
    page = client.get(response["Location"])
    assert b"Set-Cookie: flavor=chip" in page.content
    assert CookieChange.objects.filter(cookie__name="flavor").exists()


def test_stop_writes_what_is_queued(background, client, monkeypatch):
    client.get("/api/cookies")
    background.flush()
    entered, release = held(monkeypatch)
    client.get("/api/cookies")
    assert entered.wait(10)
    for _ in range(3):
        client.get("/api/cookies")  # queued behind the held batch
    threading.Timer(0.3, release.set).start()

    background.stop()  # returns once the queue is written

    assert Request.objects.filter(visitor=visitor_of(client)).count() == 5


def test_a_failed_attempt_leaves_no_numbers_behind(background, client, monkeypatch):
    """A batch rolled back and retried one by one numbers its requests afresh."""
    client.get("/api/cookies")
    background.flush()
    entries = []
    monkeypatch.setattr(log_writer.writer, "submit", entries.append)
    for _ in range(3):
        client.get("/api/cookies")
    monkeypatch.undo()
    entries.append(replace(entries[-1], status=-1))  # the database refuses this one

    log_writer.writer._write(entries)
    client.get("/api/cookies")  # and the browser goes on
    background.flush()

    visitor = visitor_of(client)
    seqs = sorted(Request.objects.filter(visitor=visitor).values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]
    assert visitor.requests == 5


def test_logging_off_writes_nothing(settings, client):
    settings.COOKIE_LAB_LOG = "off"
    client.cookies["flavor"] = "chip"
    response = client.get("/api/cookies")

    assert response.json() == {"cookies": {"flavor": "chip"}}
    assert (Visitor.objects.count(), Request.objects.count()) == (0, 0)


@pytest.fixture
def other_client():
    from django.test import Client

    return Client()


def test_a_response_that_sets_cookies_is_written_before_it_goes(background, client):
    client.get("/api/cookies")
    background.flush()

    queued = []
    original = log_writer.writer.submit
    log_writer.writer.submit = queued.append  # what goes to the queue stays there
    try:
        client.get("/api/cookies/set", {"flavor": "chip"})
        client.get("/api/cookies")
    finally:
        log_writer.writer.submit = original

    # Written in the request, so no server process can write an older request
    # of this browser after it unnoticed; the plain read went to the queue.
    assert JarCookie.objects.filter(name="flavor", issued_value="chip").exists()
    assert Request.objects.filter(visitor=visitor_of(client)).count() == 2
    assert [e.visit.path for e in queued] == ["/api/cookies"]


def test_only_the_writers_sqlite_connection_keeps_scratch_storage_in_memory(
    background, client, monkeypatch
):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's setting")
    seen = []
    record_batch = log_batch.record_batch

    def recording(entries):
        with connection.cursor() as cursor:  # the writer thread's own connection
            cursor.execute("PRAGMA temp_store")
            seen.append(cursor.fetchone()[0])
        record_batch(entries)

    client.get("/api/cookies")  # sets the visitor id: written before it goes
    monkeypatch.setattr(log_batch, "record_batch", recording)
    client.get("/api/cookies")  # queued for the writer
    background.flush()
    with connection.cursor() as cursor:  # this thread's
        cursor.execute("PRAGMA temp_store")
        here = cursor.fetchone()[0]

    assert seen == [2], "MEMORY"
    assert here == 0, "SQLite's default, a file: a sort of the whole log stays out of memory"
