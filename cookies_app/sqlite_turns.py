"""
On SQLite, the server's log writers (one a process) take the database in
turn.

With SQLite's own lock alone, a writer that finds it held sleeps 1, 2, 5,
10... ms however soon it is let go, and the writer that holds it takes it
again first: measured under load, a writer spent most of its time asleep in
BEGIN while its queue filled and the requests waited. A lock on a file beside
the database (``db.sqlite3-writers.lock``) wakes the next writer as soon as it
is let go. PostgreSQL locks rows, and needs none.
"""

import fcntl
import os
from contextlib import contextmanager
from functools import lru_cache

from django.db import transaction


@contextmanager
def sqlite_turn():
    """This process's writer's turn at the database (at once, but on SQLite)."""
    path = turn_file()
    if path is None:
        yield
        return
    fd = _open(path, os.getpid())
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def turn_file():
    """The lock file's path, or None where there is no turn to take."""
    db = transaction.get_connection()
    if db.vendor != "sqlite" or db.is_in_memory_db():
        return None
    return f"{db.settings_dict['NAME']}-writers.lock"


@lru_cache(maxsize=4)
def _open(path, pid):
    """
    The file's descriptor, opened once per process (``pid``: a forked worker
    opens its own; the writers of two processes exclude each other, the
    threads of one share the lock, as each process has one writer).
    """
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
