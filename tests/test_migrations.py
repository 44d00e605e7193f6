"""0005 carries the old event log into the jar: old rows in, jar state out."""

import importlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cookies_app.models import CookieChange, JarCookie, Request, UserAgent, Visitor

BEFORE = [("cookies_app", "0003_request_host")]
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = "a" * 32, "b" * 32, "c" * 32
ANONYMOUS = uuid.UUID("c0ffee00-0000-4000-8000-000000000001")
AGENT = "Mozilla/5.0 (old log)"
TOKEN = "[redacted: 6 bytes, hmac-sha256 0123456789abcdef]"
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"

carry_log = importlib.import_module("cookies_app.migrations.0005_carry_log")


def minute(n):
    return START + timedelta(minutes=n)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("cookies_app")


class OldRequest:
    """One request's CookieEvent rows, as the old write path wrote them: one id, one time."""

    def __init__(self, apps, visitor_id, at, path="/cookies", method="GET", request_id=None):
        self.model = apps.get_model("cookies_app", "CookieEvent")
        self.shared = {
            "request_id": request_id or uuid.uuid4(),
            "visitor_id": visitor_id,
            "observed_at": at,
            "method": method,
            "host": "lab.test",
            "path": path,
            "user_agent": AGENT,
        }

    def received(self, name, value, **fields):
        return self._row("received", name, value, **fields)

    def issued(self, name, value, header, **fields):
        return self._row("issued", name, value, header=header, **fields)

    def _row(self, direction, name, value, **fields):
        size = len(name) + len(value)
        self.model.objects.create(
            direction=direction, name=name, value=value, size=size, **self.shared, **fields
        )
        return self


def seed(apps):
    # Alice: a cookie issued, sent back, changed by the browser, then deleted;
    # a redacted token that keeps coming back.
    first = OldRequest(apps, ALICE, minute(0))
    first.issued(
        "flavor", "chip", "flavor=chip; Path=/; SameSite=Lax", samesite="Lax", cookie_path="/"
    )
    first.issued(
        "session_token",
        TOKEN,
        "session_token=[redacted]; HttpOnly; Max-Age=3600; Path=/; Secure",
        cookie_path="/",
        max_age=3600,
        httponly=True,
        secure=True,
        redacted=True,
    )
    second = OldRequest(apps, ALICE, minute(1))
    second.received("flavor", "chip", unlogged_in_request=3)
    second.received("session_token", TOKEN, redacted=True, unlogged_in_request=3)
    third = OldRequest(apps, ALICE, minute(2), method="POST")
    third.received("flavor", "oat").received("session_token", TOKEN, redacted=True)
    third.issued(
        "flavor",
        "",
        f"flavor=; expires={EPOCH}; Max-Age=0; Path=/",
        cookie_path="/",
        max_age=0,
        expires=EPOCH,
    )
    OldRequest(apps, ALICE, minute(3)).received("session_token", TOKEN, redacted=True)
    # Bob: a cookie set by JavaScript that stops coming back and returns, and
    # one issued with no Path (so the request's default path, /docs).
    docs = "/docs/page"
    bob = OldRequest(apps, BOB, minute(10), docs)
    bob.received("theme", "dark").issued("lang", "en", "lang=en")
    OldRequest(apps, BOB, minute(11), docs).received("theme", "dark").received("lang", "en")
    OldRequest(apps, BOB, minute(12), docs).received("lang", "en")
    # /docs is out of this page's scope: lang's absence is no news.
    OldRequest(apps, BOB, minute(13), "/").received("theme", "light")
    # Carol: two requests logged at the same instant, their rows interleaved.
    early, late = OldRequest(apps, CAROL, minute(30)), OldRequest(apps, CAROL, minute(30))
    early.received("a", "1")
    late.received("b", "2")
    early.received("c", "3")
    # Before visitor ids: a request of its own.
    OldRequest(apps, "", minute(20), request_id=ANONYMOUS).received("x", "1")


@pytest.fixture(params=["whole", "one at a time"])
def carried(request, monkeypatch):
    """
    The old log seeded at 0003, then migrated to the latest: once as is, once
    one visitor and one request per batch, so batch edges cannot change the result.
    """
    if request.param == "one at a time":
        monkeypatch.setattr(carry_log, "FLUSH_AFTER", 1)
        monkeypatch.setattr(carry_log, "VISITORS_PER_PAGE", 1)
    try:
        seed(migrate(BEFORE))
        migrate(latest())
        yield
    finally:
        migrate(latest())  # the rest of the suite runs on the latest schema


def requests_of(key):
    return list(Request.objects.filter(visitor__key=key).order_by("seq"))


def carried_names(request):
    names = dict(JarCookie.objects.filter(id__in=request.carried_ids).values_list("id", "name"))
    return [names[i] for i in request.carried_ids]


def changes_of(key):
    rows = CookieChange.objects.filter(visitor__key=key).order_by("at", "id")
    return [
        (c.kind, c.cookie.name, c.value, c.request.seq)
        for c in rows.select_related("cookie", "request")
    ]


