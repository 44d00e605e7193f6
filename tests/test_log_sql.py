"""The raw SQL helpers give what the ORM gives."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from cookies_app.log_sql import aware_datetime, datetime_adapter, from_rows
from cookies_app.models import Visitor
from tests import factories


@pytest.mark.django_db
def test_a_datetime_read_by_raw_sql_is_the_aware_one_the_orm_reads():
    visitor = factories.visitor()
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_seen FROM cookies_app_visitor WHERE id = %s", [visitor.id])
        [raw] = cursor.fetchone()

    value = aware_datetime(raw)

    assert value.tzinfo is not None
    assert value == Visitor.objects.get(id=visitor.id).last_seen


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 28, 4, 0, 7, 123456, tzinfo=UTC),
        datetime(2026, 11, 28, 4, 0, tzinfo=UTC),  # no microseconds: no fraction
        datetime(2026, 11, 28, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        None,
    ],
)
def test_the_log_writes_times_as_djangos_own_adapter_does(at):
    adapt = datetime_adapter(connection)

    assert adapt(at) == connection.ops.adapt_datetimefield_value(at)
    if connection.vendor == "sqlite":
        assert adapt is not connection.ops.adapt_datetimefield_value, "its own, quicker"


def test_without_time_zones_the_log_uses_djangos_adapter(settings):
    settings.USE_TZ = False  # Django's own receiver drops the connection's time zone

    assert datetime_adapter(connection) == connection.ops.adapt_datetimefield_value


def test_aware_and_missing_datetimes_pass_through():
    at = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert aware_datetime(at) is at
    assert aware_datetime(None) is None


@pytest.mark.django_db
def test_from_rows_builds_the_instances_the_orm_would():
    visitor = factories.visitor(requests=3)
    # In the model's field order, as Model.from_db takes them.
    fields = [
        f.attname
        for f in Visitor._meta.concrete_fields
        if f.attname in {"id", "key", "requests", "last_seen"}
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(fields)} FROM cookies_app_visitor WHERE id = %s", [visitor.id]
        )
        [built] = from_rows(Visitor, fields, cursor.fetchall())

    expected = Visitor.objects.get(id=visitor.id)
    assert [getattr(built, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert built._state.adding is False and built._state.db == "default"
