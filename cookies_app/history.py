"""Reading the log's history: bounded lookups for the lab and the admin."""

from email.utils import parsedate_to_datetime

from django.conf import settings

from . import rules
from .models import CookieChange, JarCookie, Request
from .verdicts import logged_value


def sent_lines(visit, seq_text):
    """
    The Set-Cookie lines of this visitor's request number ``seq_text`` (the
    lab's ``?sent=``), each with the rules' findings. None when nothing is asked.
    """
    if seq_text is None:
        return None
    # ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
    valid = seq_text.isascii() and seq_text.isdigit() and len(seq_text) <= 10
    if visit.visitor is None or not valid:
        return []
    request = Request.objects.filter(visitor=visit.visitor, seq=int(seq_text)).first()
    if request is None:
        return []
    changes = (
        CookieChange.objects.set_cookie_lines()
        .filter(request=request)
        .exclude(cookie__name=settings.COOKIE_LAB_VISITOR_COOKIE)
        .select_related("cookie")
        .order_by("id")
    )
    return [
        {
            "name": change.cookie.name,
            "line": f"Set-Cookie: {change.header}",
            "findings": [
                f
                for f in rules.evaluate(line_cookie(change), visit.context)
                if f.severity != rules.Severity.INFO
            ],
        }
        for change in changes
    ]


def line_cookie(change):
    """The cookie one logged Set-Cookie line describes, as the rules take it."""
    cookie = change.cookie
    return rules.ProposedCookie(
        name=cookie.name,
        value=logged_value(cookie.name, change.value, change.size),
        max_age=change.max_age,
        expires=_when(change.expires) if change.max_age is None else None,
        path=cookie.path,
        domain=cookie.domain,
        secure=bool(change.secure),
        httponly=bool(change.httponly),
        samesite=change.samesite,
        partitioned=bool(change.partitioned),
    )


def carried(request):
    """The jar rows a logged request carried, from its compact record."""
    return list(JarCookie.objects.filter(id__in=request.carried_ids).order_by("name"))


def _when(http_date):
    try:
        return parsedate_to_datetime(http_date) if http_date else None
    except (TypeError, ValueError, OverflowError):
        return None
