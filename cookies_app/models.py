"""
The cookie log, kept as state: each browser (visitor), the jar the server
knows it holds, its requests, and the changes to the jar over time.

A request writes one Request row and only what changed: a cookie that keeps
coming back with the same value costs nothing per request. The jar answers
"what does this browser hold?" with an index lookup, whatever the history.
"""

from django.db import models
from django.utils import timezone

from .calendar import RangeDatesQuerySet
from .rules import SAMESITE_CHOICES
from .verdicts import Status

# Column limits, enforced before the database (PostgreSQL refuses longer text;
# SQLite would silently keep it).
NAME_MAX = 256
HOST_MAX = 255
PATH_MAX = 512
DOMAIN_MAX = 255
USER_AGENT_MAX = 512
EXPIRES_MAX = 64
SALT_MAX = 256
FETCH_SITE_MAX = 16
FAMILY_MAX = 64
# The Set-Cookie line of a cookie whose value is capped at the log's value cap.
HEADER_MAX = 4096
DROPS_MAX = 255
VERDICT_CHOICES = [(status.value, status.value) for status in Status]


class ChangeKind(models.TextChoices):
    APPEARED = "appeared", "appeared (browser → server)"
    CHANGED = "changed", "value changed (browser → server)"
    STOPPED = "stopped", "stopped coming back"
    EXPIRED = "expired", "expired"
    ISSUED = "issued", "issued (Set-Cookie)"
    DELETED = "deleted", "deleted (Set-Cookie in the past)"


SET_COOKIE_KINDS = (ChangeKind.ISSUED, ChangeKind.DELETED)


class UserAgent(models.Model):
    """A User-Agent string, stored once and referenced by requests."""

    text = models.CharField(max_length=USER_AGENT_MAX, unique=True)
    family = models.CharField(
        "browser", max_length=FAMILY_MAX, blank=True, help_text="As ua-parser names it."
    )

    def __str__(self):
        return self.text or "(none)"


class VisitorQuerySet(models.QuerySet):
    def unseen_since(self, when):
        return self.filter(last_seen__lt=when)


class Visitor(models.Model):
    """One browser, known by the lab's visitor cookie."""

    key = models.CharField(max_length=32, unique=True, help_text="The visitor cookie's value.")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    requests = models.PositiveIntegerField(
        default=0, help_text="Requests numbered so far (each request's seq)."
    )
    logged = models.PositiveIntegerField(
        default=0,
        help_text="Requests logged so far, counted in the order they were written: "
        "parallel requests of one browser may finish out of seq order.",
    )
    latest_request = models.ForeignKey(
        "Request", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_logged = models.DateTimeField(
        null=True, blank=True, help_text="When the latest logged request came."
    )
    awaiting_request = models.ForeignKey(
        "Request",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A request whose Set-Cookie lines await their round-trip verdict: the "
        "browser's first request after its response tells.",
    )
    awaiting_since = models.DateTimeField(
        null=True, blank=True, help_text="When that response was logged."
    )
    # The latest logged request's fingerprint (cookie_log.fingerprint) and the
    # jar rows it carried: a request with the same fingerprint and nothing to
    # judge or issue changes nothing, and is logged without reading the jar.
    jar_digest = models.CharField(max_length=32, blank=True, default="")
    carried = models.TextField(blank=True, default="")
    # Bumped in the transaction of every write that changes a jar row: a
    # server process may reuse the jar it read while the number stays the same
    # (jar.cached_jar).
    jar_version = models.PositiveBigIntegerField(default=0)

    objects = VisitorQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["-last_seen"], name="visitor_last_seen")]

    def __str__(self):
        return self.key[:8]


class RequestQuerySet(RangeDatesQuerySet, models.QuerySet):
    def older_than(self, when):
        return self.filter(at__lt=when)


class Request(models.Model):
    """One logged request: who, where, and (compactly) which cookies it carried."""

    # The (visitor, seq) constraint's index serves lookups by visitor.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="request_log", db_index=False
    )
    seq = models.PositiveIntegerField(help_text="The visitor's nth request.")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)
    host = models.CharField(max_length=HOST_MAX, blank=True)
    path = models.CharField(max_length=PATH_MAX)
    status = models.PositiveSmallIntegerField(default=200)
    fetch_site = models.CharField("Sec-Fetch-Site", max_length=FETCH_SITE_MAX, blank=True)
    # No index: nothing looks requests up by agent, and every request would pay for it.
    user_agent = models.ForeignKey(
        UserAgent, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    carried = models.TextField(
        blank=True, help_text="Jar ids of the cookies this request carried, space-separated."
    )
    cookie_count = models.PositiveSmallIntegerField(
        default=0, help_text="Cookies the request carried, including any past the log's cap."
    )

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["visitor", "seq"], name="request_visitor_seq")
        ]

    def __str__(self):
        return f"{self.method} {self.path}"

    @property
    def carried_ids(self):
        return [int(i) for i in self.carried.split()]


