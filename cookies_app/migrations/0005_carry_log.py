"""
Carry the event log (one CookieEvent row per cookie received or issued) into
the jar: visitors, their requests, the cookies they hold and the changes.

Each visitor's history is replayed request by request with the write path's
rules as they stood when this was written (``Plan.receive``, ``Plan.missing``
and ``Plan.issue`` in cookies_app/cookie_log.py), copied here so later changes
to that module cannot change what this migration does.

Simplifications, each because the old log does not know better:

- Rows with no visitor id: each of their requests becomes a visitor of its own,
  keyed by the request id's hex.
- A request is the rows sharing a request id and a time (the old write path
  took one clock reading per request). Requests that brought no cookie and
  issued none left no row, so ``seq`` counts logged requests only.
- Status was not logged: 200. Sec-Fetch-Site was not logged: "", so SameSite
  never keeps a cookie off a replayed request (as for any request without it).
- Requests logged before the host was (0003) have host "": every cookie's
  Domain is taken to match them.
- Values, headers and the truncated flag are copied as the old log kept them:
  redacted values stay redacted (the keyed hash is the same one the write path
  uses, so an unchanged value still compares equal after the carry).
- An Expires without a time zone is read as UTC.
"""

import ipaddress
import re
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from itertools import groupby
from operator import attrgetter

from django.db import migrations

# Visitors per page: their keys go in one IN (...), within SQLite's limit.
VISITORS_PER_PAGE = 500
# Requests held in memory before they (and their jar rows and changes) are written.
FLUSH_AFTER = 2000
EVENTS_PER_FETCH = 2000

# Column limits as 0004 made them.
HOST_MAX = 255
PATH_MAX = 512
DOMAIN_MAX = 255
USER_AGENT_MAX = 512
EXPIRES_MAX = 64
SALT_MAX = 256
HEADER_MAX = 4096
SMALLINT_MAX = 2**15 - 1

