"""Reading a visitor's jar: a few bounded queries, whatever the history."""

from functools import cache

from django.conf import settings
from django.db import connection

from .log_sql import from_rows
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

    One statement, the four reads joined by UNION (a row two reads find
    comes once), in raw SQL: every
    logged request reads its jar, and building these four queries through the
    ORM cost ten times the database's own work.
    """
    quote = connection.ops.quote_name
    table, columns = _table(), _columns()

    def part(where, order="", limit=None):
        tail = f" ORDER BY {order}" if order else ""
        tail += f" LIMIT {int(limit)}" if limit else ""
        return f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where}{tail}) AS part"

    visitor_is = f"{quote('visitor_id')} = %s"
    parts, params = [], []
    if names:
        marks = ", ".join(["%s"] * len(names))
        # NULLS LAST: a cookie never issued is the least likely; both databases
        # then keep the same rows under the LIMIT.
        order = f"{quote('present')} DESC, {quote('issued_at')} DESC NULLS LAST, {quote('id')} DESC"
        parts.append(part(f"{visitor_is} AND {quote('name')} IN ({marks})", order, NAMED_LIMIT))
        params += [visitor.id, *names]
    if identities:
        one = " AND ".join(f"{quote(c)} = %s" for c in ("name", "domain", "path"))
        exact = " OR ".join([f"({one})"] * len(identities))
        parts.append(part(f"{visitor_is} AND ({exact})"))
        params += [visitor.id, *(value for identity in identities for value in identity)]
    present = settings.COOKIE_LAB_LOG_MAX_COOKIES
    parts.append(part(f"{visitor_is} AND {quote('present')}", limit=present))
    issued = f"{visitor_is} AND {quote('issued_at')} IS NOT NULL"
    parts.append(part(issued, f"{quote('issued_at')} DESC", LATEST_ISSUED))
    params += [visitor.id, visitor.id]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(parts), params)
        found = from_rows(JarCookie, _attnames(), cursor.fetchall())
    rows = {}
    for row in found:
        row.visitor = visitor
        rows.setdefault(row.id, row)
    return rows


@cache
def _table():
    return connection.ops.quote_name(JarCookie._meta.db_table)


@cache
def _attnames():
    return [f.attname for f in JarCookie._meta.concrete_fields]


@cache
def _columns():
    return ", ".join(connection.ops.quote_name(f.column) for f in JarCookie._meta.concrete_fields)


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
