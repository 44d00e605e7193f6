"""The site's own cookies: session, CSRF and visitor id, which the lab never touches."""

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

NAME_SETTINGS = frozenset({"SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "COOKIE_LAB_VISITOR_COOKIE"})


# Asked for every cookie of every request: made once, and again when a test
# changes one of the names (setting_changed).
@cache
def reserved_names():
    """The site's own cookies, which the lab never sets, overwrites or deletes."""
    return frozenset(getattr(settings, name) for name in NAME_SETTINGS)


@cache
def env_names():
    """reserved_names() in lower case, as is_env_cookie compares them."""
    return frozenset(name.lower() for name in reserved_names())


def is_env_cookie(name):
    """The lab's own cookies, which httpbin-style answers leave out by default."""
    return name.lower() in env_names()


@receiver(setting_changed)
def _names_changed(*, setting, **kwargs):
    if setting in NAME_SETTINGS:
        reserved_names.cache_clear()
        env_names.cache_clear()
