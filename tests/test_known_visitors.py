"""
Browsers each server process knows by id: a logged API request of one reads
nothing; a forgotten one is read again and gets a new id.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cookies_app.jar_versions import VERSIONS
from cookies_app.models import JarCookie, Visitor

from .test_jar_versions import wait_until
from .test_page_cache import without_secrets

# The writer thread writes on its own connection: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def visitor_of(client):
    return Visitor.objects.get(key=client.cookies["cookielab_visitor"].value)


def test_a_known_browsers_api_request_reads_nothing(background, client):
    client.cookies["flavor"] = "chip"
    client.get("/api/cookies")  # a new browser: its row is made here
    background.flush()

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/cookies")

    assert response.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]
    background.flush()
    assert visitor_of(client).requests == 2, "logged all the same, by the writer"


def test_a_browser_forgotten_by_another_process_gets_a_new_id(background, client):
    client.get("/api/cookies")
    background.flush()
    old = client.cookies["cookielab_visitor"].value
    Visitor.objects.filter(key=old).delete()  # another process's purge

    gone = client.get("/api/cookies")  # known here still: answered, not logged
    background.flush()
    again = client.get("/api/cookies")  # the writer found it gone: read, and renewed
    background.flush()

    assert "cookielab_visitor" not in gone.cookies
    new = again.cookies["cookielab_visitor"].value
    assert new != old
    assert Visitor.objects.get(key=new).requests == 1
    assert not Visitor.objects.filter(key=old).exists()


def test_forget_me_renews_the_id_at_once(background, client, lab_url):
    client.get("/api/cookies")
    background.flush()
    old = client.cookies["cookielab_visitor"].value

    client.post("/cookies/forget")
    client.cookies["cookielab_visitor"] = old  # a client that kept it anyway
    again = client.get("/api/cookies")

    assert again.cookies["cookielab_visitor"].value != old


def test_the_lab_page_reads_a_known_browsers_row_for_its_cache(background, client, lab_url):
    client.get(lab_url)
    background.flush()
    client.get(lab_url)
    background.flush()
    before = client.get(lab_url)
    JarCookie.objects.filter(visitor=visitor_of(client), name="username").update(httponly=True)
    Visitor.objects.filter(key=client.cookies["cookielab_visitor"].value).update(jar_version=999)
    # On PostgreSQL this process may know the version from a notice: it comes
    # a moment after the commit (tests/test_jar_versions.py).
    wait_until(lambda: VERSIONS.get(visitor_of(client).id) in (None, 999))

    after = client.get(lab_url)

    assert after.templates, "rendered again: the row was read, its jar version had moved"
    assert without_secrets(after) != without_secrets(before)


def test_a_known_browsers_cached_lab_page_reads_only_its_jar_version(
    background, client, lab_url, monkeypatch
):
    # Untold by PostgreSQL (always so on SQLite): the version is read.
    monkeypatch.setattr(VERSIONS, "get", lambda visitor_id: None)
    client.get(lab_url)
    background.flush()
    client.get(lab_url)  # known now; its cookies are logged, which moves the jar
    background.flush()
    client.get(lab_url)  # its page cached at that version

    with CaptureQueriesContext(connection) as queries:
        response = client.get(lab_url)

    assert not response.templates, "served from the cache"
    [query] = [q["sql"] for q in queries]
    assert query.startswith('SELECT "jar_version" FROM'), query


def test_a_lab_page_for_a_browser_forgotten_by_another_process_renews_its_id(
    background, client, lab_url, monkeypatch
):
    monkeypatch.setattr(VERSIONS, "get", lambda visitor_id: None)
    client.get(lab_url)
    background.flush()
    client.get(lab_url)
    background.flush()
    old = client.cookies["cookielab_visitor"].value
    Visitor.objects.filter(key=old).delete()  # another process's purge

    gone = client.get(lab_url)  # known here still: its version read, and found gone
    background.flush()
    again = client.get(lab_url)

    assert gone.status_code == 200
    assert "cookielab_visitor" not in gone.cookies
    new = again.cookies["cookielab_visitor"].value
    assert new != old
    assert not Visitor.objects.filter(key=old).exists()


def test_a_cookie_setting_answer_to_a_forgotten_browser_renews_its_id(background, client):
    client.get("/api/cookies")
    background.flush()
    old = client.cookies["cookielab_visitor"].value
    Visitor.objects.filter(key=old).delete()  # another process's purge

    # Written before it goes (it sets a cookie): the row is read and found gone.
    client.get("/api/cookies/set?flavor=chip")
    again = client.get("/api/cookies")

    assert again.cookies["cookielab_visitor"].value != old
