"""What the lab page shows: plain functions the views call."""

import uuid
from email.utils import parsedate_to_datetime

from django.conf import settings

from . import rules, verdicts
from .cookie_log import stored_value
from .decorators import valid_visitor_id
from .export import KnownCookie
from .models import IssuedCookie, ReceivedCookie
from .signed import looks_signed, signed_cookies
from .text import byte_size

DEFAULT_COOKIE = ("username", "root")


def reserved_names():
    """The site's own cookies, which the lab never sets, overwrites or deletes."""
    return frozenset(
        {
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
            settings.COOKIE_LAB_VISITOR_COOKIE,
        }
    )


def visitor_id(request):
    """This browser's visitor id, or "" when it has none (yet)."""
    log = getattr(request, "cookie_log", None)
    if log is not None:
        return log.visitor_id
    return valid_visitor_id(request.COOKIES.get(settings.COOKIE_LAB_VISITOR_COOKIE, ""))


def rules_context(request):
    """What the rules need to know about this request and browser."""
    received = frozenset(request.COOKIES)
    httponly = frozenset()
    visitor = visitor_id(request)
    if visitor and received:
        # The log knows which of the cookies this browser holds were issued HttpOnly.
        httponly = frozenset(
            IssuedCookie.objects.for_visitor(visitor)
            .filter(httponly=True, name__in=received)
            .values_list("name", flat=True)
            .distinct()
        )
    return rules.RequestContext(
        scheme=request.scheme,
        host=request.get_host(),
        path=request.path,
        reserved_names=reserved_names(),
        received_names=received,
        httponly_names=httponly,
        fetch_site=request.headers.get("Sec-Fetch-Site", ""),
        method=request.method,
    )


def received_cookies(request):
    """request.COOKIES as table rows, in the order the browser sent them."""
    reserved = {name.lower() for name in reserved_names()}
    return [
        {
            "name": name,
            "value": value,
            "size": byte_size(name) + byte_size(value),
            "reserved": name.lower() in reserved,
        }
        for name, value in request.COOKIES.items()
    ]


def sent_cookies(request, context):
    """
    The Set-Cookie lines of the response named by ``?sent=<request id>``, read
    back from the log for this visitor only, each with the rules' findings.
    None when nothing is asked.
    """
    raw = request.GET.get("sent")
    if raw is None:
        return None
    try:
        request_id = uuid.UUID(raw)
    except ValueError:
        return []
    rows = (
        IssuedCookie.objects.of_request(request_id)
        .for_visitor(visitor_id(request))
        .exclude(name=settings.COOKIE_LAB_VISITOR_COOKIE)
        .order_by("id")
    )
    return [
        {
            "line": f"Set-Cookie: {row.header}",
            "findings": [
                f for f in rules.evaluate(proposed_from_log(row), context) if f.severity != "info"
            ],
        }
        for row in rows
    ]


def proposed_from_log(row):
    """The cookie a log row describes, as the rules module takes it."""
    value = row.value
    if row.redacted or row.truncated:
        # Only the size matters to the rules once the value is not kept.
        value = "x" * max(0, row.size - byte_size(row.name))
    expires = None
    if row.expires and row.max_age is None:
        expires = parsedate_to_datetime(row.expires)
    return rules.ProposedCookie(
        name=row.name,
        value=value,
        max_age=row.max_age,
        expires=expires,
        path=row.cookie_path,
        domain=row.domain,
        secure=bool(row.secure),
        httponly=bool(row.httponly),
        samesite=row.samesite,
        partitioned=bool(row.partitioned),
    )


def check_result(form):
    """The JSON answer of the live check: the same rules the form applies."""
    valid = form.is_valid()
    findings = form.findings
    return {
        "source": str(form.source),
        "verdict": rules.worst(findings),
        "blocked": not valid,
        "findings": [f.as_dict() for f in findings],
        "errors": {field: list(messages) for field, messages in form.errors.items()},
    }


def is_env_cookie(name):
    """The lab's own cookies, which httpbin-style answers leave out by default."""
    return name.lower() in {n.lower() for n in reserved_names()}


def known_cookies(request, include_env=False):
    """The browser's cookies as the server knows them, for export."""
    names = [n for n in request.COOKIES if include_env or not is_env_cookie(n)]
    issued = latest_issues(visitor_id(request), names)
    host = rules.host_without_port(request.get_host())
    return [_known(name, request.COOKIES[name], host, issued.get(name)) for name in names]


def _known(name, value, host, row):
    if row is None:
        # Set by JavaScript or another site: the server knows only name and value.
        return KnownCookie(name=name, value=value, host=host)
    expires_at = None
    if row.max_age is not None:
        expires_at = row.observed_at.timestamp() + row.max_age
    elif row.expires:
        try:
            expires_at = parsedate_to_datetime(row.expires).timestamp()
        except (TypeError, ValueError):
            expires_at = None
    return KnownCookie(
        name=name,
        value=value,
        host=host,
        domain=row.domain,
        path=row.cookie_path or "/",
        secure=bool(row.secure),
        httponly=bool(row.httponly),
        samesite=row.samesite,
        expires_at=expires_at,
    )


def signed_cookie_statuses(request, salt=None, max_age=None):
    """
    Each received signed cookie's status. Without a ``salt``, each is checked
    with the salt the log says it was issued with.
    """
    if salt is not None:
        return signed_cookies(request, salt=salt, max_age=max_age)
    candidates = [n for n, v in request.COOKIES.items() if looks_signed(v)]
    issued = latest_issues(visitor_id(request), candidates)
    salts = {name: row.salt for name, row in issued.items()}
    return signed_cookies(request, salts=salts, max_age=max_age)


ROUND_TRIP_NAMES = 50


def latest_issues(visitor, names=None, before=None, limit=None):
    """
    The newest issued log row per cookie name for a visitor: {name: row}.
    Only ``names`` if given, else every name but the lab's own.
    """
    if not visitor or names == []:
        return {}
    rows = IssuedCookie.objects.for_visitor(visitor).order_by("-observed_at", "-id")
    if names is not None:
        rows = rows.filter(name__in=list(names))
    else:
        rows = rows.exclude(name__in=reserved_names())
    if before is not None:
        rows = rows.filter(observed_at__lt=before)
    latest = {}
    for row in rows.iterator(chunk_size=200):
        if row.name not in latest:
            latest[row.name] = row
            if len(latest) == limit:
                break
    return latest


def round_trip(request, context):
    """A verdict for each cookie issued to this browser, against what it sent now."""
    received = {name: stored_value(name, value)[0] for name, value in request.COOKIES.items()}
    issued = latest_issues(visitor_id(request), limit=ROUND_TRIP_NAMES)
    return [
        verdicts.verdict(row, received, context, proposed_from_log(row)) for row in issued.values()
    ]


def visitor_round_trip(visitor):
    """The verdicts as of the visitor's latest logged request, for the admin."""
    last = (
        ReceivedCookie.objects.for_visitor(visitor)
        .order_by("-observed_at", "-id")
        .values("request_id", "host", "path", "observed_at")
        .first()
    )
    if last is None:
        return []
    received = dict(
        ReceivedCookie.objects.of_request(last["request_id"]).values_list("name", "value")
    )
    context = rules.RequestContext(host=last["host"] or "localhost", path=last["path"])
    return [
        verdicts.verdict(row, received, context, proposed_from_log(row), now=last["observed_at"])
        for row in latest_issues(
            visitor, before=last["observed_at"], limit=ROUND_TRIP_NAMES
        ).values()
    ]