class JarCookieQuerySet(models.QuerySet):
    def issued(self):
        return self.filter(issued_at__isnull=False)


class JarCookie(models.Model):
    """
    A cookie a visitor holds or held, as the server knows it: the latest
    Set-Cookie for it, the latest value that came back, and when.

    Keyed like the browser's own store, by name, domain and path as issued.
    A cookie the server never issued (set by JavaScript or another site) has
    a blank path: where it lives is unknown.

    ``times_seen`` and ``last_seen`` are kept without writing on every request:
    while the cookie keeps coming back (``present``), the current run counts
    the visitor's logged requests since ``run_from`` (in ``Visitor.logged``'s count).
    """

    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="jar", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX)
    domain = models.CharField(max_length=DOMAIN_MAX, blank=True)
    path = models.CharField(max_length=PATH_MAX, blank=True)

    # The latest Set-Cookie.
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_host = models.CharField(max_length=HOST_MAX, blank=True)
    issued_path = models.CharField(
        max_length=PATH_MAX, blank=True, help_text="The request path that issued it."
    )
    issued_value = models.TextField(blank=True)
    issued_size = models.PositiveIntegerField(default=0)
    max_age = models.BigIntegerField(null=True, blank=True)
    expires = models.CharField(max_length=EXPIRES_MAX, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When it stops living.")
    secure = models.BooleanField(default=False)
    httponly = models.BooleanField("HttpOnly", default=False)
    samesite = models.CharField(
        "SameSite", max_length=8, blank=True, choices=SAMESITE_CHOICES, default=""
    )
    partitioned = models.BooleanField(default=False)
    signed = models.BooleanField(default=False)
    salt = models.CharField(max_length=SALT_MAX, blank=True)
    header = models.TextField(blank=True, help_text="The latest Set-Cookie line as sent.")
    deleted_at = models.DateTimeField(null=True, blank=True)

    # What came back.
    value = models.TextField(blank=True, help_text="The latest value received.")
    size = models.PositiveIntegerField(default=0, help_text="Bytes of name + value.")
    redacted = models.BooleanField(
        default=False, help_text="Values are keyed hashes; the real ones are not kept."
    )
    truncated = models.BooleanField(default=False)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    present = models.BooleanField(
        "came with the latest request", default=False, help_text="Sent by the browser lately."
    )
    run_from = models.PositiveIntegerField(
        default=0, help_text="The visitor's logged count when the current run began."
    )
    seen_before = models.PositiveIntegerField(default=0, help_text="Times seen in earlier runs.")
    stopped_at = models.DateTimeField(null=True, blank=True)

    objects = JarCookieQuerySet.as_manager()

    class Meta:
        verbose_name = "cookie"
        ordering = ["visitor", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "name", "domain", "path"], name="jar_cookie_identity"
            )
        ]
        indexes = [
            models.Index(fields=["visitor", "-issued_at"], name="jar_latest_issued"),
            # The cookies that came with a visitor's latest request, read on every request.
            models.Index(fields=["visitor"], condition=models.Q(present=True), name="jar_present"),
        ]

    def __str__(self):
        return self.name

    @property
    def times_seen(self):
        run = self.visitor.logged - self.run_from + 1 if self.present else 0
        return self.seen_before + run

    @property
    def seen_last(self):
        return self.visitor.last_seen if self.present else self.last_seen


class CookieChangeQuerySet(RangeDatesQuerySet, models.QuerySet):
    def set_cookie_lines(self):
        return self.filter(kind__in=SET_COOKIE_KINDS)

    def older_than(self, when):
        return self.filter(at__lt=when)


