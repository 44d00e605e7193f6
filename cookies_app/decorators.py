import re
import uuid
from datetime import timedelta
from functools import wraps

from django.conf import settings

from . import cookie_log

VISITOR_ID = re.compile(r"[0-9a-f]{32}")
VISITOR_MAX_AGE = timedelta(days=365)


def valid_visitor_id(raw):
    """``raw`` if it is a visitor id this site could have issued, else ""."""
    return raw if VISITOR_ID.fullmatch(raw) else ""


def logs_cookies(view):
    """
    Log what the request brought and what the response issued, per visitor.

    The view finds its log context on ``request.cookie_log``. A browser without
    a valid visitor id gets one with the first successful response, so its
    history groups together in the admin.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        visitor_id = valid_visitor_id(request.COOKIES.get(settings.COOKIE_LAB_VISITOR_COOKIE, ""))
        is_new = not visitor_id
        if is_new:
            visitor_id = uuid.uuid4().hex
        request.cookie_log = cookie_log.RequestInfo.from_request(request, visitor_id)
        response = view(request, *args, **kwargs)
        if is_new and response.status_code < 400:
            response.set_cookie(
                settings.COOKIE_LAB_VISITOR_COOKIE,
                visitor_id,
                max_age=VISITOR_MAX_AGE,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        cookie_log.record(request.cookie_log, request, response)
        return response

    return wrapped
