"""
Round-trip verdicts: what the server issued (the log) against what came back.

For each cookie issued to a visitor, the latest issue is compared with the
cookies the browser sent on this request, and the rules module supplies the
likely reason when the browser dropped one.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from . import rules

LAX_ALLOWING_UNSAFE = timedelta(minutes=2)

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
    KEPT: "The browser stored it and sent it back.",
    KEPT_HIDDEN: "Sent back, but HttpOnly keeps it out of document.cookie.",
    REPLACED: "A cookie of this name came back with another value: something (JavaScript, "
    "another response, another Path) replaced or shadowed it.",
    NOT_SENT_HERE: "Its Path does not cover this page, so the browser keeps it but does not "
    "send it here.",
    NOT_SENT_HOST: "Its Domain does not cover this host, so it is not sent here.",
    NOT_SENT_CROSS_SITE: "You came here from another site (Sec-Fetch-Site: cross-site): "
    "SameSite=Strict cookies stay home, and Lax ones go only with top-level GET "
    "navigations. The browser still has it.",
    EXPIRED: "Its lifetime is over (or it was a deletion): the browser no longer has it.",
    DELETION_IGNORED: "The deletion was sent, yet a cookie of this name still came back: "
    "Path or Domain of the deletion did not match the stored cookie.",
    DROPPED: "Issued, still within its lifetime and in scope, but not sent back.",
}


@dataclass(frozen=True)
class Verdict:
    name: str
    status: str
    explanation: str
    issued_at: datetime
    header: str
    reasons: list = field(default_factory=list)  # rules findings, when dropped


def expiry(row):
    """When the issued cookie stops living, or None for a session cookie."""
    if row.max_age is not None:
        return row.observed_at + timedelta(seconds=row.max_age)
    if row.expires:
        try:
            return parsedate_to_datetime(row.expires)
        except (TypeError, ValueError):
            return None
    return None


def path_matches(request_path, cookie_path):
    """RFC 6265bis §5.1.4."""
    cookie_path = cookie_path or "/"
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def verdict(row, received, context, proposed, now=None):
    """
    The verdict for one issued log ``row``. ``received`` maps names to values
    in the log's form (so redacted values compare by their keyed hash).
    """
    now = now or datetime.now(UTC)
    ends = expiry(row)
    came_back = row.name in received

    def make(status, reasons=()):
        return Verdict(
            row.name, status, EXPLANATIONS[status], row.observed_at, row.header, list(reasons)
        )

    if ends is not None and ends <= now:
        return make(DELETION_IGNORED if came_back and ends <= row.observed_at else EXPIRED)
    if came_back:
        if received[row.name] != row.value:
            return make(REPLACED)
        return make(KEPT_HIDDEN if row.httponly else KEPT)
    if _withheld_cross_site(row.samesite, context, age=now - row.observed_at):
        return make(NOT_SENT_CROSS_SITE)
    host = rules.host_without_port(context.host)
    if row.domain and not rules.domain_matches(host, row.domain.lstrip(".").lower()):
        return make(NOT_SENT_HOST)
    if not path_matches(context.path, row.cookie_path):
        return make(NOT_SENT_HERE)
    # The browser judged the cookie where it was issued.
    findings = rules.evaluate(proposed, replace(context, path=row.path, received_names=frozenset()))
    return make(DROPPED, [f for f in findings if f.severity == rules.Severity.ERROR])


def _withheld_cross_site(samesite, context, age=LAX_ALLOWING_UNSAFE):
    """Whether SameSite keeps the cookie off this request (RFC 6265bis §5.8.3)."""
    if context.fetch_site != "cross-site":
        return False
    if not samesite and context.method != "GET" and age < LAX_ALLOWING_UNSAFE:
        # Chromium's "Lax-allowing-unsafe": an unspecified SameSite cookie younger
        # than two minutes still goes with a cross-site top-level POST.
        return False
    samesite = (samesite or "lax").lower()  # unspecified behaves as Lax
    return samesite == "strict" or (samesite == "lax" and context.method != "GET")
