"""
What PostgreSQL tells each server process of its browsers' jars: a known
browser's lab page reads nothing, and still never shows a jar that moved.
"""

import os
import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cookies_app import jar_versions
from cookies_app.jar_versions import GONE, VERSIONS, JarVersions
from cookies_app.models import JarCookie, Visitor

from .test_page_cache import without_secrets

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="NOTIFY is PostgreSQL's; SQLite reads the row"
)


def listening(size=8):
    """A JarVersions as a process whose listener is connected sees it."""
    versions = JarVersions(size)
    versions._pid, versions.listening = os.getpid(), True
    versions.heard_at = time.monotonic()  # its echo just came back
    return versions


def wait_until(check, seconds=5):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not told in time"
        time.sleep(0.01)


# -- What a process keeps --------------------------------------------------


def test_versions_only_grow():
    versions = listening()
    versions.note(7, 3)
    versions.note(7, 2)  # a read that began before the notice of 3

    assert versions.get(7) == 3


def test_a_deleted_row_stays_deleted():
    versions = listening()
    versions.note(7, 3)
    versions.apply("7,8")
    versions.note(7, 4)

    assert versions.get(7) is None
    assert versions.get(8) is None


def test_a_notice_names_ids_and_versions():
    versions = listening()
    versions.apply("7:3")
    versions.apply("12:1")

    assert (versions.get(7), versions.get(12)) == (3, 1)


def test_a_star_forgets_everything():
    versions = listening()
    versions.note(7, 3)

    versions.apply("*")

    assert versions.get(7) is None


def test_nothing_is_known_while_not_listening():
    versions = listening()
    versions.note(7, 3)

    versions._set_listening(False)
    versions.note(8, 1)

    assert versions.get(7) is None
    assert versions.get(8) is None


def test_a_forked_process_trusts_nothing_its_parent_knew():
    versions = listening()
    versions.note(7, 3)

    versions._pid = os.getpid() + 1  # as the parent's pid looks from a child

    assert versions.get(7) is None


def test_a_read_begun_before_everything_was_forgotten_is_not_kept():
    versions = listening()
    token = versions.generation  # what token() gives while listening
    versions.forget()  # the listener reconnected: notices may have been missed

    versions.note_read(7, 3, token)

    assert versions.get(7) is None


def test_a_read_is_kept_when_nothing_was_forgotten():
    versions = listening()
    token = versions.generation

    versions.note_read(7, 3, token)

    assert versions.get(7) == 3


def test_the_least_recently_used_go_first_and_reads_under_way_are_not_kept():
    versions = listening(size=2)
    versions.note(1, 1)
    versions.note(2, 1)
    versions.get(1)
    token = versions.generation

    versions.note(3, 1)  # 2 goes: a read of it under way may be older than its notice
    versions.note_read(2, 0, token)

    assert (versions.get(1), versions.get(2), versions.get(3)) == (1, None, 1)


def test_nothing_listens_outside_background_mode(settings):
    settings.COOKIE_LAB_LOG = "inline"
    assert JarVersions(8).token() is None


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's case")
def test_nothing_listens_on_sqlite(settings):
    settings.COOKIE_LAB_LOG = "background"
    versions = JarVersions(8)

    assert versions.token() is None
    assert versions._thread is None


def test_trust_lapses_when_the_echo_is_late(monkeypatch):
    versions = listening()
    versions.note(7, 3)

    versions.heard_at = time.monotonic() - jar_versions.TRUST_SECONDS - 1

    assert versions.get(7) is None


def test_a_malformed_notice_is_skipped_and_the_rest_applied():
    versions = listening()

    versions.apply("x:1,7:3,8:y")

    assert versions.get(7) == 3
    assert versions.listening


# -- PostgreSQL's notices ----------------------------------------------------


def visitor_of(client):
    return Visitor.objects.get(key=client.cookies["cookielab_visitor"].value)


