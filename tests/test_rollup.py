"""The tallies' building blocks: local hours and days, labels for each line."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cookies_app import rollup


@pytest.mark.parametrize(
    # Whole-hour, half-hour, 45-minute and half-hour-DST (Lord Howe) offsets, and
    # Monrovia's -0:44:30 of 1970-1972.
    "zone, year",
    [
        ("UTC", 2026),
        ("America/New_York", 2026),
        ("Asia/Kolkata", 2026),
        ("Asia/Kathmandu", 2026),
        ("Australia/Lord_Howe", 2026),
        ("Africa/Monrovia", 1971),
    ],
)
def test_local_hour_and_day_starts_match_localtime(settings, zone, year):
    settings.TIME_ZONE = zone
    rng = random.Random(zone)
    base = datetime(year, 1, 1, tzinfo=UTC)
    for _ in range(3000):
        at = base + timedelta(
            seconds=rng.randrange(366 * 86_400), microseconds=rng.randrange(10**6)
        )
        hour = timezone.localtime(at).replace(minute=0, second=0, microsecond=0)
        assert rollup.hour_start(at) == hour, at
        assert rollup.day_start(at) == hour.replace(hour=0), at


@pytest.mark.parametrize(
    "name, prefix",
    [
        ("__Host-Http-id", "__Host-Http-"),
        ("__host-http-id", "__Host-Http-"),
        ("__Host-id", "__Host-"),
        ("__Http-id", "__Http-"),
        ("__secure-id", "__Secure-"),
        ("_Host-id", rollup.NO_PREFIX),
        ("id", rollup.NO_PREFIX),
    ],
)
def test_prefixes_match_case_insensitively_longest_first(name, prefix):
    assert rollup.prefix_of(name) == prefix


@pytest.mark.parametrize(
    "seconds, label",
    [
        (None, rollup.SESSION),
        (-1, "up to 1 hour"),
        (3600, "up to 1 hour"),
        (3601, "up to 1 day"),
        (400 * 86_400, "up to 400 days"),
        (400 * 86_400 + 1, "over 400 days (capped)"),
    ],
)
def test_lifetime_buckets_and_their_filters_agree(seconds, label):
    assert rollup.lifetime_label(seconds) == label
    lookup = rollup.lifetime_lookup(label)
    if seconds is None:
        assert lookup == {"lifetime__isnull": True}
    else:
        assert lookup.get("lifetime__gt", -(2**63)) < seconds <= lookup.get("lifetime__lte", 2**63)


def test_browser_families_come_from_ua_parser():
    assert (
        rollup.browser_family(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        )
        == "Firefox"
    )
    assert rollup.browser_family("curl/8.5.0") == "curl"
    assert rollup.browser_family("") == "(no User-Agent)"
    assert rollup.browser_family("\\x00 nothing known") == rollup.OTHER_BROWSER
