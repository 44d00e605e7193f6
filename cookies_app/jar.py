"""Reading a visitor's jar: a few bounded queries, whatever the history."""

from django.conf import settings
from django.db.models import Q

from .models import JarCookie
from .site_cookies import reserved_names

# The verdict table shows at most this many of the latest issued cookies.
LATEST_ISSUED = 50
# Rows read for the names a request carries: a few per name on average.
NAMED_LIMIT = 256


def load_jar(visitor, names, identities=()):
    """
    {id: row} from bounded reads: the rows named in this request (an index
    lookup by visitor and name, the likeliest first, with a LIMIT: a page can
    plant many Paths under one name), the exact cookies it sets (the unique
    index), the rows present last time (a partial index) and the latest issued
    (an index, with a LIMIT).
    """
    jar = JarCookie.objects.filter(visitor=visitor)
    rows = {}
    if names:
        named = jar.filter(name__in=names).order_by("-present", "-issued_at", "-id")
        rows.update((r.id, r) for r in named[:NAMED_LIMIT])
    if identities:
        exact = Q()
        for name, domain, path in identities:
            exact |= Q(name=name, domain=domain, path=path)
        rows.update((r.id, r) for r in jar.filter(exact))
    rows.update((r.id, r) for r in jar.filter(present=True)[: settings.COOKIE_LAB_LOG_MAX_COOKIES])
    rows.update((r.id, r) for r in jar.issued().order_by("-issued_at")[:LATEST_ISSUED])
    for row in rows.values():
        row.visitor = visitor
    return rows


# "Forget me" expires at most this many cookies in one response.
FORGET_LIMIT = 100


def forgettable_cookies(visitor):
    """The cookies the lab issued to ``visitor`` and may expire: not the site's own."""
    return list(
        JarCookie.objects.filter(visitor=visitor)
        .issued()
        .filter(deleted_at=None)
        .exclude(name__in=reserved_names())
        .order_by("-issued_at")[:FORGET_LIMIT]
    )
