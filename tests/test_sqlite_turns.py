"""On SQLite, the processes' log writers take the database in turn."""

import fcntl
import os

import pytest
from django.db import connection

from cookies_app import sqlite_turns


@pytest.mark.django_db
def test_on_sqlite_the_writers_of_the_processes_take_turns():
    if connection.vendor != "sqlite":
        assert sqlite_turns.turn_file() is None, "PostgreSQL locks rows, not the database"
        return
    path = sqlite_turns.turn_file()
    # Another process's writer, as the kernel sees it: its own open file.
    other = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with sqlite_turns.sqlite_turn(), pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # let go: its turn at once
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
