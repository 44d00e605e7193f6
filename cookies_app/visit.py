"""
One request's view of its browser, built once: the visitor, the cookies it
sent, the rules context and the part of its jar this request needs.

The decorator in ``decorators.py`` builds it before the view runs; verdicts,
signed cookies, export and the log take it (or values from it), never the
request. Every read here is bounded: an index lookup by visitor and name, the
jar's present cookies, or the latest issued ones with a LIMIT.
"""

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, cached_property

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import rules
from .cookie_log import received_names
from .jar import LATEST_ISSUED
from .jar_cache import cached_jar
from .jar_versions import VERSIONS
from .known_visitors import KNOWN
from .log_sql import from_rows
from .models import FETCH_SITE_MAX, HOST_MAX, PATH_MAX, Visitor
from .site_cookies import reserved_names
from .text import capped, escape_controls

VISITOR_KEY = re.compile(r"[0-9a-f]{32}")
UNREAD = object()


def valid_visitor_key(raw):
    """``raw`` if it is a visitor id this site could have issued, else ""."""
    return raw if VISITOR_KEY.fullmatch(raw) else ""


@dataclass
class Visit:
    """What this request knows about its browser."""

    key: str
    is_new: bool
    visitor_id: int | None  # the log's id for this browser; None: not logged
    seq: int  # this request's number for the visitor; 0 when not logged
    at: datetime
    method: str
    host: str  # as the log keeps it: controls escaped, capped
    path: str
    fetch_site: str
    user_agent: str
    received: dict  # request.COOKIES
    # The request as the rules see it, before the jar adds what it knows.
    base_context: rules.RequestContext
    # Where this request falls in the order the visitor's requests were
    # logged (Visitor.logged); set when it is written, under the visitor's lock.
    order: int = 0
    # When the browser's latest logged request came (None: a new browser):
    # read under the visitor's lock when this request is written.
    previous_at: datetime | None = None
    # Written after a request that came later (another server process logged
    # that one first): it must not roll the jar back.
    late: bool = False
    # The Visitor row as this request read it; UNREAD while only its id is
    # known (see ``visitor``).
    row: "Visitor | None | object" = field(default=UNREAD, repr=False)

    @property
    def visitor(self):
        """
        The Visitor row, or None. A browser this process has seen, logged in
        the background, is known by its id alone: its row is read on first use
        (the lab page's cache needs it; an API answer never does).
        """
        if self.row is UNREAD:
            found = _find_visitor(self.key)
            if found is not None and found.id == self.visitor_id:
                self.row = found
            else:
                self._gone()
        return self.row

    def jar_state(self):
        """
        (visitor id, key, jar_version), or None: what the lab page cache needs
        of the row. Of a row unread, only its jar_version is read (a cached
        page needs nothing else), and not even that when PostgreSQL told this
        process the jar's version (jar_versions).
        """
        if self.row is UNREAD:
            version = VERSIONS.get(self.visitor_id)
            if version is None:
                version = _read_jar_version(self.visitor_id, self.key)
            if version is not None:
                return (self.visitor_id, self.key, version)
            self._gone()
            return None
        visitor = self.visitor
        return None if visitor is None else (visitor.id, visitor.key, visitor.jar_version)

    def _gone(self):
        """The row is gone: no row here, and the browser's next request gets a new id."""
        self.row = None
        KNOWN.pop(self.key)

    @cached_property
    def jar(self):
        """
        Jar rows by id: the ones named in the request, the ones present last
        time, and the latest issued. Read on first use (not every view needs
        it), or reused from this process's last read of an unchanged jar; the
        rows may be shared with other requests: read them, never change them.
        """
        if self.visitor is None or self.visitor.requests <= (1 if self.seq else 0):
            return {}  # a new browser has no jar yet
        return cached_jar(self.visitor, received_names(self.received))

    @cached_property
    def context(self):
        """The rules' context, knowing which received cookies were issued HttpOnly."""
        received = self.base_context.received_names
        httponly = frozenset(r.name for r in self.jar.values() if r.httponly and r.name in received)
        return replace(self.base_context, httponly_names=httponly)

    def jar_rows(self, name):
        return [row for row in self.jar.values() if row.name == name]

    def latest_issued(self):
        """The newest issued jar row per name, newest first, the lab's own left out."""
        reserved = reserved_names()
        rows = sorted(
            (r for r in self.jar.values() if r.issued_at and r.name not in reserved),
            key=lambda r: (r.issued_at, r.id),
            reverse=True,
        )
        latest = {}
        for row in rows:
            latest.setdefault(row.name, row)
        return list(latest.values())[:LATEST_ISSUED]

    def issued_row(self, name):
        """The jar row of the latest Set-Cookie for ``name``, or None."""
        rows = [r for r in self.jar_rows(name) if r.issued_at]
        return max(rows, key=lambda r: (r.issued_at, r.id), default=None)


