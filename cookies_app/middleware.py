"""Refuse form posts Django cannot decode, before the CSRF check reads them.

Django 6.1 decodes application/x-www-form-urlencoded bodies as UTF-8 only and
raises BadRequest when the Content-Type names another charset. The first to
read request.POST is CsrfViewMiddleware, so the BadRequest leaves its
process_view; Django then renders the 400 page with views.defaults.bad_request,
whose @requires_csrf_token runs the same check, reads request.POST again and
raises again, this time out of the error handler: the server answers 500.
Answering here, before any of that reads the body, gives a plain 400.
"""

import codecs
import logging

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.db import DataError, OperationalError
from django.http import HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError

logger = logging.getLogger(__name__)
ADMIN_PREFIX = "/admin/"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# What Django compares the declared charset with, letter for letter.
UTF8 = "utf-8"
# Enough of a declared charset to recognise it in the message, never more.
CHARSET_SHOWN = 40


def is_utf8(charset):
    """True for any name Python knows as UTF-8 ("utf-8", "UTF8", "utf_8", "u8")."""
    try:
        return codecs.lookup(charset).name == UTF8
    except (LookupError, ValueError):
        return False


def non_utf8_form_response(charset):
    shown = ascii(charset[:CHARSET_SHOWN])
    return HttpResponseBadRequest(
        f"Bad Request: form posts must be UTF-8, and this one declared charset={shown}. "
        f"Send Content-Type: {FORM_CONTENT_TYPE} with no charset, or with "
        "charset=utf-8.\n",
        content_type="text/plain; charset=utf-8",
    )


class FormCharsetMiddleware:
    """400 for a urlencoded POST in another (or an unknown) charset.

    A declared UTF-8 under another spelling ("UTF8", "utf_8") is the same
    encoding, so the request goes on with the one spelling Django accepts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
            charset = request.content_params.get("charset")
            if charset is not None:
                if not is_utf8(charset):
                    # Django's own mark for a body it will not parse: whatever
                    # reads request.POST after this (the debug toolbar, an error
                    # reporter) finds it empty instead of raising again.
                    request._mark_post_parse_error()
                    return non_utf8_form_response(charset)
                request.encoding = UTF8
        return self.get_response(request)


class MultipartErrorMiddleware:
    """
    400 for a multipart POST Django cannot parse (no boundary, a broken body).
    Read here, before CSRF: otherwise the error escapes from the 404 and 403
    views, whose own CSRF check reads request.POST again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 (parsing is the point)
            except MultiPartParserError as error:
                request._mark_post_parse_error()
                return plain_bad_request(
                    f"Bad Request: the multipart body cannot be read ({error}). "
                    "Send the form as application/x-www-form-urlencoded, or multipart "
                    "with a boundary."
                )
        return self.get_response(request)


class AdminQueryErrorMiddleware:
    """
    400 instead of 500 when an admin URL asks the database for something it
    cannot answer: a year past 9999, a malformed range, a NUL byte on
    PostgreSQL, an invalid regex. The admin passes such lookups through from
    the query string; its lists render after the view returns, so the error
    surfaces here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith(ADMIN_PREFIX) or not is_query_error(exception):
            return None
        logger.info("Admin query refused: %s %r", request.get_full_path(), exception)
        return plain_bad_request(
            "Bad Request: this list cannot be filtered that way "
            f"({type(exception).__name__}). Remove the filter from the URL and try again."
        )


def is_query_error(exception):
    if isinstance(exception, (ValueError, OverflowError, IndexError, TypeError, DataError)):
        return True
    # SQLite reports a Python error inside its REGEXP function this way.
    return isinstance(exception, OperationalError) and "user-defined function" in str(exception)


def plain_bad_request(message):
    response = HttpResponseBadRequest(message + "\n", content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


class AdminOnly:
    """
    Sessions, users and messages are the admin's alone: the lab, its API and
    the matrix never read them. Elsewhere a request passes straight on,
    without the session store, user and message storage each middleware
    builds (together a fifth of an /api/cookies request, measured). They stay
    subclasses of Django's, so the admin's checks find them in MIDDLEWARE.
    """

    def __call__(self, request):
        if request.path_info.startswith(ADMIN_PREFIX):
            return super().__call__(request)
        return self.get_response(request)


class SessionMiddleware(AdminOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(AdminOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(AdminOnly, messages.MessageMiddleware):
    pass
