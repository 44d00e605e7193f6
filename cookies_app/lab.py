"""What the lab page shows: plain functions the views call."""

import uuid

from django.conf import settings

from . import rules
from .cookie_log import byte_size
from .models import IssuedCookie

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


def rules_context(request):
    return rules.RequestContext(
        scheme=request.scheme,
        host=request.get_host(),
        path=request.path,
        reserved_names=reserved_names(),
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


def sent_headers(request):
    """
    The Set-Cookie lines of the response named by ``?sent=<request id>``, read
    back from the log, for this visitor only. None when nothing is asked.
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
        .for_visitor(request.cookie_log.visitor_id)
        .exclude(name=settings.COOKIE_LAB_VISITOR_COOKIE)
        .order_by("id")
    )
    return [f"Set-Cookie: {header}" for header in rows.values_list("header", flat=True)]
