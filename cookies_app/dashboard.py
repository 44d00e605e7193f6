"""
The admin dashboard: the cookie log at a glance, for a range of local days.

Every figure is a sum over Tally rows (``rollup.py``), computed by the
database: a handful of grouped queries whose cost follows the range's hours
and labels, never the log's rows. Each figure carries the URL of the admin
list that explains it, filtered to the same rows.
"""

from dataclasses import dataclass, field
from datetime import UTC

from django.db.models import F, Sum
from django.db.models.functions import TruncDay, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from . import rollup
from .models import HOURLY_PANELS, Panel, Tally, Visitor
from .verdicts import Status

TOP_NAMES = 10
LATEST_VISITORS = 10
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
    over_time: bool = False  # vertical bars, one per hour, day or week

    @property
    def horizontal(self):
        return not self.over_time

    def spec(self):
        """What the page's script draws."""
        return {
            "key": self.key,
            "title": self.title,
            "labels": [r.label for r in self.rows],
            "values": [round(r.share, 1) if self.shares else r.count for r in self.rows],
            "urls": [r.url for r in self.rows],
            "unit": "% of lines issued" if self.shares else self.unit,
            "horizontal": self.horizontal,
        }


def admin_list(model_name, **params):
    url = reverse(f"admin:cookies_app_{model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def between(first, last, field_name="at"):
    return {f"{field_name}__gte": first.isoformat(), f"{field_name}__lt": last.isoformat()}


def _hourly_sums(period):
    """{(bar key, panel): count} of the hourly panels, grouped by the database."""
    first, last = period.bounds
    zone = timezone.get_current_timezone()
    group = {
        "hour": F("period"),
        "day": TruncDay("period", tzinfo=zone),
        "week": TruncWeek("period", tzinfo=zone),
    }[period.bucket]
    sums = {}
    for when, panel, n in (
        Tally.objects.filter(panel__in=HOURLY_PANELS, period__gte=first, period__lt=last)
        .annotate(bar=group)
        .values("bar", "panel")
        .annotate(n=Sum("count"))
        .values_list("bar", "panel", "n")
        .order_by()
    ):
        key = when.astimezone(UTC) if period.bucket == "hour" else timezone.localtime(when).date()
        sums[key, panel] = n
    return sums


def traffic(period):
    """Requests, browsers and Set-Cookie lines per bar, and the range's totals."""
    sums = _hourly_sums(period)
    bucket = period.bucket
    # Browsers in an hour, or (summed over a day's hours) in a day; a week
    # sums its days.
    browsers = Panel.VISITORS if bucket == "hour" else Panel.DAY_VISITORS
    requests = Chart(
        "traffic-requests",
        "Requests",
        f"Requests logged per {bucket}; each bar opens them",
        unit="requests",
        over_time=True,
    )
    visitors = Chart(
        "traffic-visitors",
        "Browsers",
        f"Distinct browsers per {'hour' if bucket == 'hour' else 'day'} (a week adds its "
        "days); each bar opens that period's requests",
        unit="browsers",
        over_time=True,
    )
    issued = Chart(
        "traffic-issued",
        "Set-Cookie issued",
        f"Set-Cookie lines sent per {bucket}; each bar opens them",
        unit="lines",
        over_time=True,
    )
    for bar in period.bars():
        span = between(bar.start, bar.end)
        requests_url = admin_list("request", **span)
        requests.rows.append(Row(bar.label, sums.get((bar.key, Panel.REQUESTS), 0), requests_url))
        visitors.rows.append(Row(bar.label, sums.get((bar.key, browsers), 0), requests_url))
        issued.rows.append(
            Row(
                bar.label,
                sums.get((bar.key, Panel.ISSUED), 0),
                admin_list("setcookieline", kind="issued", **span),
            )
        )
    totals = {panel: sum(n for (_, p), n in sums.items() if p == panel) for panel in HOURLY_PANELS}
    return [requests, visitors, issued], totals


def _label_counts(period):
    """{panel: {label: count}} of the labelled panels, from one grouped query."""
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
    return counts


class Links:
    """The admin lists behind a range's figures."""

    def __init__(self, period, issued_total):
        self.span = between(*period.bounds)
        self.issued_total = issued_total

    def requests(self, **params):
        return admin_list("request", **params, **self.span)

    def lines(self, **params):
        return admin_list("setcookieline", **params, **self.span)

    def issued(self, **params):
        return self.lines(kind="issued", **params)

    def share(self, n):
        return 100 * n / self.issued_total if self.issued_total else 0.0

    def issued_row(self, label, n, **params):
        return Row(label, n, self.issued(**params), self.share(n))


def request_panels(counts, links):
    fetch = counts.get(Panel.FETCH_SITE, {})
    fetch_site = Chart(
        "fetch-site",
        "Sec-Fetch-Site",
        "Where requests came from, as the browser said",
        [
            Row(text, fetch.get(value, 0), links.requests(fetch_site=value or "-"))
            for value, text in rollup.FETCH_SITE_LABELS.items()
        ],
        unit="requests",
    )
    browsers = Chart(
        "browsers",
        "Browsers",
        "Requests by browser family (ua-parser)",
        [
            Row(family, n, links.requests(browser=family))
            for family, n in _ranked(counts.get(Panel.BROWSER, {}))
        ],
        unit="requests",
    )
    return [fetch_site, browsers]


def audit_panels(counts, links):
    """The attribute audit: shares of the Set-Cookie lines issued (not deletions)."""
    flags = counts.get(Panel.ATTRIBUTE, {})
    samesite = counts.get(Panel.SAMESITE, {})
    prefixes = counts.get(Panel.PREFIX, {})
    lifetimes = counts.get(Panel.LIFETIME, {})
    attributes = [
        links.issued_row(a, flags.get(a, 0), **{ATTRIBUTE_FILTERS[a]: 1}) for a in rollup.ATTRIBUTES
    ] + [
        links.issued_row(
            f"SameSite={s}" if s != "unset" else "SameSite unset",
            samesite.get(s, 0),
            same_site=s,
        )
        for s in rollup.SAMESITE_LABELS
    ]
    return [
        Chart(
            "attributes",
            "Attributes of the cookies issued",
            "Share of Set-Cookie lines with each attribute",
            attributes,
            shares=True,
        ),
        Chart(
            "prefixes",
            "Name prefixes",
            "Share of Set-Cookie lines by cookie-name prefix",
            [
                links.issued_row(p, prefixes.get(p, 0), prefix=p)
                for p in (*rollup.PREFIXES, rollup.NO_PREFIX)
            ],
            shares=True,
        ),
        Chart(
            "lifetimes",
            "Lifetimes",
            "Share of Set-Cookie lines by Max-Age or Expires (browsers cap at 400 days)",
            [
                links.issued_row(b, lifetimes.get(b, 0), lifetime_bucket=b)
                for b in rollup.LIFETIME_LABELS
            ],
            shares=True,
        ),
    ]


def outcome_panels(counts, links):
    """What the rules predicted, and what the browsers' next requests showed."""
    judged = counts.get(Panel.VERDICT, {})
    drops = Chart(
        "drops",
        "Predicted drops",
        "Set-Cookie lines a browser refuses, by the rule that refuses them",
        [Row(code, n, links.issued(drop=code)) for code, n in _ranked(counts.get(Panel.DROP, {}))],
        unit="lines",
    )
    verdicts = Chart(
        "verdicts",
        "Round-trip verdicts",
        "What the browser's next request showed it did with each Set-Cookie line "
        "(deletions included)",
        [
            Row(status.value, judged.get(status.value, 0), links.lines(round_trip=status.value))
            for status in Status
        ],
        unit="lines",
    )
    return [drops, verdicts]


def _ranked(counts):
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def top_names(period, links):
    """The most frequent names received (browser-days) and issued (lines)."""
    first, last = period.bounds

    def ranked(panel):
        return (
            Tally.objects.filter(panel=panel, period__gte=first, period__lt=last)
            .values("label")
            .annotate(n=Sum("count"))
            .order_by("-n", "label")
            .values_list("label", "n")[:TOP_NAMES]
        )

    received = Chart(
        "received",
        "Cookie names received",
        "Browsers sending each name, counted once a day per browser; each name opens "
        "the jars holding it",
        [
            Row(name or "(empty name)", n, admin_list("jarcookie", name__exact=name))
            for name, n in ranked(Panel.RECEIVED)
        ],
        unit="browser-days",
    )
    issued = Chart(
        "issued-names",
        "Cookie names issued",
        "Set-Cookie lines sent for each name",
        [
            Row(name or "(empty name)", n, links.issued(q=name))
            for name, n in ranked(Panel.ISSUED_NAME)
        ],
        unit="lines",
    )
    return [received, issued]


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
    over_time, totals = traffic(period)
    links = Links(period, totals[Panel.ISSUED])
    cards = [
        ("Requests", totals[Panel.REQUESTS], links.requests()),
        (
            "New browsers",
            totals[Panel.NEW_VISITORS],
            admin_list("visitor", **between(first, last, "first_seen")),
        ),
        ("Set-Cookie issued", totals[Panel.ISSUED], links.issued()),
        ("Deletions sent", totals[Panel.DELETED], links.lines(kind="deleted")),
    ]
    counts = _label_counts(period)
    panels = [
        *request_panels(counts, links),
        *audit_panels(counts, links),
        *outcome_panels(counts, links),
    ]
    names = top_names(period, links)
    return {
        "period": period,
        "cards": cards,
        "traffic": over_time,
        "panels": panels,
        "names": names,
        "latest_visitors": latest_visitors(period),
        "chart_specs": [chart.spec() for chart in (*over_time, *panels, *names)],
        "time_zone": timezone.get_current_timezone_name(),
        "bucket": period.bucket,
    }