class CookieChange(models.Model):
    """
    One change to a jar: a Set-Cookie issued (every one), or a received cookie
    that appeared, changed value, stopped coming back or expired.
    """

    # The visitor again, so a visitor's timeline is one index range.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    cookie = models.ForeignKey(
        JarCookie, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    value = models.TextField(blank=True, help_text="As the log keeps it (redacted, capped).")
    size = models.PositiveIntegerField(default=0)
    # A Set-Cookie's own line and attributes; blank or null for received changes.
    header = models.TextField(blank=True)
    max_age = models.BigIntegerField(null=True, blank=True)
    expires = models.CharField(max_length=EXPIRES_MAX, blank=True)
    secure = models.BooleanField(null=True)
    httponly = models.BooleanField("HttpOnly", null=True)
    samesite = models.CharField("SameSite", max_length=8, blank=True, choices=SAMESITE_CHOICES)
    partitioned = models.BooleanField(null=True)
    signed = models.BooleanField(null=True)
    lifetime = models.BigIntegerField(
        null=True, blank=True, help_text="Seconds from Max-Age or Expires; empty: a session cookie."
    )
    drops = models.CharField(
        "predicted drops",
        max_length=DROPS_MAX,
        blank=True,
        help_text="Codes of the rules by which a browser refuses this line, space-separated.",
    )
    verdict = models.CharField(
        "round trip",
        max_length=48,
        blank=True,
        choices=VERDICT_CHOICES,
        help_text="What the browser's next request showed it did with this line.",
    )

    objects = CookieChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["cookie", "-at"], name="change_cookie_at"),
            models.Index(fields=["visitor", "-at"], name="change_visitor_at"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.cookie_id}"


class SetCookieLine(CookieChange):
    """Every Set-Cookie the lab sent, with the cookie it belongs to."""

    class Meta:
        proxy = True
        verbose_name = "Set-Cookie issued"
        verbose_name_plural = "Set-Cookie issued"


class Panel(models.TextChoices):
    # Per hour (charted over time).
    REQUESTS = "requests"
    VISITORS = "visitors", "browsers (first request in the hour)"
    DAY_VISITORS = "day_visitors", "browsers (first request in the day)"
    NEW_VISITORS = "new_visitors", "new browsers"
    ISSUED = "issued", "Set-Cookie issued"
    DELETED = "deleted", "Set-Cookie deletions"
    # Per day, by label.
    FETCH_SITE = "fetch_site", "Sec-Fetch-Site"
    BROWSER = "browser"
    RECEIVED = "received", "cookie names received (browser-days)"
    ISSUED_NAME = "issued_name", "cookie names issued"
    ATTRIBUTE = "attribute"
    SAMESITE = "samesite", "SameSite"
    PREFIX = "prefix"
    LIFETIME = "lifetime"
    DROP = "drop", "predicted drops"
    VERDICT = "verdict", "round-trip verdicts"


HOURLY_PANELS = (
    Panel.REQUESTS,
    Panel.VISITORS,
    Panel.DAY_VISITORS,
    Panel.NEW_VISITORS,
    Panel.ISSUED,
    Panel.DELETED,
)


class Tally(models.Model):
    """
    A count rolled up with the log as it is written: what the dashboard reads,
    so its cost follows the range's hours and labels, never the log's rows.
    ``period`` is the start of a local hour (HOURLY_PANELS) or of a local day.
    """

    period = models.DateTimeField()
    panel = models.CharField(max_length=16, choices=Panel.choices)
    label = models.CharField(max_length=NAME_MAX, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "panel", "label"], name="tally_key")
        ]
        indexes = [models.Index(fields=["panel", "period"], name="tally_panel_period")]

    def __str__(self):
        return f"{self.panel} {self.label} @ {self.period:%Y-%m-%d %H:%M}: {self.count}"


class MatrixProbeQuerySet(models.QuerySet):
    def older_than(self, when):
        return self.filter(at__lt=when)


class MatrixProbe(models.Model):
    """
    One request of a cross-site matrix run, as the lab host received it: which
    test cookies came with it and the browser's Sec-Fetch-* headers. One row
    per (run, kind), so a run holds at most one row per kind of request.
    """

    run = models.CharField(max_length=32, help_text="The run's nonce (the test cookies' value).")
    kind = models.CharField(max_length=16)
    started = models.DateTimeField(help_text="When the run's cookies were set.")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)
    arrived = models.CharField(
        max_length=255, blank=True, help_text="Test cookies that came with it, space-separated."
    )
    fetch_site = models.CharField("Sec-Fetch-Site", max_length=FETCH_SITE_MAX, blank=True)
    fetch_mode = models.CharField("Sec-Fetch-Mode", max_length=FETCH_SITE_MAX, blank=True)
    fetch_dest = models.CharField("Sec-Fetch-Dest", max_length=FETCH_SITE_MAX, blank=True)
    # Chromium's own word on third-party cookies: "none" on a cross-site
    # subresource means it withholds unpartitioned cookies from it.
    storage_access = models.CharField(
        "Sec-Fetch-Storage-Access", max_length=FETCH_SITE_MAX, blank=True
    )

    objects = MatrixProbeQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "kind"], name="matrix_run_kind")]

    def __str__(self):
        return f"{self.run} {self.kind}"
