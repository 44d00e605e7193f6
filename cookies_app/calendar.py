"""The admin's date drill-down, answered without scanning the log."""

from datetime import datetime, timedelta

from django.db.models import Max, Min
from django.utils import timezone

# A drill-down lists at most this many periods (a day level spans one month).
MAX_PERIODS = 400


class RangeDatesQuerySet:
    """
    ``date_hierarchy`` asks for the distinct days (months, years) of a column:
    a DISTINCT over every row, seconds at a million rows. This answers from the
    column's first and last value instead (two index lookups) and lists every
    period in between; a period without rows shows an empty page.
    """

    def aggregate(self, *args, **kwargs):
        """
        ``date_hierarchy`` (and ``datetimes`` below) ask a column's Min and Max
        in one query, which SQLite answers by reading every row; two ordered
        reads with LIMIT 1 walk the column's index from each end instead.
        """
        field_name = _min_max_of_one_column(args, kwargs)
        if field_name is None:
            return super().aggregate(*args, **kwargs)
        values = self.values_list(field_name, flat=True)
        return {
            "first": values.order_by(field_name).first(),
            "last": values.order_by(f"-{field_name}").first(),
        }

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None, is_dst=None):
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = tzinfo or timezone.get_current_timezone()
        first = timezone.localtime(bounds["first"], zone)
        last = timezone.localtime(bounds["last"], zone)
        periods = list(_periods(first, last, kind, zone))[:MAX_PERIODS]
        return periods[::-1] if order == "DESC" else periods


def _min_max_of_one_column(args, kwargs):
    """The column of ``aggregate(first=Min(col), last=Max(col))``, else None."""
    first, last = kwargs.get("first"), kwargs.get("last")
    if args or set(kwargs) != {"first", "last"}:
        return None
    if type(first) is not Min or type(last) is not Max or first.filter or last.filter:
        return None
    # An aggregate's sources: the column, then its filter and order_by (None here).
    columns = [e.get_source_expressions()[0] for e in (first, last)]
    names = {getattr(column, "name", None) for column in columns}
    return names.pop() if len(names) == 1 and None not in names else None


def _periods(first, last, kind, zone):
    if kind == "year":
        for year in range(first.year, last.year + 1):
            yield datetime(year, 1, 1, tzinfo=zone)
    elif kind == "month":
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            yield datetime(year, month, 1, tzinfo=zone)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        day = first.date()
        while day <= last.date():
            yield datetime(day.year, day.month, day.day, tzinfo=zone)
            day += timedelta(days=1)
