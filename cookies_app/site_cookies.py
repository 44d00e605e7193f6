"""The site's own cookies: session, CSRF and visitor id, which the lab never touches."""

from functools import lru_cache

from django.conf import settings


def reserved_names():
    """The site's own cookies, which the lab never sets, overwrites or deletes."""
    return _frozen(
        settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.COOKIE_LAB_VISITOR_COOKIE
    )


def is_env_cookie(name):
    """The lab's own cookies, which httpbin-style answers leave out by default."""
    return name.lower() in env_names()


def env_names():
    """reserved_names() in lower case, as is_env_cookie compares them."""
    return _lowered(reserved_names())


# Asked for every cookie of every request: made once per set of names (a
# test that changes the settings gets its own).
@lru_cache(maxsize=16)
def _frozen(*names):
    return frozenset(names)


@lru_cache(maxsize=16)
def _lowered(names):
    return frozenset(name.lower() for name in names)
