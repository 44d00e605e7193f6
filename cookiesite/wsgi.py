"""WSGI entry point. Production by default: DJANGO_SECRET_KEY must be set."""

import os

from django.core.exceptions import BadRequest
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cookiesite.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

django_application = get_wsgi_application()


def application(environ, start_response):
    """
    Django reads the Content-Type while it builds the request, before any
    middleware: one it cannot parse (``charset*=bogus''x``), or a charset that
    names a codec that is not a text encoding (rot13, base64, zlib), escapes
    as a 500.
    """
    try:
        return django_application(environ, start_response)
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
