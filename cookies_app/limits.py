"""Flood caps: how much of a request's Cookie header the lab accepts and shows."""

from django.conf import settings
from django.http import HttpResponse

# RFC 6585: the request's header fields are too large.
REQUEST_HEADER_FIELDS_TOO_LARGE = 431
# Browsers keep about 180 cookies a site of at most 4 KiB each; a header past
# this is a flood, not a jar (and would cost every page that renders it).
DEFAULT_MAX_COOKIE_HEADER = 64 * 1024
DEFAULT_MAX_COOKIES_SHOWN = 200


def max_cookie_header():
    return getattr(settings, "COOKIE_LAB_MAX_COOKIE_HEADER", DEFAULT_MAX_COOKIE_HEADER)


def max_cookies_shown():
    return getattr(settings, "COOKIE_LAB_MAX_COOKIES_SHOWN", DEFAULT_MAX_COOKIES_SHOWN)


def shown(cookies):
    """(the first cookies a page or answer shows, how many were left out)."""
    limit = max_cookies_shown()
    items = list(cookies.items())
    return dict(items[:limit]), max(0, len(items) - limit)


class CookieHeaderLimitMiddleware:
    """Answer 431 to a Cookie header over the limit, before anything parses it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        size = len(request.META.get("HTTP_COOKIE", ""))
        limit = max_cookie_header()
        if size > limit:
            response = HttpResponse(
                f"Request Header Fields Too Large: the Cookie header is {size} bytes and "
                f"Cookie Lab accepts at most {limit}. Clear this site's cookies in your "
                "browser (or send fewer with your client) and try again.\n",
                status=REQUEST_HEADER_FIELDS_TOO_LARGE,
                content_type="text/plain; charset=utf-8",
            )
            response["X-Content-Type-Options"] = "nosniff"
            return response
        return self.get_response(request)
