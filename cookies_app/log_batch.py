"""
The background writer's batch: many requests in one transaction, and the
common case -- a browser sending the same cookies to the same page again --
in a fixed number of statements whatever the batch size.

A batch's visitors are locked with one read (in id order: two server
processes never deadlock). A browser whose queued requests all match the
fingerprint of its latest logged one, with nothing to judge, issue or roll
back, changed nothing: its requests become rows of one multi-row INSERT (a
COPY on PostgreSQL) and its visitor row part of one UPDATE ... FROM for the
whole batch. Any other browser's requests go through the full write path
(``cookie_log.record_entry``) one by one, in order.

Fewer statements matter twice here: each costs a round trip, and in a server
process each hands Python's GIL to the request thread and waits to get it back.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from . import rollup
from .cookie_log import (
    fingerprint,
    received_names,
    record_entry,
    user_agents,
)
from .known_visitors import KNOWN
from .log_sql import REQUEST_FIELDS, aware_datetime, datetime_adapter, later_of
from .models import USER_AGENT_MAX, Visitor
from .text import capped

STATE_COLUMNS = (
    "id",
    "key",
    "logged",
    "requests",
    "last_logged",
    "awaiting_request_id",
    "awaiting_since",
    "jar_digest",
    "carried",
)


@dataclass
class VisitorState:
    """A visitor row as the batch found it, under its lock."""

    id: int
    key: str
    logged: int
    requests: int
    last_logged: datetime | None
    awaiting_request_id: int | None
    awaiting_since: datetime | None
    jar_digest: str
    carried: str


def record_batch(entries):
    """Log ``log_writer.Entry`` items in one transaction; the tallies in one upsert."""
    groups = {}
    for entry in entries:
        # Queued requests take their numbers here: a failed attempt, rolled
        # back, must not leave its numbers on the retry's.
        entry.visit.seq = entry.visit.order = 0
        entry.visit.previous_at, entry.visit.late = None, False
        if entry.visit.visitor_id is not None:
            groups.setdefault(entry.visit.visitor_id, []).append(entry)
    tallies, agents = rollup.Tallies(), {}
    with transaction.atomic():
        states = _lock(sorted(groups))
        unchanged = []
        for visitor_id in sorted(groups):
            state = states.get(visitor_id)
            group = groups[visitor_id]
            if state is None or state.key != group[0].visit.key:
                # Forgotten meanwhile (its id maybe another's now, as SQLite
                # reuses one after a rolled-back insert): nothing to log
                # against, and the browser's next request here reads again.
                KNOWN.pop(group[0].visit.key)
                continue
            if _all_unchanged(state, group):
                unchanged.append((state, group))
            else:
                for e in group:
                    record_entry(e.visit, e.cookies, e.status, e.salts, tallies, agents)
        if unchanged:
            _save_unchanged(unchanged, tallies, agents)
        tallies.save()


def _lock(visitor_ids):
    """{id: VisitorState}: one read, taking every row's lock (SQLite's IMMEDIATE
    transaction holds the whole database already)."""
    if not visitor_ids:
        return {}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in STATE_COLUMNS)
    table = quote(Visitor._meta.db_table)
    if connection.vendor == "postgresql":
        # One array, not a placeholder an id: psycopg parses a query's
        # placeholders in Python, and a text that changes with the batch
        # size is never found in its cache.
        sql = f"SELECT {columns} FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
        params = [visitor_ids]
    else:
        marks = ", ".join(["%s"] * len(visitor_ids))
        sql = f"SELECT {columns} FROM {table} WHERE id IN ({marks}) ORDER BY id"
        params = visitor_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    states = {}
    for row in rows:
        state = VisitorState(*row)
        state.last_logged = aware_datetime(state.last_logged)
        state.awaiting_since = aware_datetime(state.awaiting_since)
        states[state.id] = state
    return states


def _all_unchanged(state, group):
    """
    Whether each of a browser's queued requests, in order, changes nothing:
    the fingerprint of its latest logged request, no response cookies, no
    lines ready for a verdict. Numbers them.
    """
    if not state.jar_digest:
        return False
    previous, numbers = state.last_logged, []
    for number, entry in enumerate(group, 1):
        visit = entry.visit
        ready = state.awaiting_request_id is not None and (
            state.awaiting_since is not None and visit.at > state.awaiting_since
        )
        # A request older than one logged already (another server process
        # wrote that first) is unchanged all the same when it sent the same:
        # it carried the same rows, and never moves the jar anyway.
        if entry.cookies or ready:
            return False
        if fingerprint(visit) != state.jar_digest:
            return False
        numbers.append((visit, state.requests + number, state.logged + number, previous))
        previous = visit.at if previous is None else max(previous, visit.at)
    # Only now, all being unchanged: the full path numbers requests itself.
    for visit, seq, order, previous in numbers:
        visit.seq, visit.order, visit.previous_at = seq, order, previous
    return True


def _save_unchanged(unchanged, tallies, agents):
    """The requests' rows in one statement, their visitors' rows in another."""
    texts = [capped(e.visit.user_agent, USER_AGENT_MAX) for _, group in unchanged for e in group]
    agents = user_agents(texts, agents)
    rows, visitors = [], []
    # Once a batch: each use of the connection proxy looks the connection up.
    adapt_at, zone = datetime_adapter(connection), timezone.get_current_timezone()
    for state, group in unchanged:
        for entry in group:
            visit = entry.visit
            agent, family = agents[capped(visit.user_agent, USER_AGENT_MAX)]
            rows.append(_row(visit, entry.status, agent, state.carried, adapt_at))
            names = _carried_names(visit)
            rollup.request_tallies(visit, family, names, [], [], into=tallies, zone=zone)
        last = group[-1].visit
        newest = max((e.visit for e in group), key=lambda v: v.at)
        # The latest request is the newest to come, not the last written: a
        # late one (another process wrote a newer request first) leaves it.
        moved = state.last_logged is None or newest.at >= state.last_logged
        visitors.append((state, last.seq, last.order, newest.at, newest.seq if moved else None))
    _insert(rows)
    _update_visitors(visitors)


def _carried_names(visit):
    """The names a request carried, as the log keeps them: only worked out when iterated
    (the tallies need them on a browser's first request of the day)."""
    yield from dict.fromkeys(received_names(visit.received))


def _row(visit, status, agent, carried, adapt_at):
    """A Request row's values as the database takes them (request_row's, without a model)."""
    values = {
        "visitor_id": visit.visitor_id,
        "seq": visit.seq,
        "at": adapt_at(visit.at),
        "method": visit.method,
        "host": visit.host,
        "path": visit.path,
        "status": status,
        "fetch_site": visit.fetch_site,
        "user_agent_id": agent,
        "carried": carried,
        "cookie_count": min(len(visit.received), 2**15 - 1),
    }
    return [values[f.attname] for f in REQUEST_FIELDS]


def _insert(rows):
    """
    The requests' rows in one statement. On SQLite one INSERT of many rows,
    not executemany: its module hands the GIL over at every row, and in a
    busy server each hand-over waits behind the request thread (measured: a
    batch of 200 took ten times longer). On PostgreSQL a COPY: psycopg parses
    an INSERT's text for its placeholders in Python, and with thousands of
    them that was a third of the writer's time (measured under load); COPY
    takes the rows as they are. Neither is in Django's query log.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in REQUEST_FIELDS)
    table = quote(REQUEST_FIELDS[0].model._meta.db_table)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    # With sqlite3's own "?" marks, on its own connection: Django's cursor
    # rewrites each "%s" by regex first, a twentieth of the writer's time
    # with thousands of them (measured). Errors still come as Django's.
    row = "(" + ", ".join(["?"] * len(REQUEST_FIELDS)) + ")"
    values = ", ".join([row] * len(rows))
    with connection.wrap_database_errors:
        connection.connection.execute(
            f"INSERT INTO {table} ({columns}) VALUES {values}", [v for r in rows for v in r]
        )


def _update_visitors(visitors):
    """
    Counters, times (never moving back) and the latest request, found by its
    number: one UPDATE ... FROM (VALUES ...) for every visitor of the batch;
    on PostgreSQL FROM unnest(...) of one array a column, as ``_lock`` does.
    """
    quote = connection.ops.quote_name
    adapt_at = datetime_adapter(connection)
    table = quote(Visitor._meta.db_table)
    requests = quote(REQUEST_FIELDS[0].model._meta.db_table)
    # The columns are column1..column5 (VALUES' own names): id, logged,
    # requests (the highest seq), the newest request's time and its seq (NULL
    # when all were late).
    rows = [
        (state.id, order, seq, adapt_at(when), latest_seq)
        for state, seq, order, when, latest_seq in visitors
    ]
    if connection.vendor == "postgresql":
        source = (
            "unnest(%s::bigint[], %s::integer[], %s::integer[], %s::timestamptz[], "
            "%s::integer[]) AS d(column1, column2, column3, column4, column5)"
        )
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        values = ", ".join(["(%s, %s, %s, %s, CAST(%s AS INTEGER))"] * len(rows))
        source = f"(VALUES {values}) AS d"
        params = [value for row in rows for value in row]
    sql = (
        f"UPDATE {table} SET logged = d.column2, requests = d.column3, "
        f"last_seen = {later_of('last_seen', 'd.column4')}, "
        f"{quote('last_logged')} = {later_of('last_logged', 'd.column4')}, "
        f"latest_request_id = COALESCE((SELECT r.id FROM {requests} r "
        f"WHERE r.visitor_id = d.column1 AND r.seq = d.column5), latest_request_id) "
        f"FROM {source} WHERE {table}.id = d.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
