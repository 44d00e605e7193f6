from datetime import timedelta
from functools import wraps

from django.conf import settings

from . import log_writer, visit

VISITOR_MAX_AGE = timedelta(days=365)


def with_visit(view):
    """Give the view ``request.visit`` (see ``visit.Visit``) without logging anything."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.visit = visit.build(request, log=False)
        return view(request, *args, **kwargs)

    return wrapped


def logs_cookies(view):
    """
    Log what the request brought and what the response issued, per visitor.

    The view finds the request's state on ``request.visit``, built once. A
    browser without a valid visitor id gets one with the first successful
    response, so its history groups together.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        how = log_writer.mode(request)
        request.visit = visit.build(request, log=how != "off", count=how == "inline")
        response = view(request, *args, **kwargs)
        if request.visit.is_new and response.status_code < 400:
            response.set_cookie(
                settings.COOKIE_LAB_VISITOR_COOKIE,
                request.visit.key,
                max_age=VISITOR_MAX_AGE,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        log_writer.log(request.visit, response, how)
        return response

    return wrapped
