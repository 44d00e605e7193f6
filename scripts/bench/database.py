"""The fresh SQLite and PostgreSQL databases, and the counts read from their log."""

import os
import sqlite3
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from bench.config import LOGGED_COOKIES, PG_ADMIN_URL, say


class Database:
    """The app's database, and the bench's own read-only view of its log."""

    def __init__(self, label, url, connect, placeholder):
        self.label, self.url = label, url
        self._connect, self._placeholder = connect, placeholder

    def rows(self, sql, params=()):
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql.replace("?", self._placeholder), params)
            return cursor.fetchall()
        finally:
            connection.close()

    def has_log(self):
        if self.label == "SQLite":
            sql = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'cookies_app_request'"
        else:
            sql = "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'cookies_app_request'"
        return self.rows(sql)[0][0] > 0

    def logged_by_path(self):
        if not self.has_log():
            return Counter()
        return Counter(
            dict(self.rows("SELECT path, COUNT(*) FROM cookies_app_request GROUP BY path"))
        )

    def logged_by_visitor(self, keys):
        """{visitor key: (rows, rows carrying all LOGGED_COOKIES)} for ``keys``."""
        found = {}
        for chunk in chunks(list(keys), 500):
            marks = ", ".join("?" * len(chunk))
            for key, total, full in self.rows(
                "SELECT v.key, COUNT(r.id), "
                f"SUM(CASE WHEN r.cookie_count = {LOGGED_COOKIES} THEN 1 ELSE 0 END) "
                "FROM cookies_app_visitor v JOIN cookies_app_request r ON r.visitor_id = v.id "
                f"WHERE v.key IN ({marks}) GROUP BY v.key",
                chunk,
            ):
                found[key] = (total, full)
        return found

    def jar(self, keys, name):
        """{visitor key: [(issued_value, value)]} of each visitor's jar rows for ``name``."""
        found = {key: [] for key in keys}
        for chunk in chunks(list(keys), 500):
            marks = ", ".join("?" * len(chunk))
            for key, issued, received in self.rows(
                "SELECT v.key, j.issued_value, j.value FROM cookies_app_jarcookie j "
                "JOIN cookies_app_visitor v ON v.id = j.visitor_id "
                f"WHERE j.name = ? AND v.key IN ({marks})",
                [name, *chunk],
            ):
                found[key].append((issued, received))
        return found

    def duplicate_jar_rows(self):
        return self.rows(
            "SELECT visitor_id, name, domain, path, COUNT(*) FROM cookies_app_jarcookie "
            "GROUP BY visitor_id, name, domain, path HAVING COUNT(*) > 1"
        )


def chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def sqlite_database(directory):
    path = Path(directory) / "bench.sqlite3"
    return Database("SQLite", f"sqlite:///{path}", lambda: sqlite3.connect(path), "?")


@contextmanager
def postgres_database():
    """A fresh database on the local server, dropped at the end; None if unreachable."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except Exception as error:  # no driver, no server: the run goes on without it
        say(f"PostgreSQL skipped: {PG_ADMIN_URL} unreachable ({error})")
        yield None
        return
    name = f"bench_serve_{os.getpid()}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        version = admin.execute("SHOW server_version").fetchone()[0]
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        say(f"PostgreSQL {version}: database {name}")
        yield Database("PostgreSQL", url, lambda: psycopg.connect(url, connect_timeout=5), "%s")
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
