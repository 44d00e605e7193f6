"""
The dashboard's counts, rolled up as the log is written.

Each request adds to a handful of Tally rows in one statement: per local hour
the requests, browsers (first request in the hour, and in the day), new
browsers and Set-Cookie lines; per local day the labels of the panels
(Sec-Fetch-Site, browser family, cookie names received and issued, the
attributes of each line issued, predicted drops, round-trip verdicts). The
dashboard then reads a range's tallies, whatever the size of the log.

The helpers that sort a line into a label (prefix, lifetime bucket) are the
ones the admin's filters use, so a number and the list it links to agree.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import connection
from django.utils import timezone
from ua_parser import parse as parse_user_agent

from .models import FAMILY_MAX, NAME_MAX, Panel, Tally
from .rules.syntax import PREFIXES

NO_PREFIX = "no prefix"
NOT_SENT = ""  # Sec-Fetch-Site absent (older browsers, non-browser clients)
OTHER_FETCH_SITE = "other"  # a value no standard defines
FETCH_SITE_LABELS = {
    "none": "none (typed or bookmarked)",
    "same-origin": "same-origin",
    "same-site": "same-site",
    "cross-site": "cross-site",
    NOT_SENT: "not sent",
    OTHER_FETCH_SITE: "other (not a standard value)",
}
STANDARD_FETCH_SITES = ("none", "same-origin", "same-site", "cross-site")
OTHER_BROWSER = "Other"
# Rows a single INSERT carries (four parameters each).
UPSERT_CHUNK = 500
QUARTER = timedelta(minutes=15)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86_400


@dataclass(frozen=True)
class Bucket:
    label: str
    low: int | None  # seconds, exclusive; None: no lower bound
    high: int | None  # seconds, inclusive; None: no upper bound


SESSION = "session (no Max-Age or Expires)"
# Browsers cap a lifetime at 400 days (RFC 6265bis §5.5, §5.6): the last bucket
# holds the lines that asked for more.
LIFETIMES = (
    Bucket("up to 1 hour", None, 3600),
    Bucket("up to 1 day", 3600, DAY),
    Bucket("up to 7 days", DAY, 7 * DAY),
    Bucket("up to 30 days", 7 * DAY, 30 * DAY),
    Bucket("up to 400 days", 30 * DAY, 400 * DAY),
    Bucket("over 400 days (capped)", 400 * DAY, None),
)
LIFETIME_LABELS = (SESSION, *(b.label for b in LIFETIMES))
ATTRIBUTES = ("Secure", "HttpOnly", "Partitioned", "signed")
SAMESITE_LABELS = ("Strict", "Lax", "None", "unset")


def hour_start(at):
    """The start of ``at``'s hour in the current time zone (aware)."""
    return _local_starts(at)[0]


def day_start(at):
    """The start of ``at``'s day in the current time zone (aware)."""
    return _local_starts(at)[1]


