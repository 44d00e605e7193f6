"""
Round-trip verdicts: what the server issued (the jar) against what came back.

For each cookie issued to a visitor, its latest Set-Cookie is compared with
the cookies the browser sent on this request; the rules module supplies the
likely reason when the browser dropped one. Each cookie is judged where it
was issued (that host and path), as the browser judged it.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from . import rules
from .text import byte_size

LAX_ALLOWING_UNSAFE = timedelta(minutes=2)


class Status(StrEnum):
    KEPT = "kept"
    KEPT_HIDDEN = "kept, hidden from JS"
    REPLACED = "kept, value changed since"
    NOT_SENT_HERE = "not sent to this path"
    NOT_SENT_HOST = "not sent to this host"
    NOT_SENT_CROSS_SITE = "not sent on this cross-site request"
    EXPIRED = "expired or deleted"
    DELETION_IGNORED = "deletion not applied"
    DROPPED = "dropped by the browser"


EXPLANATIONS = {
    Status.KEPT: "The browser stored it and sent it back.",
    Status.KEPT_HIDDEN: "Sent back, but HttpOnly keeps it out of document.cookie.",
    Status.REPLACED: "A cookie of this name came back with another value: something "
    "(JavaScript, another response, another Path) replaced or shadowed it.",
    Status.NOT_SENT_HERE: "Its Path does not cover this page, so the browser keeps it but "
    "does not send it here.",
    Status.NOT_SENT_HOST: "Its Domain does not cover this host, so it is not sent here.",
    Status.NOT_SENT_CROSS_SITE: "You came here from another site (Sec-Fetch-Site: cross-site): "
    "SameSite=Strict cookies stay home, and Lax ones go only with top-level GET "
    "navigations. The browser still has it.",
    Status.EXPIRED: "Its lifetime is over (or it was a deletion): the browser no longer has it.",
    Status.DELETION_IGNORED: "The deletion was sent, yet a cookie of this name still came "
    "back: Path or Domain of the deletion did not match the stored cookie.",
    Status.DROPPED: "Issued, still within its lifetime and in scope, but not sent back.",
}


# At a glance, never by colour alone: an icon and a tone (the page colours by tone).
GLANCE = {
    Status.KEPT: ("✔", "ok"),
    Status.KEPT_HIDDEN: ("✔", "ok"),
    Status.REPLACED: ("≠", "warn"),
    Status.NOT_SENT_HERE: ("↷", "info"),
    Status.NOT_SENT_HOST: ("↷", "info"),
    Status.NOT_SENT_CROSS_SITE: ("↷", "info"),
    Status.EXPIRED: ("⌛", "info"),
    Status.DELETION_IGNORED: ("✘", "bad"),
    Status.DROPPED: ("✘", "bad"),
}


@dataclass(frozen=True)
class Verdict:
    name: str
    status: Status
    explanation: str
    issued_at: datetime
    header: str
    reasons: list = field(default_factory=list)  # rules findings, when dropped

    @property
    def icon(self):
        return GLANCE[self.status][0]

    @property
    def tone(self):
        return GLANCE[self.status][1]


def path_matches(request_path, cookie_path):
    """RFC 6265bis §5.1.4."""
    cookie_path = cookie_path or "/"
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def host_matches(cookie, host):
    """Whether the browser would send ``cookie`` (a jar row) to ``host``."""
    host = rules.host_without_port(host)
    if cookie.domain:
        return rules.domain_matches(host, cookie.domain.lstrip(".").lower())
    return not cookie.issued_host or host == rules.host_without_port(cookie.issued_host)


def in_scope(cookie, context):
    """Whether a browser holding ``cookie`` sends it with the request in ``context``."""
    return (
        path_matches(context.path, cookie.path)
        and host_matches(cookie, context.host)
        and not _withheld_cross_site(cookie.samesite, context, age=timedelta(0))
    )


def logged_value(name, stored, size):
    """
    A logged value as the rules take it: as stored, or, when the log kept only
    a redacted or truncated form (its size differs), a stand-in of the size
    that was sent: only the size matters to the rules then.
    """
    if size == byte_size(name) + byte_size(stored):
        return stored
    return "x" * max(0, size - byte_size(name))


def proposed(cookie):
    """The cookie a jar row's latest Set-Cookie describes, as the rules take it."""
    return rules.ProposedCookie(
        name=cookie.name,
        value=logged_value(cookie.name, cookie.issued_value, cookie.issued_size),
        max_age=cookie.max_age,
        expires=cookie.expires_at if cookie.max_age is None else None,
        path=cookie.path,
        domain=cookie.domain,
        secure=cookie.secure,
        httponly=cookie.httponly,
        samesite=cookie.samesite,
        partitioned=cookie.partitioned,
    )


