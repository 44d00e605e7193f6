"""The date drill-down's periods, from a column's first and last value."""

from datetime import UTC, datetime, timedelta

import pytest

from cookies_app.calendar import _periods
from cookies_app.models import Request
from tests import factories


def test_days_cross_a_month_end():
    days = list(
        _periods(
            datetime(2026, 1, 30, 23, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC), "day", UTC
        )
    )

    assert [d.date().isoformat() for d in days] == [
        "2026-01-30",
        "2026-01-31",
        "2026-02-01",
        "2026-02-02",
    ]


def test_months_cross_a_year_end():
    months = list(
        _periods(datetime(2025, 11, 5, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), "month", UTC)
    )

    assert [(m.year, m.month) for m in months] == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]


@pytest.mark.django_db
def test_queryset_lists_every_day_between_first_and_last():
    owner = factories.visitor()
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    factories.requests(owner, 1, at=start)
    factories.requests(owner, 1, at=start + timedelta(days=3))

    days = Request.objects.datetimes("at", "day", tzinfo=UTC)

    assert [d.day for d in days] == [1, 2, 3, 4]
    assert list(Request.objects.none().datetimes("at", "day")) == []


@pytest.mark.django_db
def test_first_and_last_are_two_indexed_reads_not_one_min_max_scan():
    from django.db import connection
    from django.db.models import Max, Min
    from django.test.utils import CaptureQueriesContext

    owner = factories.visitor()
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    factories.requests(owner, 1, at=start)
    factories.requests(owner, 1, at=start + timedelta(days=3))

    with CaptureQueriesContext(connection) as queries:
        bounds = Request.objects.filter(method="GET").aggregate(first=Min("at"), last=Max("at"))

    assert bounds == {"first": start, "last": start + timedelta(days=3)}
    assert all("MIN(" not in q["sql"].upper() for q in queries)
    assert all("LIMIT 1" in q["sql"].upper() for q in queries)
    # Anything else is Django's own aggregate.
    assert Request.objects.aggregate(n=Min("seq")) == {"n": 1}
