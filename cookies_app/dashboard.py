"""
The admin dashboard: the cookie log at a glance, for a range of local days.

Every figure is a sum over Tally rows (``rollup.py``), computed by the
database: a handful of queries whose cost follows the range's hours and labels,
never the log's rows. Each figure carries the URL of the admin list that
explains it, filtered to the same rows.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django import forms
from django.db.models import F, Sum
from django.db.models.functions import TruncDay
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from . import rollup
from .models import HOURLY_PANELS, Panel, Tally, Visitor
from .verdicts import Status

PRESETS = {
    "today": ("Today", 0),
    "7d": ("Last 7 days", 6),
    "30d": ("Last 30 days", 29),
    "all": ("All time", None),
}
DEFAULT_PRESET = "7d"
CUSTOM = "custom"
# Up to this many days a chart has a bar per hour; beyond, a bar per day.
HOURLY_UP_TO_DAYS = 2
MAX_DAYS = 3660
TOP_NAMES = 10
LATEST_VISITORS = 10
FETCH_SITE_LABELS = {
    "none": "none (typed, bookmarked)",
    "same-origin": "same-origin",
    "same-site": "same-site",
    "cross-site": "cross-site",
    rollup.NOT_SENT: "not sent",
}
LABEL_PANELS = (
    Panel.FETCH_SITE,
    Panel.BROWSER,
    Panel.ATTRIBUTE,
    Panel.SAMESITE,
    Panel.PREFIX,
    Panel.LIFETIME,
    Panel.DROP,
    Panel.VERDICT,
)
ATTRIBUTE_FILTERS = {
    "Secure": "secure__exact",
    "HttpOnly": "httponly__exact",
    "Partitioned": "partitioned__exact",
    "signed": "signed__exact",
}


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


@dataclass(frozen=True)
class Period:
    """A range of whole local days, and how its charts are bucketed."""

    key: str
    label: str
    start: date
    end: date  # inclusive

    @property
    def bounds(self):
        return rollup.period_bounds(self.start, self.end)

    @property
    def by_hour(self):
        return (self.end - self.start).days < HOURLY_UP_TO_DAYS

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


@dataclass
class Row:
    label: str
    count: int
    url: str
    share: float | None = None  # of the panel's total, 0..100

    @property
    def share_text(self):
        return "" if self.share is None else f"{self.share:.0f}%"


@dataclass
class Chart:
    key: str
    title: str
    description: str
    rows: list = field(default_factory=list)
    unit: str = ""  # what each count counts
    shares: bool = False  # bars show the share of a total

    def spec(self):
        """What the page's script draws."""
        return {
            "key": self.key,
            "title": self.title,
            "labels": [r.label for r in self.rows],
            "values": [round(r.share, 1) if self.shares else r.count for r in self.rows],
            "urls": [r.url for r in self.rows],
            "unit": "% of lines issued" if self.shares else self.unit,
            "horizontal": not self.key.startswith("traffic"),
        }


