"""
The version of each browser's jar, as PostgreSQL tells every server process:
a known browser's lab page then needs no query at all.

The lab page cache (page_cache) keys a page by its jar's ``jar_version``, and
any server process may move it. On SQLite the lab reads the row's
jar_version again for each page, a read of a local file. On PostgreSQL that
read is a round trip, and Django's connection health check adds another: most
of what a page from the cache costs.

So on PostgreSQL, logging in the background, each server process LISTENs on
a connection of its own, in a thread, to what the visitor table's triggers
NOTIFY (migration 0011): ``id:version`` when a jar_version moves, ``id,id,...``
when rows are deleted, ``*`` when too many are (or the table is truncated) to
name. What it heard, and what its own reads found, answer ``get``.

What this process knows is trusted only while the listener hears its own
echo: a lost connection may have missed notices, so everything is forgotten
and every page reads (as on SQLite) until the listener hears again.
Versions only grow, so a read that began before a notice never rolls it
back; one that began before everything was forgotten is not kept (``token``).
"""

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

CHANNEL = "cookie_lab_jars"
# A row deleted: its id is never reused (PostgreSQL's sequences move on).
GONE = -1
# Ids a process keeps, as known_visitors: a few MB at most.
SIZE = 16_384
# How often the listener looks up from the socket: stop() waits at most this.
WAKE_SECONDS = 0.5
# Each listener has an echo sent to it this often, from another connection:
# a notice like any other. What it knows is trusted only while the last echo
# is this recent: a connection that died silently (no reset) or a pooler that
# drops what comes while the connection is idle stops the trust within
# seconds, and the lab pages read their visitor again.
PING_SECONDS = 5
TRUST_SECONDS = PING_SECONDS + 2
ECHO = "echo:"