RECEIVED = "received"
APPEARED, CHANGED, STOPPED = "appeared", "changed", "stopped"
EXPIRED, ISSUED, DELETED = "expired", "issued", "deleted"

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_controls(text):
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def host_without_port(host):
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_ip(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def default_path(request_path):
    """RFC 6265bis §5.1.4, as ``rules.default_path``."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def path_matches(request_path, cookie_path):
    cookie_path = cookie_path or "/"
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def host_matches(row, host):
    if not host:
        return True  # logged before hosts were
    host = host_without_port(host)
    if row.domain:
        domain = row.domain.lstrip(".").lower()
        return host == domain or (not is_ip(host) and host.endswith("." + domain))
    return not row.issued_host or host == host_without_port(row.issued_host)


def expiry(at, max_age, expires):
    """When an issued cookie stops living, or None for a session cookie."""
    if max_age is not None:
        try:
            return at + timedelta(seconds=max_age)
        except OverflowError:
            return None
    if not expires:
        return None
    try:
        ends = parsedate_to_datetime(expires)
    except (TypeError, ValueError, OverflowError):
        return None
    return ends if ends.tzinfo else ends.replace(tzinfo=UTC)


class Writer:
    """What the replay made, held until it is written in a few bulk statements."""

    def __init__(self, apps):
        self.Visitor = apps.get_model("cookies_app", "Visitor")
        self.Request = apps.get_model("cookies_app", "Request")
        self.JarCookie = apps.get_model("cookies_app", "JarCookie")
        self.CookieChange = apps.get_model("cookies_app", "CookieChange")
        self.UserAgent = apps.get_model("cookies_app", "UserAgent")
        self.jar_fields = [
            f.name
            for f in self.JarCookie._meta.concrete_fields
            if f.name not in ("id", "visitor", "name", "domain", "path")
        ]
        self.agents = {}  # text -> id
        self.new = []  # jar rows not written yet
        self.dirty = {}  # pk -> written jar row changed since
        self.requests = []  # (Request, jar rows it carried)
        self.changes = []  # (jar row, Request, CookieChange): rows may have no pk yet
        self.done = []  # visitors whose whole history is replayed

    def agent_id(self, text):
        text = text[:USER_AGENT_MAX]
        if text not in self.agents:
            self.agents[text] = self.UserAgent.objects.get_or_create(text=text)[0].pk
        return self.agents[text]

    def touch(self, row):
        if row.pk is not None:
            self.dirty[row.pk] = row

    def flush(self):
        if self.new:
            self.JarCookie.objects.bulk_create(self.new)
        if self.dirty:
            self.JarCookie.objects.bulk_update(list(self.dirty.values()), self.jar_fields)
        for request, carried in self.requests:
            request.carried = " ".join(str(row.pk) for row in carried)
        if self.requests:
            self.Request.objects.bulk_create([request for request, _ in self.requests])
        for row, request, change in self.changes:
            change.cookie_id, change.request = row.pk, request
        if self.changes:
            self.CookieChange.objects.bulk_create([change for _, _, change in self.changes])
        if self.done:
            self.Visitor.objects.bulk_update(
                self.done, ["first_seen", "last_seen", "requests", "logged", "latest_request"]
            )
        self.new, self.dirty, self.requests, self.changes, self.done = [], {}, [], [], []


class Replay:
    """One visitor's jar, rebuilt request by request with the write path's rules."""

    def __init__(self, writer, visitor):
        self.writer = writer
        self.visitor = visitor
        self.jar = []  # the visitor's rows, in the order they were made
        self.seq = 0
        self.at = self.previous = None
        self.host = self.path = ""
        self.request = None

    def step(self, at, events):
        """One old request: its received rows, then what went missing, then its Set-Cookies."""
        w = self.writer
        self.seq += 1
        self.previous, self.at = self.at, at
        first = events[0]
        self.host, self.path = first.host, first.path
        received = [e for e in events if e.direction == RECEIVED]
        unlogged = max((e.unlogged_in_request for e in received), default=0)
        self.request = w.Request(
            visitor=self.visitor,
            seq=self.seq,
            at=at,
            method=first.method,
            host=first.host[:HOST_MAX],
            path=first.path[:PATH_MAX],
            status=200,
            fetch_site="",
            user_agent_id=w.agent_id(first.user_agent),
            cookie_count=min(len(received) + unlogged, SMALLINT_MAX),
        )
        carried = []
        for event in received:
            row = self.receive(event)
            if row not in carried:
                carried.append(row)
        for row in self.jar:
            if row.present and row not in carried:
                self.missing(row)
        for event in events:
            if event.direction != RECEIVED:
                self.issue(event)
        w.requests.append((self.request, carried))

    def finish(self, first_seen):
        visitor = self.visitor
        visitor.first_seen, visitor.last_seen = first_seen, self.at
        visitor.requests, visitor.latest_request = self.seq, self.request
        # Replayed in order: the logged count is the request number.
        visitor.logged = self.seq
        self.writer.done.append(visitor)

    def change(self, row, kind, **fields):
        change = self.writer.CookieChange(visitor=self.visitor, at=self.at, kind=kind, **fields)
        self.writer.changes.append((row, self.request, change))

    def in_scope(self, row):
        return path_matches(self.path, row.path) and host_matches(row, self.host)

    def new_row(self, name, domain="", path=""):
        row = self.writer.JarCookie(visitor=self.visitor, name=name, domain=domain, path=path)
        self.jar.append(row)
        self.writer.new.append(row)
        return row

    def find(self, name):
        """A received cookie's row: the one it came back as last time, else the latest issued."""
        oldest = self.at - timedelta(days=100000)
        return max(
            (r for r in self.jar if r.name == name),
            key=lambda r: (
                r.present,
                r.issued_at is not None and self.in_scope(r),
                r.issued_at or oldest,
            ),
            default=None,
        )

    def receive(self, event):
        row = self.find(event.name) or self.new_row(event.name)
        if not row.present:
            kind = None
            if row.first_seen is None or row.stopped_at is not None:
                kind = APPEARED
            elif row.value != event.value:
                kind = CHANGED
            row.present, row.run_from, row.stopped_at = True, self.seq, None
            row.first_seen = row.first_seen or self.at
            self.took(row, event, kind)
        elif row.value != event.value:
            self.took(row, event, CHANGED)
        return row

    def took(self, row, event, kind):
        row.value, row.size = event.value, event.size
        row.redacted, row.truncated = event.redacted, event.truncated
        self.writer.touch(row)
        if kind is not None:
            self.change(row, kind, value=event.value, size=event.size)

    def missing(self, row):
        """A cookie that came with the visitor's previous request and not with this one."""
        row.present = False
        row.seen_before += self.seq - row.run_from
        row.last_seen = self.previous or self.at
        self.writer.touch(row)
        if row.deleted_at is not None:
            return  # the deletion is on record already
        if row.expires_at is not None and row.expires_at <= self.at:
            self.change(row, EXPIRED)
            row.stopped_at = self.at
        elif row.path == "" or self.in_scope(row):
            self.change(row, STOPPED)
            row.stopped_at = self.at
        # Else this page is out of its scope: no news.

    def issue(self, event):
        domain = escape_controls(event.domain)[:DOMAIN_MAX]
        path = escape_controls(event.cookie_path or default_path(self.path))[:PATH_MAX]
        row = next(
            (r for r in self.jar if (r.name, r.domain, r.path) == (event.name, domain, path)),
            None,
        ) or self.new_row(event.name, domain, path)
        expires = event.expires[:EXPIRES_MAX]
        ends = expiry(self.at, event.max_age, expires)
        deleted = ends is not None and ends <= self.at
        row.issued_at = self.at
        row.issued_host, row.issued_path = self.host[:HOST_MAX], self.path[:PATH_MAX]
        row.issued_value, row.issued_size = event.value, event.size
        row.max_age, row.expires, row.expires_at = event.max_age, expires, ends
        row.secure, row.httponly = bool(event.secure), bool(event.httponly)
        row.samesite, row.partitioned = event.samesite, bool(event.partitioned)
        row.signed, row.salt = bool(event.signed), escape_controls(event.salt)[:SALT_MAX]
        row.header = event.header[:HEADER_MAX]
        row.deleted_at = self.at if deleted else None
        row.redacted, row.truncated = event.redacted, row.truncated or event.truncated
        self.writer.touch(row)
        self.change(
            row,
            DELETED if deleted else ISSUED,
            value=event.value,
            size=event.size,
            header=row.header,
            max_age=row.max_age,
            expires=expires,
            secure=row.secure,
            httponly=row.httponly,
            samesite=row.samesite,
            partitioned=row.partitioned,
            signed=row.signed,
        )


def key_pages(events, field):
    """The distinct values of ``field``, a page at a time (keyset pagination)."""
    last = None
    while True:
        page = events if last is None else events.filter(**{f"{field}__gt": last})
        keys = list(
            page.order_by(field).values_list(field, flat=True).distinct()[:VISITORS_PER_PAGE]
        )
        if not keys:
            return
        yield keys
        last = keys[-1]


def carry_page(writer, events, field, keys, visitor_key):
    """Replay the visitors of one page, streaming their rows in time order."""
    visitors = writer.Visitor.objects.bulk_create(
        [writer.Visitor(key=visitor_key(k)) for k in keys]
    )
    by_key = dict(zip(keys, visitors, strict=True))
    rows = (
        events.filter(**{f"{field}__in": keys})
        .order_by(field, "observed_at", "id")
        .iterator(chunk_size=EVENTS_PER_FETCH)
    )
    for key, history in groupby(rows, key=attrgetter(field)):
        replay = Replay(writer, by_key[key])
        first_seen = None
        for at, same_time in groupby(history, key=attrgetter("observed_at")):
            first_seen = first_seen or at
            # Two requests logged at the same instant: split by request id, in id order.
            requests = {}
            for event in same_time:
                requests.setdefault(event.request_id, []).append(event)
            for events_of_request in requests.values():
                replay.step(at, events_of_request)
                if len(writer.requests) >= FLUSH_AFTER:
                    writer.flush()
        replay.finish(first_seen)
    writer.flush()


def carry(apps, schema_editor):
    CookieEvent = apps.get_model("cookies_app", "CookieEvent")
    writer = Writer(apps)
    known = CookieEvent.objects.exclude(visitor_id="")
    for keys in key_pages(known, "visitor_id"):
        carry_page(writer, known, "visitor_id", keys, str)
    anonymous = CookieEvent.objects.filter(visitor_id="")
    for keys in key_pages(anonymous, "request_id"):
        carry_page(writer, anonymous, "request_id", keys, attrgetter("hex"))


class Migration(migrations.Migration):
    dependencies = [
        ("cookies_app", "0004_jar"),
    ]

    operations = [
        # No reverse: unapplying 0004 drops the jar anyway, and the events are
        # still in their table until 0006 (whose reverse recreates it empty).
        migrations.RunPython(carry, migrations.RunPython.noop),
    ]