def admin_list(model_name, **params):
    url = reverse(f"admin:cookies_app_{model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def between(first, last, field_name="at"):
    return {f"{field_name}__gte": first.isoformat(), f"{field_name}__lt": last.isoformat()}


def traffic(period):
    """Requests, browsers and Set-Cookie lines per bucket, and the range's totals."""
    first, last = period.bounds
    zone = timezone.get_current_timezone()
    rows = Tally.objects.filter(panel__in=HOURLY_PANELS, period__gte=first, period__lt=last)
    bucket = F("period") if period.by_hour else TruncDay("period", tzinfo=zone)
    sums = {}
    for when, panel, n in (
        rows.annotate(bucket=bucket)
        .values("bucket", "panel")
        .annotate(n=Sum("count"))
        .values_list("bucket", "panel", "n")
        .order_by()
    ):
        key = timezone.localtime(when).replace(tzinfo=None)
        sums[key, panel] = n
    step, fmt = (
        (timedelta(hours=1), "%m-%d %H:00") if period.by_hour else (timedelta(days=1), "%Y-%m-%d")
    )
    visitors_panel = Panel.VISITORS if period.by_hour else Panel.DAY_VISITORS
    charts = {
        "requests": Chart("traffic-requests", "Requests", "Requests logged", unit="requests"),
        "visitors": Chart(
            "traffic-visitors",
            "Browsers",
            "Distinct browsers in each " + ("hour" if period.by_hour else "day"),
            unit="browsers",
        ),
        "issued": Chart(
            "traffic-issued", "Set-Cookie issued", "Set-Cookie lines sent", unit="lines"
        ),
    }
    totals = dict.fromkeys(HOURLY_PANELS, 0)
    for panel in HOURLY_PANELS:
        totals[panel] = sum(n for (_, p), n in sums.items() if p == panel)
    start = datetime.combine(period.start, datetime.min.time())
    end = datetime.combine(period.end + timedelta(days=1), datetime.min.time())
    when = start
    while when < end:
        low = timezone.make_aware(when, zone)
        high = timezone.make_aware(when + step, zone)
        label = when.strftime(fmt)
        requests_url = admin_list("request", **between(low, high))
        charts["requests"].rows.append(
            Row(label, sums.get((when, Panel.REQUESTS), 0), requests_url)
        )
        charts["visitors"].rows.append(
            Row(label, sums.get((when, visitors_panel), 0), requests_url)
        )
        charts["issued"].rows.append(
            Row(
                label,
                sums.get((when, Panel.ISSUED), 0),
                admin_list("setcookieline", kind__exact="issued", **between(low, high)),
            )
        )
        when += step
    return list(charts.values()), totals


def labelled(period, issued_total):
    """The per-label panels, from one grouped query."""
    first, last = period.bounds
    counts = {}
    for panel, label, n in (
        Tally.objects.filter(panel__in=LABEL_PANELS, period__gte=first, period__lt=last)
        .values("panel", "label")
        .annotate(n=Sum("count"))
        .values_list("panel", "label", "n")
        .order_by()
    ):
        counts.setdefault(panel, {})[label] = n
    span = between(first, last)

    def requests(**params):
        return admin_list("request", **params, **span)

    def lines(**params):
        return admin_list("setcookieline", kind__exact="issued", **params, **span)

    def share(n):
        return 100 * n / issued_total if issued_total else 0.0

    fetch = counts.get(Panel.FETCH_SITE, {})
    fetch_site = Chart(
        "fetch-site",
        "Sec-Fetch-Site",
        "Where requests came from, as the browser said",
        [
            Row(text, fetch.get(value, 0), requests(fetch_site=value or "-"))
            for value, text in FETCH_SITE_LABELS.items()
        ],
        unit="requests",
    )
    browsers = Chart(
        "browsers",
        "Browsers",
        "Requests by browser family (ua-parser)",
        [
            Row(family, n, requests(browser=family))
            for family, n in _ranked(counts.get(Panel.BROWSER, {}))
        ],
        unit="requests",
    )
    attrs = counts.get(Panel.ATTRIBUTE, {})
    samesite = counts.get(Panel.SAMESITE, {})
    attributes = Chart(
        "attributes",
        "Attributes of the cookies issued",
        "Share of Set-Cookie lines with each attribute",
        [
            *(
                Row(a, attrs.get(a, 0), lines(**{ATTRIBUTE_FILTERS[a]: 1}), share(attrs.get(a, 0)))
                for a in rollup.ATTRIBUTES
            ),
            *(
                Row(
                    f"SameSite={s}" if s != "unset" else "SameSite unset",
                    samesite.get(s, 0),
                    lines(same_site=s),
                    share(samesite.get(s, 0)),
                )
                for s in rollup.SAMESITE_LABELS
            ),
        ],
        shares=True,
    )
    prefixes = counts.get(Panel.PREFIX, {})
    prefix = Chart(
        "prefixes",
        "Name prefixes",
        "Share of Set-Cookie lines by cookie-name prefix",
        [
            Row(p, prefixes.get(p, 0), lines(prefix=p), share(prefixes.get(p, 0)))
            for p in (*rollup.PREFIXES, rollup.NO_PREFIX)
        ],
        shares=True,
    )
    lifetimes = counts.get(Panel.LIFETIME, {})
    lifetime = Chart(
        "lifetimes",
        "Lifetimes",
        "Share of Set-Cookie lines by Max-Age or Expires (browsers cap at 400 days)",
        [
            Row(b, lifetimes.get(b, 0), lines(lifetime_bucket=b), share(lifetimes.get(b, 0)))
            for b in rollup.LIFETIME_LABELS
        ],
        shares=True,
    )
    drops = Chart(
        "drops",
        "Predicted drops",
        "Set-Cookie lines a browser refuses, by the rule that refuses them",
        [Row(code, n, lines(drop=code)) for code, n in _ranked(counts.get(Panel.DROP, {}))],
        unit="lines",
    )
    judged = counts.get(Panel.VERDICT, {})
    verdicts = Chart(
        "verdicts",
        "Round-trip verdicts",
        "What the browser's next request showed it did with each Set-Cookie line "
        "(deletions included)",
        [
            Row(status.value, judged.get(status.value, 0), _verdict_url(status, span))
            for status in Status
        ],
        unit="lines",
    )
    return [fetch_site, browsers, attributes, prefix, lifetime, drops, verdicts]


def _verdict_url(status, span):
    return admin_list("setcookieline", round_trip=status.value, **span)


def _ranked(counts):
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def top_names(period):
    """The most frequent names received (browser-days) and issued (lines)."""
    first, last = period.bounds
    span = between(first, last)
    tops = []
    for panel, key, title, description, unit in (
        (
            Panel.RECEIVED,
            "received",
            "Cookie names received",
            "Browsers sending each name, counted once a day per browser",
            "browser-days",
        ),
        (
            Panel.ISSUED_NAME,
            "issued-names",
            "Cookie names issued",
            "Set-Cookie lines sent for each name",
            "lines",
        ),
    ):
        ranked = (
            Tally.objects.filter(panel=panel, period__gte=first, period__lt=last)
            .values("label")
            .annotate(n=Sum("count"))
            .order_by("-n", "label")
            .values_list("label", "n")[:TOP_NAMES]
        )
        rows = []
        for name, n in ranked:
            if panel == Panel.RECEIVED:
                url = admin_list("jarcookie", name__exact=name)
            else:
                url = admin_list("setcookieline", kind__exact="issued", q=name, **span)
            rows.append(Row(name or "(empty name)", n, url))
        tops.append(Chart(key, title, description, rows, unit=unit))
    return tops


def latest_visitors(period):
    first, last = period.bounds
    visitors = (
        Visitor.objects.filter(last_seen__gte=first, last_seen__lt=last)
        .select_related("latest_request__user_agent")
        .order_by("-last_seen")[:LATEST_VISITORS]
    )
    return [
        {
            "visitor": v,
            "url": reverse("admin:cookies_app_visitor_change", args=[v.pk]),
            "browser": _family(v),
        }
        for v in visitors
    ]


def _family(visitor):
    request = visitor.latest_request
    if request is None or request.user_agent is None:
        return "—"
    return request.user_agent.family or "—"


def build(period):
    """Everything the dashboard shows for ``period``: a few grouped queries."""
    first, last = period.bounds
    charts, totals = traffic(period)
    issued = totals[Panel.ISSUED]
    span = between(first, last)
    cards = [
        ("Requests", totals[Panel.REQUESTS], admin_list("request", **span)),
        (
            "New browsers",
            totals[Panel.NEW_VISITORS],
            admin_list("visitor", **between(first, last, "first_seen")),
        ),
        ("Set-Cookie issued", issued, admin_list("setcookieline", kind__exact="issued", **span)),
        (
            "Deletions sent",
            totals[Panel.DELETED],
            admin_list("setcookieline", kind__exact="deleted", **span),
        ),
    ]
    panels = labelled(period, issued)
    names = top_names(period)
    every = [*charts, *panels, *names]
    return {
        "period": period,
        "cards": cards,
        "traffic": charts,
        "panels": panels,
        "names": names,
        "latest_visitors": latest_visitors(period),
        "chart_specs": [chart.spec() for chart in every],
        "time_zone": timezone.get_current_timezone_name(),
        "bucket": "hour" if period.by_hour else "day",
    }
