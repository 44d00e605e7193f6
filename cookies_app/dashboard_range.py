"""
The dashboard's range: whole local days, chosen by a preset or two dates, and
the bars a chart of it has (an hour, a day or a week each).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from .models import Tally

PRESETS = {
    "today": ("Today", 0),
    "7d": ("Last 7 days", 6),
    "30d": ("Last 30 days", 29),
    "all": ("All time", None),
}
DEFAULT_PRESET = "7d"
CUSTOM = "custom"
# A bar per hour up to two days, per day up to about a quarter, per week beyond:
# a chart has at most a few hundred bars, whatever the range.
HOURLY_UP_TO_DAYS = 2
DAILY_UP_TO_DAYS = 92
MAX_DAYS = 3660


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[*((key, label) for key, (label, _) in PRESETS.items()), (CUSTOM, "Custom")],
        required=False,
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        chosen = data.get("range") or (
            CUSTOM if data.get("start") or data.get("end") else DEFAULT_PRESET
        )
        data["range"] = chosen
        if chosen != CUSTOM or self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise forms.ValidationError(
                "A custom range needs both a start and an end date (YYYY-MM-DD)."
            )
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"A range can span at most {MAX_DAYS} days.")
        if start.year < 1970 or end.year > 9998:
            raise forms.ValidationError("Dates must lie between 1970 and 9998.")
        return data


def local_midnight(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class Bar:
    key: object  # the start as the database groups it: a UTC instant, or a local date
    start: datetime  # aware
    end: datetime
    label: str


@dataclass(frozen=True)
class Period:
    """A range of whole local days, and how its charts are bucketed."""

    key: str
    label: str
    start: date
    end: date  # inclusive

    @property
    def bounds(self):
        """[first instant, last instant) as aware datetimes."""
        return local_midnight(self.start), local_midnight(self.end + timedelta(days=1))

    @property
    def bucket(self):
        days = (self.end - self.start).days + 1
        if days <= HOURLY_UP_TO_DAYS:
            return "hour"
        return "day" if days <= DAILY_UP_TO_DAYS else "week"

    def bars(self):
        """The chart's bars, in order."""
        return list(self._hours() if self.bucket == "hour" else self._days())

    def _hours(self):
        # Stepped in UTC: the hour repeated when clocks go back is two bars.
        first, last = (moment.astimezone(UTC) for moment in self.bounds)
        bars, at = [], first
        while at < last:
            local = timezone.localtime(at)
            bars.append(Bar(at, at, at + timedelta(hours=1), local.strftime("%m-%d %H:00")))
            at += timedelta(hours=1)
        seen = {}
        for bar in bars:
            seen[bar.label] = seen.get(bar.label, 0) + 1
        for index, bar in enumerate(bars):
            if seen[bar.label] > 1:  # tell the repeated hour's two bars apart
                zone_name = timezone.localtime(bar.start).strftime("%Z")
                bars[index] = Bar(bar.key, bar.start, bar.end, f"{bar.label} {zone_name}")
        return bars

    def _days(self):
        step = timedelta(days=1 if self.bucket == "day" else 7)
        day = self.start - timedelta(days=self.start.weekday() if self.bucket == "week" else 0)
        first, last = self.bounds
        while day <= self.end:
            start = max(local_midnight(day), first)
            end = min(local_midnight(day + step), last)
            label = f"{day:%Y-%m-%d}" if self.bucket == "day" else f"week of {day:%Y-%m-%d}"
            yield Bar(day, start, end, label)
            day += step

    def describe(self):
        if self.start == self.end:
            return f"{self.label}: {self.start:%Y-%m-%d}"
        return f"{self.label}: {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


def chosen_period(data, today=None):
    """The Period a cleaned RangeForm asks for (``today`` in local time)."""
    today = today or timezone.localdate()
    key = data["range"]
    if key == CUSTOM:
        return Period(key, "Custom", data["start"], data["end"])
    label, days_back = PRESETS[key]
    if days_back is None:
        first = Tally.objects.order_by("period").values_list("period", flat=True).first()
        start = timezone.localtime(first).date() if first else today
        return Period(key, label, min(start, today), today)
    return Period(key, label, today - timedelta(days=days_back), today)
