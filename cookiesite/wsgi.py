"""WSGI entry point. Production by default: DJANGO_SECRET_KEY must be set."""

import os

from django.core.exceptions import BadRequest
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cookiesite.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

django_application = get_wsgi_application()


def application(environ, start_response):
    """
    Django's application, with two differences. Django reads the Content-Type
    while it builds the request, before any middleware: one it cannot parse
    (``charset*=bogus''x``), or a charset that names a codec that is not a
    text encoding (rot13, base64, zlib), would escape as a 500; here it is a
    400. And a body Django holds in memory goes out as one list.
    """
    try:
        response = django_application(environ, start_response)
    except (BadRequest, LookupError, UnicodeError, TypeError) as error:
        why = str(error) if isinstance(error, BadRequest) else "Its charset is no text encoding."
        start_response(
            "400 Bad Request",
            [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
        )
        return [
            f"Bad Request: {why} Send a Content-Type without a charset, or with "
            "charset=utf-8.\n".encode()
        ]
    if isinstance(response, HttpResponse):
        # A body in memory, handed over as one list: an app server sends a
        # list in one write, but walks any other iterable a chunk at a time
        # (granian: a fifth of an /api/cookies request, measured). Closing the
        # response is what the server would do after sending it, and is when
        # Django ends the request (request_finished).
        body = [response.content]
        response.close()
        return body
    return response
