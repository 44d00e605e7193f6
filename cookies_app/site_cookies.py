"""The site's own cookies: session, CSRF and visitor id, which the lab never touches."""

from django.conf import settings


def reserved_names():
    """The site's own cookies, which the lab never sets, overwrites or deletes."""
    return frozenset(
        {
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
            settings.COOKIE_LAB_VISITOR_COOKIE,
        }
    )


def is_env_cookie(name):
    """The lab's own cookies, which httpbin-style answers leave out by default."""
    return name.lower() in {n.lower() for n in reserved_names()}