def build(request, log=True, count=True):
    """
    The Visit for ``request``. With ``log``, a new browser gets a Visitor;
    with ``count`` too, this request takes its number now (one UPDATE), else
    the log takes it when it writes the request (the background writer).
    Without ``log``, nothing is written (the live check). A well-formed id the
    log does not know (forgotten, pruned or made up) is not adopted: the
    browser gets a new one. Logged in the background, a browser this process
    has seen is not read at all (known_visitors): its row is read on first use.
    """
    key = valid_visitor_key(request.COOKIES.get(settings.COOKIE_LAB_VISITOR_COOKIE, ""))
    now = timezone.now()
    visitor, visitor_id = None, None
    if key and log and not count:
        # Logged in the background: a browser this process knows needs no
        # read now (the writer locks its row anyway).
        visitor_id = KNOWN.get(key)
        visitor = None if visitor_id is None else UNREAD
    if key and visitor_id is None:
        visitor = _find_visitor(key)
        visitor_id = None if visitor is None else visitor.id
    is_new = visitor_id is None
    seq = 0
    if is_new:
        key = uuid.uuid4().hex
        if log:
            visitor = Visitor.objects.create(
                key=key, first_seen=now, last_seen=now, requests=1 if count else 0
            )
            visitor.previous_seen, seq = None, 1 if count else 0
            visitor_id = visitor.id
    elif log and count:
        seq = _count_request(visitor, now)
        if seq is None:
            # Forgotten meanwhile: this request is not logged.
            visitor, visitor_id, seq = None, None, 0
    if log and visitor is not None and visitor is not UNREAD:
        KNOWN.put(key, visitor_id)
    received = request.COOKIES
    # Each read once: get_host() validates the host every call.
    host = request.get_host()
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE", "")
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    return Visit(
        key=key,
        is_new=is_new,
        visitor_id=visitor_id,
        row=visitor,
        seq=seq,
        at=now,
        method=request.method[:10],
        host=capped(escape_controls(host), HOST_MAX),
        path=capped(escape_controls(request.path), PATH_MAX),
        fetch_site=capped(fetch_site, FETCH_SITE_MAX),
        user_agent=escape_controls(user_agent),
        received=received,
        base_context=rules.RequestContext(
            scheme=request.scheme,
            host=host,
            path=request.path,
            reserved_names=reserved_names(),
            received_names=frozenset(received),
            fetch_site=fetch_site,
            method=request.method,
            engine=rules.engine_of(user_agent),
        ),
    )


# What a request reads of its visitor, in the model's field order (as
# Model.from_db takes them); anything else loads on first use.
VISITOR_FIELDS = [
    f.attname
    for f in Visitor._meta.concrete_fields
    if f.attname in {"id", "key", "requests", "last_seen", "latest_request_id", "jar_version"}
]


def _find_visitor(key):
    """The Visitor with this key, or None. Raw SQL: every request asks, at a tenth of the cost."""
    token = VERSIONS.token()
    db = transaction.get_connection()  # once: each use of the proxy looks it up
    with db.cursor() as cursor:
        cursor.execute(_visitor_sql(db.vendor), [key])
        found = cursor.fetchone()
    if not found:
        return None
    visitor = from_rows(Visitor, VISITOR_FIELDS, [found])[0]
    VERSIONS.note_read(visitor.id, visitor.jar_version, token)
    return visitor


@cache
def _visitor_sql(vendor):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in VISITOR_FIELDS)
    return f"SELECT {columns} FROM {quote(Visitor._meta.db_table)} WHERE {quote('key')} = %s"


def _read_jar_version(visitor_id, key):
    """
    The jar_version of the row with this id and key, or None when it is gone:
    one column by primary key, at half the cost of ``_find_visitor``. A cached
    lab page reads nothing else; a page rendered anew reads the row after it
    (a second read, beside a millisecond's rendering).
    """
    token = VERSIONS.token()
    db = transaction.get_connection()
    with db.cursor() as cursor:
        cursor.execute(_jar_version_sql(db.vendor), [visitor_id, key])
        found = cursor.fetchone()
    if found is None:
        return None
    VERSIONS.note_read(visitor_id, found[0], token)
    return found[0]


@cache
def _jar_version_sql(vendor):
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('jar_version')} FROM {quote(Visitor._meta.db_table)} "
        f"WHERE {quote('id')} = %s AND {quote('key')} = %s"
    )


def _count_request(visitor, now):
    """This request's number, taken atomically from the visitor's counter; None if it is gone."""
    table = connection.ops.quote_name(Visitor._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET requests = requests + 1, last_seen = %s WHERE id = %s "
            "RETURNING requests",
            [connection.ops.adapt_datetimefield_value(now), visitor.id],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    # When the browser was last here: a cookie missing now was last seen then.
    visitor.previous_seen = visitor.last_seen
    visitor.requests, visitor.last_seen = found[0], now
    return found[0]
