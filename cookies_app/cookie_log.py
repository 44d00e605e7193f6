"""
The log's write path: one Request row, and only what changed in the jar.

A cookie that comes back unchanged writes nothing; one that appears, changes
value, stops coming back or expires writes one change row; every Set-Cookie
writes one. Sensitive values never reach a table in clear, and every text is
capped to its column before the database.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import rollup, rules
from .jar import load_jar
from .log_sql import (
    insert_requests,
    take_order,
    update_jar_rows,
    update_visitor,
)
from .models import (
    DOMAIN_MAX,
    DROPS_MAX,
    EXPIRES_MAX,
    HEADER_MAX,
    NAME_MAX,
    PATH_MAX,
    SALT_MAX,
    SET_COOKIE_KINDS,
    USER_AGENT_MAX,
    ChangeKind,
    CookieChange,
    JarCookie,
    Request,
    UserAgent,
)
from .redaction import is_sensitive, stored_value
from .setcookie import header_value, morsel_attributes, signed_salts
from .text import byte_size, capped, escape_controls
from .verdicts import in_scope, proposed, verdict


def logged_name(name):
    return capped(escape_controls(name), NAME_MAX)


def issued_identity(morsel, request_path):
    """(name, domain, path) of a Set-Cookie as the browser keys it, capped like the columns."""
    attributes = morsel_attributes(morsel)
    return (
        logged_name(morsel.key),
        capped(escape_controls(attributes["domain"]), DOMAIN_MAX),
        capped(escape_controls(attributes["path"] or rules.default_path(request_path)), PATH_MAX),
    )


def received_names(cookies):
    """The names of the received cookies the log keeps: capped in count and length."""
    return [logged_name(name) for name in list(cookies)[: settings.COOKIE_LAB_LOG_MAX_COOKIES]]


@dataclass(frozen=True)
class Seen:
    """A received cookie as the log keeps it."""

    name: str
    value: str
    size: int
    redacted: bool
    truncated: bool

    @classmethod
    def of(cls, name, value):
        stored, cut = stored_value(name, value)
        logged = logged_name(name)
        return cls(
            logged,
            stored,
            byte_size(name) + byte_size(value),
            is_sensitive(name, value),
            cut or logged != name,
        )


def received_stored(cookies):
    """{name: value as the log keeps it}, to compare with the jar."""
    return {logged_name(name): stored_value(name, value)[0] for name, value in cookies.items()}


def user_agents(texts, known=None):
    """
    {text: (row id, browser family)} for a batch's User-Agents: one indexed
    read, and one INSERT for any new ones (parsed once, here). Not cached
    across transactions (pruning may delete rows); ``known`` holds those
    found earlier in this one, and takes the new.
    """
    known = {} if known is None else known
    texts = set(texts) - known.keys()
    if not texts:
        return known

    def read(among):
        # Raw: the ORM built this query in more time than the database answered it.
        quote = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(among))
        sql = (
            f"SELECT {quote('text')}, id, family FROM {quote(UserAgent._meta.db_table)} "
            f"WHERE {quote('text')} IN ({marks})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, list(among))
            return {text: (pk, family) for text, pk, family in cursor.fetchall()}

    found = read(texts)
    missing = texts - found.keys()
    if missing:
        UserAgent.objects.bulk_create(
            [UserAgent(text=t, family=rollup.browser_family(t)) for t in missing],
            ignore_conflicts=True,
        )
        found.update(read(missing))
    known.update(found)
    return known


class Plan:
    """One request's changes to its visitor's jar, decided before anything is written."""

    def __init__(self, visit):
        self.visit = visit
        self.jar = dict(visit.jar)  # id -> row
        self.by_name = {}
        for row in self.jar.values():
            self.by_name.setdefault(row.name, []).append(row)
        self.new = []
        self.dirty = {}
        self.changes = []  # (row, CookieChange) pairs: rows may not have ids yet
        self.carried = []  # the rows this request's cookies came back as
        self.renamed = []  # rows whose identity (domain, path) changed
        self.judged = []  # (CookieChange, Status): the previous request's lines, judged now
        self.request = None
        # When the response was logged: lines wait for a request that starts later.
        self.logged_at = visit.at
        # The request's fingerprint, kept on the visitor when it is the latest
        # logged; "" when unknown (a replay, the seeding command).
        self.fingerprint = ""

    def change(self, row, kind, **fields):
        self.changes.append(
            (row, CookieChange(visitor=self.visit.visitor, at=self.visit.at, kind=kind, **fields))
        )

    def touch(self, row):
        if row.id is None:
            if all(row is not other for other in self.new):
                self.new.append(row)
        else:
            self.dirty[row.id] = row

    def find(self, name, domain=None, path=None, value=None):
        rows = self.by_name.get(name, ())
        if domain is not None:
            return next((r for r in rows if r.domain == domain and r.path == path), None)
        # A received cookie carries only its name and value: prefer the issued
        # cookie in scope with that very value, then the one it came back as last
        # time, then the latest issued in scope.
        context = self.visit.context

        def likeliness(r):
            issued_here = r.issued_at is not None and in_scope(r, context)
            return (
                issued_here and r.issued_value == value,
                r.present,
                issued_here,
                r.issued_at or self.visit.at - timedelta(days=100000),
            )

        return max(rows, key=likeliness, default=None)

    def adopt(self, name, domain, path):
        """
        The row for a cookie issued for the first time with this identity. A
        cookie of that name the browser had from elsewhere (JavaScript) with the
        same Path is the same cookie to the browser: its row takes the identity.
        """
        unknown = next((r for r in self.jar.values() if r.name == name and not r.path), None)
        if unknown is not None and path == "/" and not domain:
            unknown.domain, unknown.path = domain, path
            self.renamed.append(unknown)
            return unknown
        return self.new_row(name, domain, path)

    def new_row(self, name, domain="", path=""):
        row = JarCookie(visitor=self.visit.visitor, name=name, domain=domain, path=path)
        self.new.append(row)
        self.by_name.setdefault(name, []).append(row)
        return row

    # Received side -------------------------------------------------------

    def receive(self, seen):
        visit = self.visit
        row = self.find(seen.name, value=seen.value)
        if row is None:
            row = self.new_row(seen.name)
        came_back = row.present
        if not came_back:
            kind = None
            if row.first_seen is None or row.stopped_at is not None:
                kind = ChangeKind.APPEARED
            elif row.value != seen.value:
                kind = ChangeKind.CHANGED
            row.present, row.run_from, row.stopped_at = True, visit.order, None
            row.first_seen = row.first_seen or visit.at
            self._took(row, seen, kind)
        elif row.value != seen.value:
            self._took(row, seen, ChangeKind.CHANGED)
        return row

    def _took(self, row, seen, kind):
        row.value, row.size = seen.value, seen.size
        row.redacted, row.truncated = seen.redacted, seen.truncated
        self.touch(row)
        if kind is not None:
            self.change(row, kind, value=seen.value, size=seen.size)

    def missing(self, row):
        """A cookie that came last time and not now."""
        visit = self.visit
        row.present = False
        row.seen_before += visit.order - row.run_from
        row.last_seen = getattr(visit.visitor, "previous_seen", None) or visit.at
        self.touch(row)
        if row.deleted_at is not None:
            return  # the deletion is on record already
        if row.expires_at is not None and row.expires_at <= visit.at:
            self.change(row, ChangeKind.EXPIRED)
            row.stopped_at = visit.at
        elif row.path == "" or in_scope(row, visit.context):
            self.change(row, ChangeKind.STOPPED)
            row.stopped_at = visit.at
        # Else it is out of this page's scope (Path, Domain, SameSite): no news.

    # Issued side ---------------------------------------------------------

    def issue(self, morsel, salts):
        visit = self.visit
        attributes = morsel_attributes(morsel)
        name, domain, path = issued_identity(morsel, visit.path)
        row = self.find(name, domain, path) or self.adopt(name, domain, path)
        value, cut = stored_value(morsel.key, morsel.value)
        redacted = is_sensitive(morsel.key, morsel.value)
        header = capped(_logged_header(morsel, redacted), HEADER_MAX)
        expires = capped(attributes["expires"], EXPIRES_MAX)
        ends = expiry(visit.at, attributes["max_age"], expires)
        deleted = ends is not None and ends <= visit.at
        row.issued_at, row.issued_host, row.issued_path = visit.at, visit.host, visit.path
        row.issued_value, row.issued_size = value, byte_size(morsel.key) + byte_size(morsel.value)
        row.max_age, row.expires, row.expires_at = attributes["max_age"], expires, ends
        row.secure, row.httponly = attributes["secure"], attributes["httponly"]
        row.samesite = attributes["samesite"]
        row.partitioned = attributes["partitioned"]
        row.signed = morsel.key in salts
        row.salt = capped(escape_controls(salts.get(morsel.key, "")), SALT_MAX)
        row.header = header
        row.deleted_at = visit.at if deleted else None
        row.redacted, row.truncated = redacted, row.truncated or cut
        self.touch(row)
        # The rules' prediction, as the browser judges the line here: the
        # findings that make it refuse the cookie.
        drops = "" if deleted else predicted_drops(row, visit.context)
        self.change(
            row,
            ChangeKind.DELETED if deleted else ChangeKind.ISSUED,
            value=value,
            size=row.issued_size,
            header=header,
            max_age=row.max_age,
            expires=expires,
            secure=row.secure,
            httponly=row.httponly,
            samesite=row.samesite,
            partitioned=row.partitioned,
            signed=row.signed,
            lifetime=rollup.lifetime_seconds(visit.at, row.max_age, row.expires_at),
            drops=drops,
        )

    def judge(self, pending, received):
        """
        The round trip of the previous request's Set-Cookie lines: what this
        request (the browser's next) shows it did with each. ``pending`` are
        (jar row as issued, line) pairs; ``received`` the cookies in log form.
        """
        for row, line in pending:
            found = verdict(row, received, self.visit.context, now=self.visit.at)
            line.verdict = found.status.value
            self.judged.append((line, found.status.value))

    def carried_ids(self):
        return " ".join(str(row.id) for row in self.carried)

    def carried_names(self):
        return [row.name for row in self.carried]

    @property
    def set_cookie_lines(self):
        return [(row.name, c) for row, c in self.changes if c.kind in SET_COOKIE_KINDS]

    def tallies(self, family):
        appeared = [row.name for row, c in self.changes if c.kind == ChangeKind.APPEARED]
        counts = rollup.request_tallies(
            self.visit,
            family,
            self.carried_names(),
            appeared,
            self.set_cookie_lines,
        )
        for line, status in self.judged:
            counts.daily(line.at, rollup.Panel.VERDICT, status)
        return counts


class Unchanged(Plan):
    """
    A request with the latest logged request's fingerprint, nothing to judge
    and nothing issued: it carries the same jar rows and changes none. Logged
    without reading the jar (most of a busy server's requests).
    """

    def __init__(self, visit, status, carried_ids, digest):
        self.visit = visit
        self.jar, self.by_name, self.new, self.dirty = {}, {}, [], {}
        self.changes, self.carried, self.renamed, self.judged = [], [], [], []
        self.logged_at = visit.at
        self.fingerprint = digest
        self._carried_ids = carried_ids
        self.request = request_row(visit, status)
        self.user_agent = capped(visit.user_agent, USER_AGENT_MAX)

    def carried_ids(self):
        return self._carried_ids

    def carried_names(self):
        return list(dict.fromkeys(received_names(self.visit.received)))


FINGERPRINT_SALT = "cookies_app.cookie_log.fingerprint"
# One encoder for every fingerprint: json.dumps with options builds a new one each call.
FINGERPRINT_JSON = json.JSONEncoder(separators=(",", ":"))


def fingerprint(visit):
    """
    A keyed digest of what decides how a request changes its jar: where it
    went (scheme, host, path, method, Sec-Fetch-Site) and the cookies it
    carried, as many as the log keeps. Keyed like the redaction, so the
    visitor row never holds a guessable digest of cookie values: Django's
    salted_hmac, its key derived once per secret (the writer takes one a request).
    """
    context = visit.base_context
    items = tuple(visit.received.items())[: settings.COOKIE_LAB_LOG_MAX_COOKIES]
    parts = (context.scheme, context.host, context.path, context.method, context.fetch_site, items)
    return _digest(settings.SECRET_KEY, parts)


# A browser reloading sends the same again: its digest is remembered (a few
# hundred, each at most a Cookie header's size).
@lru_cache(maxsize=256)
def _digest(secret, parts):
    text = FINGERPRINT_JSON.encode(parts).encode()
    return hmac.new(_fingerprint_key(secret), text, hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=4)
def _fingerprint_key(secret):
    """salted_hmac's key for FINGERPRINT_SALT and ``secret``."""
    return hashlib.sha256(f"{FINGERPRINT_SALT}{secret}".encode()).digest()


def predicted_drops(row, context):
    codes = []
    for finding in rules.evaluate(proposed(row), context):
        if finding.severity == "error" and finding.code not in codes:
            codes.append(finding.code)
    return capped(" ".join(codes), DROPS_MAX)


def plan(visit, response_cookies, status, salts=None, pending=()):
    """
    What logging this request writes, decided in memory: a Plan. Nothing
    touches the database; ``save`` writes one plan or a batch of them.
    ``pending`` are the previous request's Set-Cookie lines, to judge.
    """
    # Outside record() (a replay, the seeding command) requests are planned in
    # their own order: the logged count is the request number.
    visit.order = visit.order or visit.seq
    planned = Plan(visit)
    if pending:
        # Judged before this request's own changes touch the rows.
        planned.judge(pending, received_stored(visit.received))
    cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
    items = list(visit.received.items())
    logged, carried = set(), set()
    for name, value in items[:cap]:
        seen = Seen.of(name, value)
        if seen.name in logged:
            continue  # two names equal once capped: the first stands for both
        logged.add(seen.name)
        if visit.late:
            # Older than a request logged already (another server process wrote
            # that first): it tells what it carried, not what the jar holds now.
            row = planned.find(seen.name, value=seen.value)
            if row is None:
                continue
        else:
            row = planned.receive(seen)
        if id(row) not in carried:
            carried.add(id(row))
            planned.carried.append(row)
    for row in list(planned.jar.values()):
        if row.present and id(row) not in carried and not visit.late:
            planned.missing(row)
    for morsel in list(response_cookies.values())[:cap]:
        planned.issue(morsel, salts or {})
    planned.request = request_row(visit, status)
    planned.user_agent = capped(visit.user_agent, USER_AGENT_MAX)
    return planned


def request_row(visit, status):
    return Request(
        visitor=visit.visitor,
        seq=visit.seq,
        at=visit.at,
        method=visit.method,
        host=visit.host,
        path=visit.path,
        status=status,
        fetch_site=visit.fetch_site,
        cookie_count=min(len(visit.received), 2**15 - 1),
    )


def save(plans, tallies=None, agents=None):
    """
    Write plans (one request's, or a batch's) in a fixed number of statements.
    Their tallies are upserted last, or added to ``tallies`` for the caller to
    save once for many requests (the background writer's batch), which also
    keeps the User-Agents it found in ``agents``.
    """
    # A row made by one plan of a batch and touched by a later one is in both.
    new = list({id(row): row for p in plans for row in p.new}.values())
    new_ids = {id(row) for row in new}
    dirty = {row.id: row for p in plans for row in p.dirty.values() if id(row) not in new_ids}
    with transaction.atomic(savepoint=False):
        agents = user_agents((p.user_agent for p in plans), agents)
        for p in plans:
            p.request.user_agent_id = agents[p.user_agent][0]
        if new:
            JarCookie.objects.bulk_create(new)
        for p in plans:
            p.request.carried = p.carried_ids()
        insert_requests([p.request for p in plans])
        changes = []
        for p in plans:
            for row, change in p.changes:
                change.cookie_id, change.request = row.id, p.request
                changes.append(change)
        if changes:
            CookieChange.objects.bulk_create(changes)
        if dirty:
            update_jar_rows(list(dirty.values()))
        for p in plans:
            for row in p.renamed:
                JarCookie.objects.filter(id=row.id).update(domain=row.domain, path=row.path)
        _save_verdicts(line for p in plans for line, _ in p.judged)
        for visitor_id, fields in _visitor_updates(plans).items():
            update_visitor(visitor_id, fields)
        # Last: the hour's tally rows are shared by every browser, so they are
        # locked for the shortest time.
        counts = rollup.Tallies() if tallies is None else tallies
        for p in plans:
            counts.update(p.tallies(agents[p.user_agent][1]))
        if tallies is None:
            counts.save()


def _visitor_updates(plans):
    """
    What each visitor's row takes from these plans (saved in the order they
    were logged, under the visitor's lock): its latest request, when it came,
    and the lines awaiting a verdict.
    """
    updates = {}
    for p in plans:
        fields = updates.setdefault(p.visit.visitor.id, {})
        latest = fields.get("latest_request_id")
        # The latest request is the newest to come: a late one leaves it.
        if not p.visit.late and (latest is None or p.request.seq > fields["seq"]):
            fields.update(latest_request_id=p.request.id, seq=p.request.seq)
        fields["last_logged"] = max(fields.get("last_logged", p.request.at), p.request.at)
        if p.set_cookie_lines:
            fields.update(awaiting_request_id=p.request.id, awaiting_since=p.logged_at)
        elif p.judged:
            fields.update(awaiting_request_id=None, awaiting_since=None)
        if not p.visit.late:
            # What the next request compares itself with: the jar as this one left it.
            fields.update(jar_digest=p.fingerprint, carried=p.request.carried)
        # A jar read before this write is stale from now on (jar.cached_jar).
        if p.new or p.dirty or p.renamed:
            fields["jar_changed"] = True
    return updates


def _save_verdicts(lines):
    by_status = {}
    for line in lines:
        by_status.setdefault(line.verdict, []).append(line.id)
    for status, ids in by_status.items():
        CookieChange.objects.filter(id__in=ids).update(verdict=status)


def record(visit, response):
    """
    Log this request and what its response issued; returns the Request row.

    A browser sends requests in parallel (a page and its live checks): the jar
    is read again under a lock on the visitor, so two requests never both add
    the same cookie or overwrite each other's changes.
    """
    with transaction.atomic():
        return record_entry(visit, response.cookies, response.status_code, signed_salts(response))


def record_entry(visit, cookies, status, salts, tallies=None, agents=None):
    """
    record()'s work, inside the caller's transaction (also the batch's, for a
    request that may change the jar): ``tallies`` and ``agents`` gather what
    the caller saves once.
    """
    if visit.visitor is None:
        return None
    # The visitor's lock (PostgreSQL's row lock; SQLite's IMMEDIATE
    # transaction locks the database) and this request's place in the order.
    taken = take_order(visit)
    if taken is None:
        return None  # forgotten meanwhile: nothing to log against
    order, visit.previous_at, awaiting, since, digest, carried = taken
    visit.order = visit.visitor.logged = order
    visit.late = visit.previous_at is not None and visit.at < visit.previous_at
    # Lines are judged by a request that started after their response was
    # logged: one in flight meanwhile could not have carried them.
    ready = awaiting is not None and since is not None and visit.at > since
    unchanged = not (cookies or ready or visit.late) and digest
    if unchanged and digest == fingerprint(visit):
        planned = Unchanged(visit, status, carried, digest)
    else:
        # Every row this request may touch, read again under the lock: the
        # names it carried and the exact cookies it sets.
        cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
        identities = [issued_identity(m, visit.path) for m in list(cookies.values())[:cap]]
        visit.jar = load_jar(visit.visitor, received_names(visit.received), identities)
        pending = _pending_lines(awaiting) if ready else ()
        planned = plan(visit, cookies, status, salts, pending)
        planned.fingerprint = fingerprint(visit)
    planned.logged_at = timezone.now()
    save([planned], tallies, agents)
    return planned.request


def _pending_lines(request_id):
    """The Set-Cookie lines of the visitor's previous request, with their jar rows."""
    if request_id is None:
        return ()
    lines = CookieChange.objects.filter(request_id=request_id, kind__in=SET_COOKIE_KINDS)
    lines = lines.select_related("cookie").order_by()[: settings.COOKIE_LAB_LOG_MAX_COOKIES]
    return [(line.cookie, line) for line in lines]


def expiry(at, max_age, expires):
    """When an issued cookie stops living, or None for a session cookie."""
    if max_age is not None:
        try:
            return at + timedelta(seconds=max_age)
        except OverflowError:
            return None
    if expires:
        try:
            return parsedate_to_datetime(expires)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _logged_header(morsel, redacted):
    header = escape_controls(header_value(morsel))
    if not redacted:
        return header
    # The header starts with "name=coded_value"; keep everything after it.
    prefix = f"{morsel.key}={morsel.coded_value}"
    return f"{morsel.key}=[redacted]{header[len(prefix) :]}"