class JarVersions:
    def __init__(self, size):
        self.size = size
        self.versions = OrderedDict()  # visitor id -> jar_version or GONE, oldest first
        self.lock = threading.Lock()
        # Moves whenever something known is forgotten: a read that began
        # before may be older than what was forgotten.
        self.generation = 0
        self.listening = False
        self._pid = None
        self._thread = None
        self._stop = threading.Event()
        self._echoed = False  # the listener's connection heard its own echo
        self.heard_at = float("-inf")  # when it last did (time.monotonic)

    def trusted(self):
        return (
            self.listening
            and self._pid == os.getpid()  # a forked process inherits what its parent knew
            and time.monotonic() - self.heard_at <= TRUST_SECONDS
        )

    def get(self, visitor_id):
        """The jar's version, or None: this process cannot know it without a read."""
        if not self.trusted():
            return None
        with self.lock:
            version = self.versions.get(visitor_id)
            if version is None or version == GONE or not self.listening:
                return None
            self.versions.move_to_end(visitor_id)
            return version

    def token(self):
        """
        Before a read of a visitor row: what ``note_read`` takes after it, or
        None when nothing is to be noted (not PostgreSQL in background mode,
        or not listening yet). Starts this process's listener.
        """
        connection = connections[DEFAULT_DB_ALIAS]
        if settings.COOKIE_LAB_LOG != "background" or connection.vendor != "postgresql":
            return None
        self._ensure_listener()
        if connection.in_atomic_block:
            # A transaction's snapshot may be older than the token.
            return None
        with self.lock:
            return self.generation if self.trusted() else None

    def note_read(self, visitor_id, version, token):
        """A version a read found, kept unless everything was forgotten since ``token``."""
        if token is None:
            return
        with self.lock:
            if token == self.generation:
                self._note(visitor_id, version)

    def note(self, visitor_id, version):
        """A version committed: told by a notice, or by this process's own writer."""
        with self.lock:
            if self.listening:
                self._note(visitor_id, version)

    def gone(self, visitor_id):
        with self.lock:
            if self.listening:
                self._note(visitor_id, GONE)

    def forget(self):
        """Nothing is known any more; reads under way are not kept."""
        with self.lock:
            self._forget()

    def stop(self):
        """End this process's listener (tests; the database is about to go)."""
        thread = self._thread
        self._stop.set()
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout=10)  # (a connect under way gives up after 5 s)
        with self.lock:
            self._thread, self.listening = None, False
            self._stop = threading.Event()
            self._forget()

    def apply(self, payload):
        """One notice of the triggers: ``id:version``, ``id,id,...`` (deleted) or ``*``."""
        if payload.startswith(ECHO):
            return  # another process's
        if payload == "*":
            self.forget()
            return
        with self.lock:
            if not self.listening:
                return
            for item in payload.split(","):
                visitor_id, _, version = item.partition(":")
                try:
                    self._note(int(visitor_id), int(version) if version else GONE)
                except ValueError:
                    # Any role may NOTIFY this channel: not ours, not a reason to hang up.
                    logger.warning("Ignored a notice on %s: %r", CHANNEL, item[:40])

    def _note(self, visitor_id, version):
        known = self.versions.get(visitor_id)
        if known == GONE or (known is not None and version != GONE and known >= version):
            return  # gone for good, or told of this version or a later one already
        self.versions[visitor_id] = version
        self.versions.move_to_end(visitor_id)
        if len(self.versions) > self.size:
            self.versions.popitem(last=False)
            # The id dropped may be one a read under way is about to note.
            self.generation += 1

    def _forget(self):
        self.versions.clear()
        self.generation += 1

    def _set_listening(self, listening):
        with self.lock:
            self.listening = listening
            self._forget()

    def _after_fork(self):
        """In a forked child: the parent's lock, thread and connection are not its own."""
        self.lock = threading.Lock()
        self._pid, self._thread, self.listening = None, None, False
        self._stop = threading.Event()
        self._forget()

    def _ensure_listener(self):
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self.lock:
            if self._pid != os.getpid():
                # A forked worker inherits neither the thread nor its connection.
                self._pid, self._thread, self.listening = os.getpid(), None, False
                self._stop = threading.Event()
                self._forget()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._listen,
                    args=(_connection_params(), self._stop),
                    name="cookie-lab-jar-versions",
                    daemon=True,
                )
                self._thread.start()

    def _listen(self, params, stop):
        # Here, not at the top: on SQLite nothing imports psycopg.
        import psycopg

        retry = 0.1
        while not stop.is_set():
            self._echoed = False
            try:
                with psycopg.connect(**params, autocommit=True) as listener:
                    self._hear(listener, params, stop)
            except Exception as error:
                logger.warning(
                    "Not listening for jar changes (%s); lab pages read their visitor "
                    "until the connection is back.",
                    error,
                )
            finally:
                self._set_listening(False)
            retry = 0.1 if self._echoed else min(retry * 2, 30)
            stop.wait(retry)

    def _hear(self, listener, params, stop):
        """
        Apply the notices heard until stopped. Trusted while the echo keeps
        coming back (see PING_SECONDS); raises when one does not.
        """
        echo = f"{ECHO}{os.getpid()}-{secrets.token_hex(8)}"
        listener.execute(f"LISTEN {CHANNEL}")
        asked, answered = time.monotonic(), False
        _send_echo(params, echo)
        while not stop.is_set():
            for notice in listener.notifies(timeout=WAKE_SECONDS):
                if notice.payload == echo:
                    answered, self.heard_at = True, time.monotonic()
                    if not self.listening:
                        self._echoed = True
                        self._set_listening(True)
                else:
                    self.apply(notice.payload)
            if time.monotonic() - asked >= PING_SECONDS:
                if not answered:
                    raise ConnectionError("the connection no longer hears its echo")
                asked, answered = time.monotonic(), False
                _send_echo(params, echo)


def _send_echo(params, echo):
    """
    From a connection of its own: a session's own NOTIFY comes back in the
    reply to it, which even a pooler that drops notices passes on.
    """
    import psycopg

    with psycopg.connect(**params, autocommit=True) as sender:
        sender.execute("SELECT pg_notify(%s, %s)", [CHANNEL, echo])


def _connection_params():
    """psycopg.connect()'s arguments for the default database, as Django connects."""
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    # Django's own cursor class and adapters: a plain connection only listens.
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    # A server that vanishes without a reset is noticed (libpq; ignored on a
    # Unix socket), unless the settings say otherwise.
    for name, value in (
        ("connect_timeout", 5),
        ("keepalives", 1),
        ("keepalives_idle", 5),
        ("keepalives_interval", 2),
        ("keepalives_count", 3),
        ("tcp_user_timeout", 10_000),
    ):
        params.setdefault(name, value)
    return params


VERSIONS = JarVersions(SIZE)
os.register_at_fork(after_in_child=VERSIONS._after_fork)