def _local_starts(at, zone=None):
    # Today's offsets are whole quarter hours, so all instants of one UTC
    # quarter share their local hour and day: converted once per quarter (the
    # seeding command asks for millions, the log writer two a request). A
    # quarter that straddles a local hour (offsets like Monrovia's -0:44:30
    # before 1972) is converted each time.
    zone = zone or timezone.get_current_timezone()
    return _starts_of((at - EPOCH) // QUARTER, zone) or _starts(at.astimezone(zone))


@lru_cache(maxsize=4096)
def _starts_of(quarter, zone):
    start = EPOCH + quarter * QUARTER
    first = _starts(start.astimezone(zone))
    last = _starts((start + QUARTER - timedelta(microseconds=1)).astimezone(zone))
    return first if first == last else None


def _starts(local):
    hour = local.replace(minute=0, second=0, microsecond=0)
    return hour, hour.replace(hour=0)


def browser_family(user_agent):
    """The browser's family as ua-parser reads the User-Agent ("Other" when it cannot)."""
    if not user_agent:
        return "(no User-Agent)"
    found = parse_user_agent(user_agent).user_agent
    family = found.family if found is not None else OTHER_BROWSER
    return family[:FAMILY_MAX]


def fetch_site_label(value):
    if value == NOT_SENT or value in STANDARD_FETCH_SITES:
        return value
    return OTHER_FETCH_SITE


def prefix_of(name):
    """The cookie-name prefix a browser applies (case-insensitively), or NO_PREFIX."""
    lowered = name.lower()
    return next((p for p in PREFIXES if lowered.startswith(p.lower())), NO_PREFIX)


def lifetime_seconds(at, max_age, expires_at):
    """Seconds the line asked the browser to keep the cookie; None for a session cookie."""
    if max_age is not None:
        return max_age
    if expires_at is not None:
        return int((expires_at - at).total_seconds())
    return None


def lifetime_label(seconds):
    if seconds is None:
        return SESSION
    return next(b.label for b in LIFETIMES if b.high is None or seconds <= b.high)


def lifetime_lookup(label):
    """The ORM filter of CookieChange.lifetime for a bucket's label."""
    if label == SESSION:
        return {"lifetime__isnull": True}
    bucket = next(b for b in LIFETIMES if b.label == label)
    lookup = {}
    if bucket.low is not None:
        lookup["lifetime__gt"] = bucket.low
    if bucket.high is not None:
        lookup["lifetime__lte"] = bucket.high
    return lookup


def set_cookie_labels(name, change):
    """The (panel, label) pairs an issued line (not a deletion) counts in."""
    yield Panel.ISSUED_NAME, name
    for attribute, on in zip(
        ATTRIBUTES,
        (change.secure, change.httponly, change.partitioned, change.signed),
        strict=True,
    ):
        if on:
            yield Panel.ATTRIBUTE, attribute
    yield Panel.SAMESITE, change.samesite or "unset"
    yield Panel.PREFIX, prefix_of(name)
    yield Panel.LIFETIME, lifetime_label(change.lifetime)
    for code in change.drops.split():
        yield Panel.DROP, code


class Tallies:
    """Counts to add, gathered in memory by one request (or a batch) and written at once."""

    def __init__(self):
        self.counts = {}

    def add(self, period, panel, label="", n=1):
        key = (period, str(panel), label[:NAME_MAX])
        self.counts[key] = self.counts.get(key, 0) + n

    def hourly(self, at, panel, n=1):
        self.add(hour_start(at), panel, "", n)

    def daily(self, at, panel, label, n=1):
        self.add(day_start(at), panel, label, n)

    def update(self, other):
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def save(self):
        """
        One upsert per chunk: INSERT, or add to the row that is there. Rows go
        in key order, so two transactions lock them in the same order (no
        deadlock on PostgreSQL).
        """
        if not self.counts:
            return
        quote = connection.ops.quote_name
        table = quote(Tally._meta.db_table)
        period = Tally._meta.get_field("period")
        rows = sorted(self.counts.items())
        for start in range(0, len(rows), UPSERT_CHUNK):
            chunk = rows[start : start + UPSERT_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = []
            for (when, panel, label), n in chunk:
                params += [period.get_db_prep_save(when, connection), panel, label, n]
            sql = (
                f"INSERT INTO {table} (period, panel, label, count) VALUES {values} "
                f"ON CONFLICT (period, panel, label) DO UPDATE "
                f"SET count = {table}.count + excluded.count"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)


def request_tallies(visit, family, carried, appeared, set_cookie_lines, into=None, zone=None):
    """
    What one logged request adds (to ``into``, a batch's, when given):
    ``visit.previous_at`` is when the browser's previous logged request was
    (None for a new browser). A received name counts once a day per browser:
    with its first request that day, or when the cookie appears later that
    day; ``carried`` is only iterated then. ``zone``: the current time zone,
    when the caller has it (finding it is most of a local start's cost).
    """
    tallies = Tallies() if into is None else into
    zone = zone or timezone.get_current_timezone()
    hour, day = _local_starts(visit.at, zone)
    previous = visit.previous_at and _local_starts(visit.previous_at, zone)
    tallies.add(hour, Panel.REQUESTS)
    if visit.is_new:
        tallies.add(hour, Panel.NEW_VISITORS)
    if not previous or hour > previous[0]:
        tallies.add(hour, Panel.VISITORS)
    first_today = not previous or day > previous[1]
    if first_today:
        tallies.add(hour, Panel.DAY_VISITORS)
    tallies.add(day, Panel.FETCH_SITE, fetch_site_label(visit.fetch_site))
    tallies.add(day, Panel.BROWSER, family)
    for name in set(carried) if first_today else set(appeared):
        tallies.add(day, Panel.RECEIVED, name)
    for name, change in set_cookie_lines:
        if change.kind == "deleted":
            tallies.add(hour, Panel.DELETED)
            continue
        tallies.add(hour, Panel.ISSUED)
        for panel, label in set_cookie_labels(name, change):
            tallies.add(day, panel, label)
    return tallies