def verdict(cookie, received, context, now=None):
    """
    The verdict for one issued jar row. ``received`` maps names to values in
    the log's form (so redacted values compare by their keyed hash).
    """
    now = now or datetime.now(UTC)
    ends = cookie.expires_at
    came_back = cookie.name in received

    def make(status, reasons=()):
        return Verdict(
            cookie.name,
            status,
            EXPLANATIONS[status],
            cookie.issued_at,
            cookie.header,
            list(reasons),
        )

    if ends is not None and ends <= now:
        deletion = ends <= cookie.issued_at
        return make(Status.DELETION_IGNORED if came_back and deletion else Status.EXPIRED)
    if came_back:
        if received[cookie.name] != cookie.issued_value:
            return make(Status.REPLACED)
        return make(Status.KEPT_HIDDEN if cookie.httponly else Status.KEPT)
    # The browser judged the cookie where it was issued: a cookie it refused
    # there was never stored, whatever this page's scope.
    where_issued = replace(
        context,
        host=cookie.issued_host or context.host,
        path=cookie.issued_path or context.path,
        received_names=frozenset(),
        httponly_names=frozenset(),
    )
    drops = [f for f in rules.evaluate(proposed(cookie), where_issued) if f.severity == "error"]
    if drops:
        return make(Status.DROPPED, drops)
    if _withheld_cross_site(cookie.samesite, context, age=now - cookie.issued_at):
        return make(Status.NOT_SENT_CROSS_SITE)
    if not host_matches(cookie, context.host):
        return make(Status.NOT_SENT_HOST)
    if not path_matches(context.path, cookie.path):
        return make(Status.NOT_SENT_HERE)
    return make(Status.DROPPED)


def round_trip(visit, received):
    """A verdict for each cookie issued to this browser, against what it sent now."""
    return [verdict(c, received, visit.context, now=visit.at) for c in visit.latest_issued()]


def next_change(visit):
    """
    When the clock alone next changes a verdict of ``round_trip(visit, ...)``:
    a cookie expires, or leaves the two minutes in which a cookie without
    SameSite still rides a cross-site POST. None: never.
    """
    moments = []
    for cookie in visit.latest_issued():
        if cookie.expires_at is not None:
            moments.append(cookie.expires_at)
        if cookie.issued_at is not None:
            moments.append(cookie.issued_at + LAX_ALLOWING_UNSAFE)
    return min((m for m in moments if m > visit.at), default=None)


def visitor_round_trip(visitor, issued):
    """
    The verdicts as of the visitor's latest logged request, for the admin:
    ``issued`` are the visitor's latest issued jar rows.
    """
    last = visitor.latest_request
    if last is None:
        return []
    received = {c.name: c.value for c in issued if c.present}
    context = rules.RequestContext(
        host=last.host or "localhost",
        path=last.path,
        fetch_site=last.fetch_site,
        method=last.method,
    )
    return [verdict(c, received, context, now=last.at) for c in issued]


def _withheld_cross_site(samesite, context, age=LAX_ALLOWING_UNSAFE):
    """Whether SameSite keeps the cookie off this request (RFC 6265bis §5.8.3)."""
    if context.fetch_site != "cross-site":
        return False
    if not samesite and context.engine == rules.Engine.FIREFOX:
        return False  # no Lax by default there: it rides every top-level request (matrix)
    if not samesite and context.method != "GET" and age < LAX_ALLOWING_UNSAFE:
        # Chromium's "Lax-allowing-unsafe": an unspecified SameSite cookie younger
        # than two minutes still goes with a cross-site top-level POST.
        return False
    applied = rules.SameSite.effective(samesite)
    return applied == rules.SameSite.STRICT or (
        applied == rules.SameSite.LAX and context.method != "GET"
    )