def jar_row(key, name):
    return JarCookie.objects.select_related("visitor").get(visitor__key=key, name=name)


@pytest.mark.django_db(transaction=True)
def test_one_visitor_per_visitor_id_and_per_anonymous_request(carried):
    visitors = Visitor.objects.order_by("key").select_related("latest_request")

    assert [
        (v.key, v.requests, v.first_seen, v.last_seen, v.latest_request.seq) for v in visitors
    ] == [
        (ALICE, 4, minute(0), minute(3), 4),
        (BOB, 4, minute(10), minute(13), 4),
        (ANONYMOUS.hex, 1, minute(20), minute(20), 1),
        (CAROL, 2, minute(30), minute(30), 2),
    ]


@pytest.mark.django_db(transaction=True)
def test_requests_in_time_order_with_what_they_carried(carried):
    alice = requests_of(ALICE)

    assert [(r.seq, r.at, r.method, r.path, carried_names(r), r.cookie_count) for r in alice] == [
        (1, minute(0), "GET", "/cookies", [], 0),
        (2, minute(1), "GET", "/cookies", ["flavor", "session_token"], 5),
        (3, minute(2), "POST", "/cookies", ["flavor", "session_token"], 2),
        (4, minute(3), "GET", "/cookies", ["session_token"], 1),
    ]
    assert [carried_names(r) for r in requests_of(BOB)] == [
        ["theme"],
        ["theme", "lang"],
        ["lang"],
        ["theme"],
    ]
    assert {(r.host, r.status, r.fetch_site, r.user_agent.text) for r in Request.objects.all()} == {
        ("lab.test", 200, "", AGENT)
    }
    assert UserAgent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_change_kinds_in_order(carried):
    assert changes_of(ALICE) == [
        ("issued", "flavor", "chip", 1),
        ("issued", "session_token", TOKEN, 1),
        ("appeared", "flavor", "chip", 2),
        ("appeared", "session_token", TOKEN, 2),
        ("changed", "flavor", "oat", 3),
        ("deleted", "flavor", "", 3),
    ]
    assert changes_of(BOB) == [
        ("appeared", "theme", "dark", 1),
        ("issued", "lang", "en", 1),
        ("appeared", "lang", "en", 2),
        ("stopped", "theme", "", 3),
        ("appeared", "theme", "light", 4),
    ]
    assert changes_of(ANONYMOUS.hex) == [("appeared", "x", "1", 1)]


@pytest.mark.django_db(transaction=True)
def test_set_cookie_changes_keep_the_line_and_attributes(carried):
    issued = CookieChange.objects.get(kind="issued", cookie__name="session_token")

    assert (issued.header, issued.max_age, issued.secure, issued.httponly, issued.size) == (
        "session_token=[redacted]; HttpOnly; Max-Age=3600; Path=/; Secure",
        3600,
        True,
        True,
        len("session_token") + len(TOKEN),
    )


@pytest.mark.django_db(transaction=True)
def test_deleted_cookie_is_no_longer_present(carried):
    flavor = jar_row(ALICE, "flavor")

    assert (flavor.domain, flavor.path, flavor.present, flavor.value) == ("", "/", False, "oat")
    assert (flavor.deleted_at, flavor.max_age, flavor.expires, flavor.issued_value) == (
        minute(2),
        0,
        EPOCH,
        "",
    )
    assert (flavor.first_seen, flavor.last_seen, flavor.times_seen, flavor.stopped_at) == (
        minute(1),
        minute(2),
        2,
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_redacted_value_stays_redacted(carried):
    token = jar_row(ALICE, "session_token")

    assert (token.value, token.issued_value, token.redacted) == (TOKEN, TOKEN, True)
    assert (token.present, token.run_from, token.times_seen) == (True, 2, 3)
    assert (token.httponly, token.secure, token.expires_at) == (True, True, minute(60))


@pytest.mark.django_db(transaction=True)
def test_cookie_that_stopped_and_returned(carried):
    theme = jar_row(BOB, "theme")

    assert (theme.domain, theme.path, theme.issued_at, theme.value) == ("", "", None, "light")
    assert (theme.present, theme.run_from, theme.seen_before, theme.times_seen) == (
        True,
        4,
        2,
        3,
    )
    assert (theme.first_seen, theme.last_seen, theme.stopped_at) == (minute(10), minute(11), None)


@pytest.mark.django_db(transaction=True)
def test_cookie_out_of_scope_is_absent_without_news(carried):
    lang = jar_row(BOB, "lang")

    assert (lang.path, lang.issued_host, lang.issued_path, lang.issued_at) == (
        "/docs",
        "lab.test",
        "/docs/page",
        minute(10),
    )
    assert (lang.present, lang.times_seen, lang.last_seen, lang.stopped_at) == (
        False,
        2,
        minute(12),
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_requests_logged_at_the_same_instant_stay_apart(carried):
    assert [carried_names(r) for r in requests_of(CAROL)] == [["a", "c"], ["b"]]
    assert [kind for kind, *_ in changes_of(CAROL)] == ["appeared"] * 3 + ["stopped"] * 2
