"""
Data migrations: old rows in, new state out. 0005 carries the old event log
into the jar; 0007 backfills the dashboard's tallies and the log's new columns.
"""

import importlib
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

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
dashboard_tallies = importlib.import_module("cookies_app.migrations.0007_dashboard_tallies")


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


# 0007: the tallies of a log written before them.

BEFORE_TALLIES = [("cookies_app", "0006_drop_events")]
TALLIES = [("cookies_app", "0007_dashboard_tallies")]
# Half an hour off UTC: a local hour starts at :30 UTC, and 00:00-05:30 local
# is the previous day in UTC.
ZONE = "Asia/Kolkata"
LOCAL = ZoneInfo(ZONE)
DAY = 86_400
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PROBE = "lab-probe/1.0"  # ua-parser knows no family for it


def local(day, hour, minute=0):
    """A time on 2026-11-<day>, local to ZONE."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


class OldJar:
    """The jar tables as 0006 left them, written the way the write path did."""

    def __init__(self, apps):
        get = apps.get_model
        self.Visitor, self.Request = get("cookies_app", "Visitor"), get("cookies_app", "Request")
        self.UserAgent = get("cookies_app", "UserAgent")
        self.JarCookie = get("cookies_app", "JarCookie")
        self.CookieChange = get("cookies_app", "CookieChange")

    def visitor(self, key, first_seen):
        return self.Visitor.objects.create(
            key=key * 32, first_seen=first_seen, last_seen=first_seen
        )

    def request(self, visitor, at, fetch_site, agent):
        """A request, with ``agent`` None for one whose User-Agent row is gone."""
        if agent is not None:
            agent = self.UserAgent.objects.get_or_create(text=agent)[0]
        visitor.requests += 1
        visitor.logged, visitor.last_seen = visitor.requests, at
        request = self.Request.objects.create(
            visitor=visitor,
            seq=visitor.requests,
            at=at,
            method="GET",
            host="lab.test",
            path="/cookies",
            fetch_site=fetch_site,
            user_agent=agent,
        )
        visitor.latest_request = request
        visitor.save()
        return request

    def change(self, request, name, kind, **fields):
        cookie = self.JarCookie.objects.get_or_create(visitor=request.visitor, name=name)[0]
        return self.CookieChange.objects.create(
            visitor=request.visitor,
            cookie=cookie,
            request=request,
            at=request.at,
            kind=kind,
            **fields,
        )

    def issued(self, request, name, kind="issued", **attributes):
        line = {"secure": False, "httponly": False, "partitioned": False, "signed": False}
        return self.change(request, name, kind, **(line | attributes))


def seed_jar(apps):
    """
    Two local days (Nov 2 and 3): Alice in both, Bob on the first, Carol early
    on the second (still Nov 2 in UTC), and Dave, whose requests were pruned.
    Returns {visitor key: when its latest request came}.
    """
    jar = OldJar(apps)
    alice, bob = jar.visitor("a", local(2, 10, 15)), jar.visitor("b", local(2, 10, 40))
    carol, dave = jar.visitor("c", local(3, 2, 10)), jar.visitor("d", local(2, 8, 30))

    a1 = jar.request(alice, local(2, 10, 15), "none", FIREFOX)
    jar.issued(a1, "__Host-session", secure=True, httponly=True, samesite="Lax", max_age=3600)
    thirty_days = format_datetime((a1.at + timedelta(days=30)).astimezone(UTC), usegmt=True)
    jar.issued(a1, "theme", expires=thirty_days)
    b1 = jar.request(bob, local(2, 10, 40), "", CHROME)
    jar.issued(b1, "lang")
    jar.issued(b1, "__Http-x", max_age=DAY)
    a2 = jar.request(alice, local(2, 10, 50), "same-origin", FIREFOX)
    jar.change(a2, "__Host-session", "appeared")
    jar.change(a2, "theme", "appeared")
    # Lower case: browsers match prefixes case-insensitively.
    jar.issued(a2, "__secure-ID", secure=True, partitioned=True, samesite="None", expires="soon")
    # "__Host-Http-" before "__Host-": the first prefix that matches.
    jar.issued(
        a2,
        "__Host-Http-token",
        secure=True,
        httponly=True,
        signed=True,
        samesite="Strict",
        max_age=500 * DAY,
    )
    a3 = jar.request(alice, local(2, 11, 5), "same-origin", FIREFOX)
    jar.change(a3, "theme", "changed")
    jar.issued(a3, "__Host-session", secure=True, httponly=True, samesite="Lax", max_age=3600)
    b2 = jar.request(bob, local(2, 11, 20), "nonsense", None)
    jar.change(b2, "lang", "appeared")
    jar.change(b2, "theme", "appeared")
    jar.issued(b2, "lang", "deleted", max_age=0)

    c1 = jar.request(carol, local(3, 2, 10), "same-site", "")
    # No time zone: read as UTC, 31 days after 2026-11-02 20:40 UTC.
    jar.issued(c1, "theme", secure=True, samesite="Lax", expires="Thu, 03 Dec 2026 20:40:00 -0000")
    c2 = jar.request(carol, local(3, 2, 40), "same-site", PROBE)
    jar.change(c2, "theme", "appeared")
    a4 = jar.request(alice, local(3, 9, 10), "cross-site", FIREFOX)
    jar.change(a4, "flavor", "appeared")
    jar.issued(a4, "theme", "deleted", expires="Thu, 01 Jan 1970 00:00:00 GMT")
    return {alice.key: a4.at, bob.key: b2.at, carol.key: c2.at, dave.key: None}


@pytest.fixture(params=["whole", "one at a time"])
def backfilled(request, monkeypatch, settings):
    """
    A log seeded at 0006, then migrated to 0007 (the tallies' historical
    models); once as is, once a row per batch, so batch edges cannot change the result.
    """
    settings.TIME_ZONE = ZONE
    if request.param == "one at a time":
        monkeypatch.setattr(dashboard_tallies, "BATCH", 1)
    try:
        last_logged = seed_jar(migrate(BEFORE_TALLIES))
        yield migrate(TALLIES), last_logged
    finally:
        migrate(latest())  # the rest of the suite runs on the latest schema


def tallies(apps, panels):
    """{(panel, label): {local period: count}} of ``panels``."""
    found = {}
    rows = apps.get_model("cookies_app", "Tally").objects.filter(panel__in=panels)
    for period, panel, label, n in rows.values_list("period", "panel", "label", "count"):
        found.setdefault((panel, label), {})[period.astimezone(LOCAL).strftime("%d %H:%M")] = n
    return found


@pytest.mark.django_db(transaction=True)
def test_backfill_tallies_hourly_traffic(backfilled):
    apps, _ = backfilled
    hourly = ["requests", "visitors", "day_visitors", "new_visitors", "issued", "deleted"]

    assert tallies(apps, hourly) == {
        ("requests", ""): {"02 10:00": 3, "02 11:00": 2, "03 02:00": 2, "03 09:00": 1},
        ("visitors", ""): {"02 10:00": 2, "02 11:00": 2, "03 02:00": 1, "03 09:00": 1},
        # In the hour of the browser's first request of the local day.
        ("day_visitors", ""): {"02 10:00": 2, "03 02:00": 1, "03 09:00": 1},
        ("new_visitors", ""): {"02 08:00": 1, "02 10:00": 2, "03 02:00": 1},
        ("issued", ""): {"02 10:00": 6, "02 11:00": 1, "03 02:00": 1},
        ("deleted", ""): {"02 11:00": 1, "03 09:00": 1},
    }


@pytest.mark.django_db(transaction=True)
def test_backfill_tallies_requests_by_label(backfilled):
    apps, _ = backfilled

    assert tallies(apps, ["fetch_site", "browser", "received"]) == {
        ("fetch_site", "none"): {"02 00:00": 1},
        ("fetch_site", "same-origin"): {"02 00:00": 2},
        # Absent, and a value browsers do not send.
        ("fetch_site", ""): {"02 00:00": 1},
        ("fetch_site", "other"): {"02 00:00": 1},
        ("fetch_site", "same-site"): {"03 00:00": 2},
        ("fetch_site", "cross-site"): {"03 00:00": 1},
        ("browser", "Firefox"): {"02 00:00": 3, "03 00:00": 1},
        ("browser", "Chrome"): {"02 00:00": 1},
        # No User-Agent row, and an empty one.
        ("browser", "(no User-Agent)"): {"02 00:00": 1, "03 00:00": 1},
        ("browser", "Other"): {"03 00:00": 1},
        # Approximated by the cookies that appeared ("changed" is not counted).
        ("received", "__Host-session"): {"02 00:00": 1},
        ("received", "theme"): {"02 00:00": 2, "03 00:00": 1},
        ("received", "lang"): {"02 00:00": 1},
        ("received", "flavor"): {"03 00:00": 1},
    }


@pytest.mark.django_db(transaction=True)
def test_backfill_tallies_issued_lines_by_label(backfilled):
    apps, _ = backfilled
    panels = ["issued_name", "attribute", "samesite", "prefix", "lifetime"]

    # Deletions count in the hourly panel only.
    assert tallies(apps, panels) == {
        ("issued_name", "__Host-session"): {"02 00:00": 2},
        ("issued_name", "theme"): {"02 00:00": 1, "03 00:00": 1},
        ("issued_name", "lang"): {"02 00:00": 1},
        ("issued_name", "__Http-x"): {"02 00:00": 1},
        ("issued_name", "__secure-ID"): {"02 00:00": 1},
        ("issued_name", "__Host-Http-token"): {"02 00:00": 1},
        ("attribute", "Secure"): {"02 00:00": 4, "03 00:00": 1},
        ("attribute", "HttpOnly"): {"02 00:00": 3},
        ("attribute", "Partitioned"): {"02 00:00": 1},
        ("attribute", "signed"): {"02 00:00": 1},
        ("samesite", "Lax"): {"02 00:00": 2, "03 00:00": 1},
        ("samesite", "Strict"): {"02 00:00": 1},
        ("samesite", "None"): {"02 00:00": 1},
        ("samesite", "unset"): {"02 00:00": 3},
        ("prefix", "__Host-"): {"02 00:00": 2},
        ("prefix", "__Host-Http-"): {"02 00:00": 1},
        ("prefix", "__Http-"): {"02 00:00": 1},
        ("prefix", "__Secure-"): {"02 00:00": 1},
        ("prefix", "no prefix"): {"02 00:00": 2, "03 00:00": 1},
        ("lifetime", "up to 1 hour"): {"02 00:00": 2},
        ("lifetime", "up to 1 day"): {"02 00:00": 1},
        ("lifetime", "up to 30 days"): {"02 00:00": 1},
        ("lifetime", "up to 400 days"): {"03 00:00": 1},
        ("lifetime", "over 400 days (capped)"): {"02 00:00": 1},
        # No Max-Age or Expires, and an Expires that cannot be read.
        ("lifetime", "session (no Max-Age or Expires)"): {"02 00:00": 2},
    }
    # Not rebuilt: they need the rules and the next request of each line's time.
    assert tallies(apps, ["drop", "verdict"]) == {}


@pytest.mark.django_db(transaction=True)
def test_backfill_fills_the_new_columns(backfilled):
    apps, last_logged = backfilled
    visitors = apps.get_model("cookies_app", "Visitor").objects
    agents = apps.get_model("cookies_app", "UserAgent").objects
    changes = apps.get_model("cookies_app", "CookieChange").objects.order_by("at", "id")
    lines = changes.filter(kind__in=["issued", "deleted"])
    before_epoch = int((datetime(1970, 1, 1, tzinfo=UTC) - local(3, 9, 10)).total_seconds())

    assert dict(visitors.values_list("key", "last_logged")) == last_logged
    assert dict(agents.values_list("text", "family")) == {
        FIREFOX: "Firefox",
        CHROME: "Chrome",
        "": "(no User-Agent)",
        PROBE: "Other",
    }
    # Max-Age, else Expires less the time issued; none: a session cookie.
    assert list(lines.values_list("kind", "cookie__name", "lifetime")) == [
        ("issued", "__Host-session", 3600),
        ("issued", "theme", 30 * DAY),
        ("issued", "lang", None),
        ("issued", "__Http-x", DAY),
        ("issued", "__secure-ID", None),
        ("issued", "__Host-Http-token", 500 * DAY),
        ("issued", "__Host-session", 3600),
        ("deleted", "lang", 0),
        ("issued", "theme", 31 * DAY),
        ("deleted", "theme", before_epoch),
    ]
    assert not changes.exclude(kind__in=["issued", "deleted"]).exclude(lifetime=None).exists()
    # What the backfill cannot know stays blank.
    assert set(changes.values_list("drops", "verdict")) == {("", "")}
    assert not visitors.filter(awaiting_request__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_backfill_of_an_empty_log_writes_nothing():
    try:
        migrate(BEFORE_TALLIES)
        apps = migrate(TALLIES)
        assert not apps.get_model("cookies_app", "Tally").objects.exists()
    finally:
        migrate(latest())