def known_lab_browser(client, lab_url, background):
    """A browser whose lab page this process has cached; its visitor row."""
    for _ in range(2):
        client.get(lab_url)
        background.flush()
    # The second read started the listener; it is trusted once its echo is back.
    wait_until(VERSIONS.trusted)
    client.get(lab_url)  # read again, and the version noted
    background.flush()
    visitor = visitor_of(client)
    assert VERSIONS.get(visitor.id) == visitor.jar_version
    client.get(lab_url)  # rendered under the version told
    return visitor


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_known_browsers_lab_page_reads_nothing(background, client, lab_url):
    known_lab_browser(client, lab_url, background)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(lab_url)

    assert response.status_code == 200
    assert not response.templates, "from the page cache"
    assert len(queries) == 0, [q["sql"] for q in queries]


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_jar_moved_by_another_process_is_rendered_again(background, client, lab_url):
    visitor = known_lab_browser(client, lab_url, background)
    before = client.get(lab_url)
    assert not before.templates

    # Another server process's writer: the username cookie was issued HttpOnly.
    JarCookie.objects.filter(visitor=visitor, name="username").update(httponly=True)
    Visitor.objects.filter(pk=visitor.pk).update(jar_version=visitor.jar_version + 1)
    wait_until(lambda: VERSIONS.get(visitor.pk) == visitor.jar_version + 1)
    after = client.get(lab_url)

    assert after.templates, "rendered again"
    assert without_secrets(after) != without_secrets(before)


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_row_deleted_by_another_process_is_read_again(background, client, lab_url):
    visitor = known_lab_browser(client, lab_url, background)

    Visitor.objects.filter(pk=visitor.pk).delete()  # another process's purge
    wait_until(lambda: VERSIONS.versions.get(visitor.pk) == GONE)
    response = client.get(lab_url)

    assert VERSIONS.get(visitor.pk) is None
    assert response.templates, "read, found gone: not the page cached for it"
    again = client.get(lab_url)
    assert again.cookies["cookielab_visitor"].value != visitor.key, "a new id"


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_delete_of_many_forgets_everything(background, client, lab_url):
    visitor = known_lab_browser(client, lab_url, background)
    now = visitor.last_seen
    Visitor.objects.bulk_create(
        Visitor(key=f"{n:032x}", first_seen=now, last_seen=now) for n in range(201)
    )

    with connection.cursor() as cursor:  # one statement: too many ids for one notice
        cursor.execute(f"DELETE FROM {Visitor._meta.db_table} WHERE id <> %s", [visitor.pk])

    wait_until(lambda: VERSIONS.get(visitor.pk) is None)
    assert Visitor.objects.filter(pk=visitor.pk).exists()


def test_an_echo_is_no_notice():
    versions = listening()
    versions.note(7, 3)

    versions.apply("echo:4242-0123456789abcdef")

    assert versions.get(7) == 3


class FakeListener:
    """A listening connection that delivers the echoes sent to it ``echoes`` times, then nothing."""

    def __init__(self, echoes):
        self.echoes = echoes
        self.sent = []  # statements
        self.pending = []

    def execute(self, sql, params=None):
        self.sent.append(sql)

    def echo(self, params, payload):  # stands for jar_versions._send_echo
        if self.echoes:
            self.echoes -= 1
            self.pending.append(payload)

    def notifies(self, timeout):
        time.sleep(timeout)
        heard, self.pending = self.pending, []
        return iter([SimpleNamespace(payload=p) for p in heard])


@pytest.fixture
def listener(monkeypatch):
    """(a JarVersions of this process, a FakeListener delivering ``echoes`` echoes), quick."""
    monkeypatch.setattr(jar_versions, "WAKE_SECONDS", 0.01)
    monkeypatch.setattr(jar_versions, "PING_SECONDS", 0.05)

    def make(echoes):
        versions = JarVersions(8)
        versions._pid = os.getpid()
        fake = FakeListener(echoes)
        monkeypatch.setattr(jar_versions, "_send_echo", fake.echo)
        return versions, fake

    return make


def test_a_connection_that_never_hears_its_echo_is_never_trusted(listener, monkeypatch):
    """As behind a pooler in transaction mode: LISTEN taken, nothing delivered."""
    versions, deaf = listener(echoes=0)
    trusted = []
    monkeypatch.setattr(versions, "_set_listening", trusted.append)

    with pytest.raises(ConnectionError):
        versions._hear(deaf, {}, threading.Event())

    assert trusted == []
    assert deaf.sent == [f"LISTEN {jar_versions.CHANNEL}"]


def test_a_connection_whose_echo_stops_is_dropped(listener):
    versions, fading = listener(echoes=2)

    with pytest.raises(ConnectionError):
        versions._hear(fading, {}, threading.Event())

    assert versions.listening, "trusted while its echoes came back"
    versions.heard_at -= jar_versions.TRUST_SECONDS + 1
    assert not versions.trusted()


@postgresql
@pytest.mark.django_db(transaction=True)
def test_the_listener_trusts_its_connection_once_it_hears_its_echo(background, client, lab_url):
    client.get(lab_url)  # a new browser: nothing read
    background.flush()
    client.get(lab_url)  # its row read: this process's listener starts

    wait_until(VERSIONS.trusted)

    assert VERSIONS._echoed
    assert VERSIONS.listening


@postgresql
@pytest.mark.django_db(transaction=True)
def test_this_processs_writer_tells_its_own_pages_at_once(background, client, lab_url):
    visitor = known_lab_browser(client, lab_url, background)

    client.cookies["flavor"] = "chip"  # a cookie the jar has not seen: the jar moves
    client.get(lab_url)
    background.flush()

    moved = Visitor.objects.get(pk=visitor.pk).jar_version
    assert moved > visitor.jar_version
    assert VERSIONS.get(visitor.pk) == moved, "noted on commit, not when the notice comes"


@postgresql
@pytest.mark.django_db(transaction=True)
def test_forget_me_marks_the_row_gone_at_once(background, client, lab_url):
    visitor = known_lab_browser(client, lab_url, background)

    client.post("/cookies/forget")

    assert VERSIONS.versions.get(visitor.pk) == GONE
