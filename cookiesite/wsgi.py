"""WSGI entry point. Production by default: DJANGO_SECRET_KEY must be set."""

import os

from django.core.exceptions import BadRequest
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cookiesite.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

django_application = get_wsgi_application()


def application(environ, start_response):
    """
    Django parses the Content-Type while it builds the request, before any
    middleware: one it cannot parse (``charset*=bogus''x``) escapes as a 500.
    """
    try:
        return django_application(environ, start_response)
    except BadRequest as error:
        start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"Bad Request: {error} Send a plain one, such as text/plain.\n".encode()]
