"""
The admin dashboard: each panel computed on known traffic (sent through the
real views, at fixed times), every figure's link, the range control, and a
bounded number of queries whatever the log holds.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cookies_app import dashboard, dashboard_range, rollup
from cookies_app.models import CookieChange, Panel, Tally

from .conftest import set_cookie_form

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DAY_ONE = datetime(2026, 11, 19, 10, 5, tzinfo=UTC)
INDEX = reverse("admin:index")


@pytest.fixture
def clock(monkeypatch):
    """Set the time every part of the site reads (timezone.now)."""
    current = {"now": DAY_ONE}
    monkeypatch.setattr(timezone, "now", lambda: current["now"])

    def set_to(when):
        current["now"] = when

    return set_to


def visit(client, clock, when, path="/cookies", ua=CHROME, site="same-origin", **extra):
    clock(when)
    return client.get(path, HTTP_USER_AGENT=ua, HTTP_SEC_FETCH_SITE=site, **extra)


@pytest.fixture
def traffic(client, clock, django_user_model):
    """
    Two browsers over two days:

    Chrome, day one 10:05 (new, typed: none), 10:06 POST theme (SameSite=Strict,
    HttpOnly, Max-Age 3600), 10:07 the redirect, then day two 09:00;
    Firefox, day one 11:30 (new, cross-site) and 11:45.
    """
    chrome = client
    visit(chrome, clock, DAY_ONE, site="none")
    clock(DAY_ONE + timedelta(minutes=1))
    chrome.post(
        "/cookies",
        set_cookie_form(key="theme", value="dark", httponly="on", samesite="Strict", max_age=3600),
        HTTP_USER_AGENT=CHROME,
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    visit(chrome, clock, DAY_ONE + timedelta(minutes=2))
    visit(chrome, clock, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))

    from django.test import Client

    firefox = Client()
    visit(firefox, clock, datetime(2026, 11, 19, 11, 30, tzinfo=UTC), ua=FIREFOX, site="cross-site")
    visit(firefox, clock, datetime(2026, 11, 19, 11, 45, tzinfo=UTC), ua=FIREFOX)

    clock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    return django_user_model.objects.create_superuser("staff", "s@example.com", "pw")


def period(start, end):
    return dashboard_range.Period("custom", "Custom", start, end)


def rows(chart):
    return {r.label: r.count for r in chart.rows}


def charts(built):
    return {c.key: c for c in (*built["traffic"], *built["panels"], *built["names"])}


@pytest.mark.django_db
def test_traffic_per_hour_for_one_day(traffic):
    built = dashboard.build(period(date(2026, 11, 19), date(2026, 11, 19)))
    found = charts(built)

    assert built["bucket"] == "hour"
    assert len(found["traffic-requests"].rows) == 24
    requests = {k: v for k, v in rows(found["traffic-requests"]).items() if v}
    assert requests == {"11-19 10:00": 3, "11-19 11:00": 2}
    browsers = {k: v for k, v in rows(found["traffic-visitors"]).items() if v}
    assert browsers == {"11-19 10:00": 1, "11-19 11:00": 1}
    issued = {k: v for k, v in rows(found["traffic-issued"]).items() if v}
    # Chrome: visitor id + username, then theme; Firefox: visitor id + username.
    assert issued == {"11-19 10:00": 3, "11-19 11:00": 2}
    cards = {label: count for label, count, _ in built["cards"]}
    assert cards == {
        "Requests": 5,
        "New browsers": 2,
        "Set-Cookie issued": 5,
        "Deletions sent": 0,
    }


@pytest.mark.django_db
def test_traffic_per_day_counts_each_browser_once_a_day(traffic):
    built = dashboard.build(period(date(2026, 11, 18), date(2026, 11, 20)))
    found = charts(built)

    assert built["bucket"] == "day"
    assert rows(found["traffic-requests"]) == {"2026-11-18": 0, "2026-11-19": 5, "2026-11-20": 1}
    assert rows(found["traffic-visitors"]) == {"2026-11-18": 0, "2026-11-19": 2, "2026-11-20": 1}


@pytest.mark.django_db
def test_label_panels(traffic):
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 20))))

    assert rows(found["fetch-site"]) == {
        "none (typed or bookmarked)": 1,
        "same-origin": 4,
        "same-site": 0,
        "cross-site": 1,
        "not sent": 0,
        "other (not a standard value)": 0,
    }
    assert rows(found["browsers"]) == {"Chrome": 4, "Firefox": 2}
    assert rows(found["issued-names"]) == {"cookielab_visitor": 2, "username": 2, "theme": 1}
    # Browser-days: Chrome sent its cookies on both days, Firefox on one.
    received = rows(found["received"])
    assert received["cookielab_visitor"] == 3
    assert received["theme"] == 2


@pytest.mark.django_db
def test_attribute_audit_shares_of_lines_issued(traffic):
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 19))))
    attributes = {r.label: (r.count, r.share_text) for r in found["attributes"].rows}

    # 5 lines: 2 visitor ids (HttpOnly, Lax, a year), 2 usernames (nothing set),
    # 1 theme (HttpOnly, Strict, an hour).
    assert attributes == {
        "Secure": (0, "0%"),
        "HttpOnly": (3, "60%"),
        "Partitioned": (0, "0%"),
        "signed": (0, "0%"),
        "SameSite=Strict": (1, "20%"),
        "SameSite=Lax": (2, "40%"),
        "SameSite=None": (0, "0%"),
        "SameSite unset": (2, "40%"),
    }
    assert rows(found["prefixes"])["no prefix"] == 5
    assert rows(found["lifetimes"]) == {
        rollup.SESSION: 2,
        "up to 1 hour": 1,
        "up to 1 day": 0,
        "up to 7 days": 0,
        "up to 30 days": 0,
        "up to 400 days": 2,
        "over 400 days (capped)": 0,
    }


@pytest.mark.django_db
def test_round_trip_verdicts_are_judged_by_the_next_request(traffic):
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 20))))
    verdicts = {k: v for k, v in rows(found["verdicts"]).items() if v}

    # Every line came back with the browser's next request; the HttpOnly ones
    # are hidden from JavaScript.
    assert verdicts == {"kept": 2, "kept, hidden from JS": 3}


@pytest.mark.django_db
def test_predicted_drops_by_rule_code(client, clock, admin_client):
    # A __Host- cookie with a Domain: the rules say every browser refuses it.
    clock(DAY_ONE)
    client.get("/cookies")
    client.post(
        "/cookies",
        set_cookie_form(key="__Host-id", value="1", domain="localhost", send_anyway="on"),
    )
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 19))))
    drops = rows(found["drops"])

    assert drops and all(n == 1 for n in drops.values()), drops
    for row in found["drops"].rows:
        listed = admin_client.get(row.url).context["cl"]
        assert [line.cookie.name for line in listed.result_list] == ["__Host-id"]
    assert rows(found["prefixes"])["__Host-"] == 1


def linked_rows(built):
    """Every figure whose list shows exactly the rows it counts."""
    yield from built["cards"]
    for chart in (*built["traffic"], *built["panels"], *built["names"]):
        if chart.key in ("received", "traffic-visitors"):
            continue  # browsers, where the list shows their rows
        for row in chart.rows:
            yield f"{chart.key}: {row.label}", row.count, row.url


@pytest.mark.django_db
def test_every_number_links_to_the_list_that_explains_it(traffic, client):
    client.force_login(traffic)
    built = dashboard.build(period(date(2026, 11, 19), date(2026, 11, 20)))

    checked = 0
    for label, count, url in linked_rows(built):
        response = client.get(url)
        assert response.status_code == 200, (label, url)
        assert response.context["cl"].result_count == count, (label, url)
        checked += 1
    assert checked > 40


@pytest.mark.django_db
def test_received_names_link_to_the_jars_holding_them(traffic, client):
    client.force_login(traffic)
    built = dashboard.build(period(date(2026, 11, 19), date(2026, 11, 20)))
    [received] = [c for c in built["names"] if c.key == "received"]
    theme = next(r for r in received.rows if r.label == "theme")

    listed = client.get(theme.url).context["cl"].result_list

    assert [c.name for c in listed] == ["theme"]


@pytest.mark.django_db
def test_the_index_is_the_dashboard_with_the_last_seven_days(traffic, client):
    client.force_login(traffic)
    response = client.get(INDEX)
    content = response.content.decode()

    assert response.status_code == 200
    assert response.context["period"].start == date(2026, 11, 14)
    assert response.context["period"].end == date(2026, 11, 20)
    assert "times in UTC" in content
    assert 'id="dashboard-charts"' in content
    assert "chart.js-4.6.1/chart.umd.min.js" in content
    # The data tables carry the links; the app list is still there.
    assert reverse("admin:cookies_app_request_changelist") in content
    assert content.count("<figure") == 3 + 7 + 2


@pytest.mark.django_db
def test_latest_browsers_link_to_their_pages(traffic, client):
    client.force_login(traffic)
    latest = client.get(INDEX).context["latest_visitors"]

    assert [row["browser"] for row in latest] == ["Chrome", "Firefox"]
    for row in latest:
        assert client.get(row["url"]).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, message",
    [
        ({"range": "custom"}, "needs both a start and an end"),
        ({"range": "custom", "start": "2026-11-20", "end": "2026-11-01"}, "must not be after"),
        ({"start": "2026-13-01", "end": "2026-11-01"}, "Enter a valid date"),
        ({"range": "forever"}, "Select a valid choice"),
        ({"range": "custom", "start": "1900-01-01", "end": "2026-01-01"}, "at most 3660 days"),
    ],
)
def test_a_bad_range_is_a_400_that_says_why(admin_client, params, message):
    response = admin_client.get(INDEX, params)

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, start, end",
    [
        ({}, date(2026, 11, 14), date(2026, 11, 20)),
        ({"range": "today"}, date(2026, 11, 20), date(2026, 11, 20)),
        ({"range": "30d"}, date(2026, 10, 22), date(2026, 11, 20)),
        ({"range": "all"}, date(2026, 11, 19), date(2026, 11, 20)),
        ({"start": "2026-11-19", "end": "2026-11-19"}, date(2026, 11, 19), date(2026, 11, 19)),
    ],
)
def test_range_choices(traffic, client, params, start, end):
    client.force_login(traffic)
    chosen = client.get(INDEX, params).context["period"]

    assert (chosen.start, chosen.end) == (start, end)


@pytest.mark.django_db
def test_days_follow_the_sites_time_zone(client, clock, settings):
    settings.TIME_ZONE = "America/New_York"
    # 03:00 UTC on the 20th is still the 19th in New York (UTC-5).
    visit(client, clock, datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    visit(client, clock, datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 21))))

    assert rows(found["traffic-requests"]) == {"2026-11-19": 1, "2026-11-20": 1, "2026-11-21": 0}
    assert rows(found["traffic-visitors"]) == {"2026-11-19": 1, "2026-11-20": 1, "2026-11-21": 0}


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_log(client, clock, admin_client):
    def dashboard_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(INDEX, {"range": "all"}).status_code == 200
        return [q["sql"] for q in queries]

    visit(client, clock, DAY_ONE)
    few = dashboard_queries()
    for hour in range(1, 40):
        visit(client, clock, DAY_ONE + timedelta(hours=hour), path=f"/api/cookies/set?c{hour}=v")
    many = dashboard_queries()

    assert len(many) == len(few)
    # Session and user, the earliest tally (all time), traffic, the labelled
    # panels, the two name tops, the latest browsers.
    assert len(many) <= 8, many
    # Nothing reads the log's requests: only the latest browsers' own (a join, LIMIT 10).
    assert not any('FROM "cookies_app_request"' in sql for sql in many)


@pytest.mark.django_db
def test_the_dashboard_is_for_staff_only(client, django_user_model):
    assert client.get(INDEX).status_code == 302
    user = django_user_model.objects.create_user("visitor", password="pw")
    client.force_login(user)
    assert client.get(INDEX).status_code == 302


@pytest.mark.django_db
def test_cookie_names_are_escaped(client, clock, admin_client):
    clock(DAY_ONE)
    client.get("/cookies", HTTP_COOKIE="<script>alert(1)</script>=1")
    clock(datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    content = admin_client.get(INDEX, {"range": "today"}).content.decode()

    assert "<script>alert(1)" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    # In the charts' JSON too: json_script escapes <, > and &.
    assert "\\u003Cscript\\u003Ealert(1)" in content


@pytest.mark.django_db
def test_tallies_upsert_adds_to_existing_rows():
    tallies = rollup.Tallies()
    tallies.daily(DAY_ONE, Panel.BROWSER, "Chrome", 2)
    tallies.save()
    again = rollup.Tallies()
    again.daily(DAY_ONE, Panel.BROWSER, "Chrome", 3)
    again.daily(DAY_ONE, Panel.BROWSER, "Firefox")
    again.save()

    assert dict(Tally.objects.values_list("label", "count")) == {"Chrome": 5, "Firefox": 1}


@pytest.mark.django_db
def test_a_request_logged_out_of_order_does_not_count_its_browser_twice(client, clock):
    # Y (11:00:01) is logged before X, which started at 10:59:59; then Z at 11:10.
    visit(client, clock, datetime(2026, 11, 19, 11, 0, 1, tzinfo=UTC))
    visit(client, clock, datetime(2026, 11, 19, 10, 59, 59, tzinfo=UTC))
    visit(client, clock, datetime(2026, 11, 19, 11, 10, tzinfo=UTC))
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 19))))

    assert rows(found["traffic-visitors"])["11-19 11:00"] == 1
    assert sum(rows(found["traffic-requests"]).values()) == 3


@pytest.mark.django_db
def test_lines_are_judged_by_a_request_that_started_after_their_response(client, clock):
    visit(client, clock, DAY_ONE)
    clock(DAY_ONE + timedelta(minutes=1))
    client.post("/cookies", set_cookie_form(key="flavor", value="chip"))
    line = CookieChange.objects.get(cookie__name="flavor")
    # In flight before the response came: it cannot have carried the cookie.
    visit(client, clock, DAY_ONE + timedelta(seconds=30))
    line.refresh_from_db()
    assert line.verdict == ""

    visit(client, clock, DAY_ONE + timedelta(minutes=2))
    line.refresh_from_db()
    assert line.verdict == "kept"
    verdicts = Tally.objects.filter(panel=Panel.VERDICT, label="kept")
    assert sum(t.count for t in verdicts) == 2  # flavor, and username from the first visit


@pytest.mark.django_db
def test_staff_without_permission_on_the_log_see_no_figures(traffic, client, django_user_model):
    staff = django_user_model.objects.create_user("helper", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get(INDEX)

    assert response.status_code == 200
    assert "period" not in response.context
    assert 'id="dashboard-charts"' not in response.content.decode()


@pytest.mark.django_db
def test_the_hour_repeated_when_clocks_go_back_is_two_bars(client, clock, settings):
    settings.TIME_ZONE = "America/New_York"
    # 01:30 EDT (05:30 UTC), then 01:30 EST (06:30 UTC) twice, on 2026-11-01.
    for when in ((5, 30), (6, 30), (6, 40)):
        visit(client, clock, datetime(2026, 11, 1, *when, tzinfo=UTC))
    found = charts(dashboard.build(period(date(2026, 11, 1), date(2026, 11, 1))))
    requests = {k: v for k, v in rows(found["traffic-requests"]).items() if v}

    assert len(found["traffic-requests"].rows) == 25
    assert requests == {"11-01 01:00 EDT": 1, "11-01 01:00 EST": 2}


@pytest.mark.django_db
def test_long_ranges_have_a_bar_per_week(traffic):
    built = dashboard.build(period(date(2026, 1, 5), date(2026, 12, 31)))
    found = charts(built)

    assert built["bucket"] == "week"
    assert len(found["traffic-requests"].rows) == 52
    # 2026-11-16 is the Monday of the week of the 19th and 20th.
    assert rows(found["traffic-requests"])["week of 2026-11-16"] == 6
    assert sum(rows(found["traffic-visitors"]).values()) == 3  # browser-days


@pytest.mark.django_db
def test_an_unknown_sec_fetch_site_is_counted_and_listed_as_other(client, clock, admin_client):
    visit(client, clock, DAY_ONE, site="cross-galaxy")
    found = charts(dashboard.build(period(date(2026, 11, 19), date(2026, 11, 19))))
    [other] = [r for r in found["fetch-site"].rows if r.label.startswith("other")]

    assert other.count == 1
    assert admin_client.get(other.url).context["cl"].result_count == 1
