"""Reading a visitor's jar: a few bounded queries, whatever the history."""

from django.conf import settings

from .models import JarCookie
from .site_cookies import reserved_names

# The verdict table shows at most this many of the latest issued cookies.
LATEST_ISSUED = 50


def load_jar(visitor, names):
    """
    {id: row} from three bounded reads: the rows named in this request (an
    index lookup by visitor and name), the rows present last time (a partial
    index), the latest issued (an index, with a LIMIT).
    """
    jar = JarCookie.objects.filter(visitor=visitor)
    rows = {}
    if names:
        rows.update((r.id, r) for r in jar.filter(name__in=names))
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
