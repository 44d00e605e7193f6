"""Pruning the cookie log, forgetting a visitor, and the retention setting."""

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cookies_app import retention
from cookies_app.jar_cache import JARS
from cookies_app.models import (
    ChangeKind,
    CookieChange,
    JarCookie,
    Panel,
    Request,
    Tally,
    UserAgent,
    Visitor,
)
from cookies_app.retention import Pruned, forget, prune, would_prune
from cookiesite.settings import env_positive_int

ROOT = Path(__file__).resolve().parent.parent
NOW = timezone.now()
CUTOFF = NOW - timedelta(days=30)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=1)


def make_visitor(last_seen=RECENT):
    return Visitor.objects.create(key=uuid.uuid4().hex, first_seen=OLD, last_seen=last_seen)


def make_cookie(visitor, name="flavor"):
    return JarCookie.objects.get_or_create(visitor=visitor, name=name, path="/", value="chip")[0]


def make_request(visitor, at, user_agent=None):
    """A logged request, which becomes the visitor's latest as the log would make it."""
    visitor.requests += 1
    request = Request.objects.create(
        visitor=visitor, seq=visitor.requests, at=at, method="GET", path="/cookies",
        user_agent=user_agent,
    )  # fmt: skip
    visitor.latest_request = request
    visitor.save(update_fields=["requests", "latest_request"])
    return request


def make_change(request, cookie):
    return CookieChange.objects.create(
        visitor=request.visitor, cookie=cookie, request=request, at=request.at,
        kind=ChangeKind.APPEARED, value="chip",
    )  # fmt: skip


def make_history(visitor, *times, cookie=None):
    """One request per time, each changing ``cookie``; returns the requests."""
    cookie = cookie or make_cookie(visitor)
    requests = [make_request(visitor, at) for at in times]
    for request in requests:
        make_change(request, cookie)
    return requests


def rows_of(visitor):
    return (
        Visitor.objects.filter(pk=visitor.pk).count(),
        JarCookie.objects.filter(visitor=visitor).count(),
        Request.objects.filter(visitor=visitor).count(),
        CookieChange.objects.filter(visitor=visitor).count(),
    )


def all_rows():
    return [m.objects.count() for m in (Visitor, JarCookie, Request, CookieChange, UserAgent)]


def deletes(queries, table=""):
    return [q["sql"] for q in queries if q["sql"].startswith("DELETE") and table in q["sql"]]


@pytest.mark.django_db
def test_old_requests_and_changes_go_recent_ones_stay():
    visitor = make_visitor()
    make_history(visitor, OLD, OLD)
    [recent] = make_history(visitor, RECENT)

    counts = prune(CUTOFF)

    assert list(Request.objects.all()) == [recent]
    assert list(CookieChange.objects.values_list("request", flat=True)) == [recent.pk]
    assert counts == Pruned(requests=2, changes=2)


@pytest.mark.django_db
def test_a_visitors_latest_request_stays_however_old():
    visitor = make_visitor(last_seen=RECENT)  # seen since, but nothing logged since
    [latest] = make_history(visitor, OLD)

    prune(CUTOFF)

    visitor.refresh_from_db()
    assert visitor.latest_request == latest
    assert not CookieChange.objects.exists()


@pytest.mark.django_db
def test_unseen_visitors_go_with_their_jar_requests_and_changes():
    gone = make_visitor(last_seen=OLD)
    make_history(gone, OLD - timedelta(days=1), OLD)
    make_cookie(gone, "never_sent_back")
    kept = make_visitor()
    make_history(kept, RECENT)

    counts = prune(CUTOFF)

    assert rows_of(gone) == (0, 0, 0, 0)
    assert rows_of(kept) == (1, 1, 1, 1)
    assert counts == Pruned(visitors=1, jar_cookies=2, requests=2, changes=2)


@pytest.mark.django_db
def test_a_visitor_spared_by_the_purge_gets_no_stale_cached_jar():
    # Read as unseen, it came back before the DELETE: it stays, its jar rows gone.
    back = make_visitor(last_seen=RECENT)
    back.requests = 5
    back.save()
    make_cookie(back, "flavor")
    assert {r.name for r in JARS.get(back, ("flavor",)).values()} == {"flavor"}

    retention._purge(Visitor.objects.filter(pk=back.pk), 100, 0, unseen_since=CUTOFF)

    back.refresh_from_db()
    assert back.jar_version == 1
    assert JARS.get(back, ("flavor",)) == {}, "the cached jar is not served"


@pytest.mark.django_db
def test_a_seen_visitors_jar_stays_when_its_history_goes():
    visitor = make_visitor()
    cookie = make_cookie(visitor)
    make_history(visitor, OLD, cookie=cookie)
    make_history(visitor, RECENT, cookie=make_cookie(visitor, "other"))

    prune(CUTOFF)

    assert cookie in JarCookie.objects.filter(visitor=visitor)
    assert not cookie.changes.exists()


@pytest.mark.django_db
def test_user_agents_no_request_uses_go():
    visitor = make_visitor()
    only_old, still_used = (UserAgent.objects.create(text=t) for t in ("old", "used"))
    UserAgent.objects.create(text="orphan")
    make_request(visitor, OLD, user_agent=only_old)
    make_request(visitor, RECENT, user_agent=still_used)

    counts = prune(CUTOFF)

    assert list(UserAgent.objects.values_list("text", flat=True)) == ["used"]
    assert counts.user_agents == 2


@pytest.mark.django_db
def test_a_visitor_back_during_the_prune_keeps_its_jar(monkeypatch):
    visitor = make_visitor(last_seen=OLD)
    make_history(visitor, OLD)
    pages = retention._pages

    def visitor_comes_back(rows, *args):
        for ids in pages(rows, *args):
            Visitor.objects.filter(pk=visitor.pk).update(last_seen=NOW)
            yield ids

    monkeypatch.setattr(retention, "_pages", visitor_comes_back)

    counts = prune(CUTOFF)

    assert rows_of(visitor) == (1, 1, 1, 0)  # its old change goes as anyone's would
    assert counts.visitors == 0


