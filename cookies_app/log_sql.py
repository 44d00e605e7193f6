"""
The log's raw statements: the ones every logged request runs, in SQL written
here because building them through the ORM cost more than the database's
own work (each is measured in the README's figures). Identifiers come from the
models through quote_name; values are always parameters.
"""

from datetime import UTC
from functools import cache

from django.db import connection, transaction

from .jar_versions import VERSIONS
from .models import JarCookie, Request, Visitor

JAR_FIELDS = [
    f.name
    for f in JarCookie._meta.concrete_fields
    if f.name not in ("id", "visitor", "name", "domain", "path")
]


REQUEST_FIELDS = [f for f in Request._meta.concrete_fields if f.name != "id"]


def insert_requests(requests):
    """
    The requests' rows, ids set. One logged request (the server's case) is one
    raw INSERT: through bulk_create it cost more than the database's work.
    """
    if len(requests) != 1:
        Request.objects.bulk_create(requests)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in REQUEST_FIELDS)
    marks = ", ".join(["%s"] * len(REQUEST_FIELDS))
    table = quote(Request._meta.db_table)
    request = requests[0]
    values = [f.get_db_prep_save(f.pre_save(request, True), connection) for f in REQUEST_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", values)
        request.id = cursor.fetchone()[0]
    request._state.adding, request._state.db = False, connection.alias


def later_of(column, value):
    """
    SQL for the later of a time column (NULL counts as earliest) and ``value``
    (a placeholder or a column): times a request sets never move back, since
    requests may be written out of order.
    """
    column = connection.ops.quote_name(column)
    return f"CASE WHEN {column} IS NULL OR {column} < {value} THEN {value} ELSE {column} END"


def update_visitor(visitor_id, fields):
    """
    One raw UPDATE (every logged request makes one; the ORM's took a third of
    the write path). last_logged never moves back: parallel requests finish out
    of order.
    """
    quote = connection.ops.quote_name
    at = connection.ops.adapt_datetimefield_value
    sets = [f"{quote('last_logged')} = {later_of('last_logged', '%s')}"]
    params = [at(fields["last_logged"]), at(fields["last_logged"])]
    if "latest_request_id" in fields:
        sets.append(f"{quote('latest_request_id')} = %s")
        params.append(fields["latest_request_id"])
    if "awaiting_request_id" in fields:
        sets += [f"{quote('awaiting_request_id')} = %s", f"{quote('awaiting_since')} = %s"]
        params += [fields["awaiting_request_id"], at(fields["awaiting_since"])]
    if "jar_digest" in fields:
        sets += [f"{quote('jar_digest')} = %s", f"{quote('carried')} = %s"]
        params += [fields["jar_digest"], fields["carried"]]
    jar_changed = fields.get("jar_changed")
    if jar_changed:
        sets.append(f"{quote('jar_version')} = {quote('jar_version')} + 1")
    table = quote(Visitor._meta.db_table)
    returning = " RETURNING jar_version" if jar_changed else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE id = %s{returning}", [*params, visitor_id]
        )
        found = cursor.fetchone() if jar_changed else None
    if found:
        version = found[0]
        # This process's own pages know at once (the notice comes a moment later).
        transaction.on_commit(lambda: VERSIONS.note(visitor_id, version))


def update_jar_rows(rows):
    """
    One UPDATE statement, run for each row: bulk_update would build a CASE WHEN
    per row and field (26 fields), milliseconds of Python a row. (Not
    executemany: the debug toolbar's SQL panel fails on it in development.)
    """
    quote = connection.ops.quote_name
    columns = [JarCookie._meta.get_field(name) for name in JAR_FIELDS]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    sql = f"UPDATE {quote(JarCookie._meta.db_table)} SET {sets} WHERE id = %s"
    with connection.cursor() as cursor:
        for row in rows:
            values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns]
            cursor.execute(sql, [*values, row.id])


def take_order(visit):
    """
    Under the visitor's lock: (this request's logged order, when the latest
    logged request came, the request whose lines await a verdict and when its
    response was logged), or None when the visitor is gone. A request not
    counted when it came (the background writer's) takes its number here.
    """
    visitor = visit.visitor
    table = connection.ops.quote_name(Visitor._meta.db_table)
    sets = "logged = logged + 1"
    params = [visitor.id]
    if not visit.seq:
        at = connection.ops.adapt_datetimefield_value(visit.at)
        sets += f", requests = requests + 1, last_seen = {later_of('last_seen', '%s')}"
        params[:0] = [at, at]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} WHERE id = %s "
            "RETURNING logged, last_logged, awaiting_request_id, awaiting_since, requests, "
            "jar_digest, carried",
            params,
        )
        found = cursor.fetchone()
    if found is None:
        return None
    order, previous, awaiting, since, requests, digest, carried = found
    if not visit.seq:
        visit.seq = requests
        # When the browser was last here: a cookie missing now was last seen then.
        visitor.previous_seen = aware_datetime(previous)
    return order, aware_datetime(previous), awaiting, aware_datetime(since), digest, carried


def datetime_adapter(db):
    """
    ``db.ops.adapt_datetimefield_value``, at a fraction of its cost for the
    times the log writes: aware, in UTC. On SQLite (in UTC, as Django keeps
    it unless told otherwise) that is the text of the naive time, which the
    adapter reaches through three time-zone checks a value.
    """
    adapt = db.ops.adapt_datetimefield_value
    if db.vendor != "sqlite" or db.timezone is not UTC:
        return adapt

    def adapt_utc(value):
        if value is not None and value.tzinfo is UTC:
            return str(value.replace(tzinfo=None))
        return adapt(value)

    return adapt_utc


def aware_datetime(value):
    """A datetime read by raw SQL as the ORM would give it (SQLite's are naive)."""
    if value is None or getattr(value, "tzinfo", None) is not None:
        return value  # PostgreSQL's are aware already
    # The ORM's own converter makes SQLite's aware.
    db = transaction.get_connection()
    return db.ops.convert_datetimefield_value(value, None, db)


def from_rows(model, attnames, rows):
    """
    Instances of ``model`` from raw rows of the columns of ``attnames`` (in
    the model's field order, as Model.from_db takes them), each
    value converted as the ORM converts it (SQLite's text datetimes and 0/1
    booleans): a tenth of the cost of a RawQuerySet, which works the
    converters out again for every query.
    """
    attnames = tuple(attnames)
    db = transaction.get_connection()  # once: each use of the proxy looks it up
    converters = _converters(model, attnames, db.alias)
    instances = []
    for row in rows:
        values = list(row)
        for index, column, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], column, db)
        instances.append(model.from_db(db.alias, attnames, values))
    return instances


@cache
def _converters(model, attnames, alias):
    """(index, column, converters) for each column that has converters (the compiler's own)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    found = []
    for index, attname in enumerate(attnames):
        field = fields[attname]
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            found.append((index, column, functions))
    return found