@pytest.mark.django_db
def test_every_delete_is_one_bounded_batch():
    for _ in range(3):
        make_history(make_visitor(last_seen=OLD), OLD, OLD, OLD)
    seen = make_visitor()
    make_history(seen, *[OLD] * 5, RECENT)
    before = all_rows()

    with CaptureQueriesContext(connection) as queries:
        counts = prune(CUTOFF, batch_size=2)

    assert counts == Pruned(visitors=3, jar_cookies=3, requests=14, changes=14)
    assert all_rows() == [before[0] - 3, before[1] - 3, before[2] - 14, before[3] - 14, 0]
    for sql in deletes(queries):
        id_list = re.search(r" IN \(([^()]*)\)", sql)
        assert id_list and len(id_list.group(1).split(",")) <= 2, sql
    # Statements grow with batches: the unseen visitors' pages hold 6 and 3
    # requests, then the seen visitor has 5 old ones.
    assert len(deletes(queries, '"cookies_app_request" WHERE "id"')) == 3 + 2 + 3


@pytest.mark.django_db
def test_a_dry_run_deletes_nothing_and_counts_what_prune_would():
    make_history(make_visitor(last_seen=OLD), OLD, OLD)
    seen = make_visitor()
    make_history(seen, OLD, RECENT)
    UserAgent.objects.create(text="orphan")
    before = all_rows()
    out = StringIO()

    call_command("prune_cookie_log", "--dry-run", stdout=out)

    assert all_rows() == before
    assert "Would delete" in out.getvalue()
    expected = would_prune(CUTOFF)
    assert expected == Pruned(visitors=1, jar_cookies=1, requests=3, changes=3, user_agents=1)
    assert prune(CUTOFF) == expected


@pytest.mark.django_db
def test_the_command_prints_what_it_deleted():
    make_history(make_visitor(last_seen=OLD), OLD)
    # The dashboard's counts go with the days the log no longer holds.
    Tally.objects.create(period=OLD, panel=Panel.REQUESTS, count=3)
    recent = Tally.objects.create(period=NOW, panel=Panel.REQUESTS, count=2)
    out = StringIO()

    call_command("prune_cookie_log", "--days", "30", "--batch-size", "2", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Deleted log rows older than 30 days")
    assert [line.split() for line in lines[1:]] == [
        ["visitors", "1"],
        ["jar", "cookies", "1"],
        ["requests", "1"],
        ["changes", "1"],
        ["user", "agents", "0"],
        ["tallies", "1"],
    ]
    assert list(Tally.objects.values_list("id", flat=True)) == [recent.id]


@pytest.mark.django_db
def test_the_command_defaults_to_the_retention_setting(settings):
    settings.COOKIE_LAB_LOG_RETENTION_DAYS = 10
    visitor = make_visitor()
    make_history(visitor, NOW - timedelta(days=20))
    [kept] = make_history(visitor, NOW - timedelta(days=5))

    call_command("prune_cookie_log", stdout=StringIO())

    assert list(Request.objects.all()) == [kept]


@pytest.mark.parametrize(
    "args",
    [
        ["--days", "0"],
        ["--days", "-3"],
        ["--days", "abc"],
        ["--days", "999999999"],
        ["--batch-size", "0"],
        ["--batch-size", "many"],
    ],
)
def test_the_command_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("prune_cookie_log", *args, stdout=StringIO())


@pytest.mark.django_db
def test_forget_removes_exactly_one_visitors_rows():
    agent = UserAgent.objects.create(text="shared")
    forgotten, other = make_visitor(), make_visitor()
    for visitor in (forgotten, other):
        make_history(visitor, OLD, RECENT)
        make_request(visitor, RECENT, user_agent=agent)
        make_cookie(visitor, "never_sent_back")

    counts = forget(forgotten)

    assert rows_of(forgotten) == (0, 0, 0, 0)
    assert rows_of(other) == (1, 2, 3, 2)
    assert UserAgent.objects.filter(pk=agent.pk).exists()
    assert counts == Pruned(visitors=1, jar_cookies=2, requests=3, changes=2)


def test_retention_defaults_to_30_days(settings):
    assert settings.COOKIE_LAB_LOG_RETENTION_DAYS == 30


@pytest.mark.parametrize(("raw", "days"), [(None, 30), ("", 30), ("1", 1), ("365", 365)])
def test_retention_days_parse(monkeypatch, raw, days):
    monkeypatch.delenv("COOKIE_LAB_LOG_RETENTION_DAYS", raising=False)
    if raw is not None:
        monkeypatch.setenv("COOKIE_LAB_LOG_RETENTION_DAYS", raw)

    assert env_positive_int("COOKIE_LAB_LOG_RETENTION_DAYS", 30) == days


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1.5", " 30", "+30", "3_0", "30d", "٣"])
def test_retention_days_refuse_anything_but_a_positive_integer(monkeypatch, raw):
    monkeypatch.setenv("COOKIE_LAB_LOG_RETENTION_DAYS", raw)

    with pytest.raises(ImproperlyConfigured, match="COOKIE_LAB_LOG_RETENTION_DAYS must be"):
        env_positive_int("COOKIE_LAB_LOG_RETENTION_DAYS", 30)


def test_a_bad_retention_value_stops_the_site_at_startup():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "cookiesite.settings",
            "COOKIE_LAB_LOG_RETENTION_DAYS": "0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: COOKIE_LAB_LOG_RETENTION_DAYS must be" in result.stderr
