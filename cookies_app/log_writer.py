"""
The background log writer: a response goes out before its log is written.

Each server process has one writer thread and one bounded queue. A request
hands its Visit and its response's cookies over (``submit``) and returns; the
thread takes what is queued as one batch and writes it in one transaction
(``log_batch.record_batch``): one commit, one tally upsert and one lock round
per batch instead of per request (group commit). A batch waits
``COOKIE_LAB_LOG_LINGER_MS`` (50) after its first request for more to come,
so under load it holds tens of requests; alone, a request is written that
much later.

What can be lost: nothing on a graceful reload or shutdown (SIGHUP, SIGTERM:
the app server lets the process exit normally, and ``atexit`` drains the
queue first). A hard kill (SIGKILL, OOM, power loss) loses the requests
queued and the batch being written: at most ``COOKIE_LAB_LOG_QUEUE`` +
``COOKIE_LAB_LOG_BATCH`` requests, answered in the last moments (under
normal load, the linger plus the time one batch takes to write). A full queue makes the next
request wait for room (backpressure), never drops it.
"""

import atexit
import logging
import os
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from . import cookie_log, log_batch
from .setcookie import signed_salts
from .sqlite_turns import sqlite_turn

if TYPE_CHECKING:
    from .visit import Visit

logger = logging.getLogger(__name__)

# Methods whose answer may name the request just logged (the lab's form
# redirects to ?sent=N): counted when they come and written before the
# response, in every mode.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Queued by flush(): write what is queued now, without lingering.
NOW = object()
THREAD_NAME = "cookie-log-writer"


@dataclass(frozen=True)
class Entry:
    """One request to log: what cookie_log needs of the request and its response."""

    visit: "Visit"
    cookies: dict  # name -> Morsel, as the response sent them
    status: int
    salts: dict


def entry(visit, response):
    return Entry(visit, dict(response.cookies), response.status_code, signed_salts(response))


class LogWriter:
    """One process's queue and writer thread (started on first use, again after a fork)."""

    def __init__(self, capacity, batch_size, linger=0.0):
        self.capacity = capacity
        self.batch_size = batch_size
        self.linger = linger  # seconds a batch waits for more requests
        self._hurry = threading.Event()  # set by flush() and stop(): no more waiting
        self._lock = threading.Lock()
        self._queue = None
        self._thread = None
        self._pid = None
        self._stopping = False

    def submit(self, item):
        with self._lock:
            jobs = None if self._stopping else self._started()
            if jobs is not None:
                # Waits while the queue is full (the thread drains it meanwhile).
                jobs.put(item)
                if jobs.qsize() >= self.batch_size - 1:
                    # With the one the writer holds, a whole batch: no more lingering.
                    self._hurry.set()
                return
        # The process is exiting and its writer has stopped: write it here.
        self._write([item])

    def flush(self):
        """Wait until everything submitted so far is written (the batch lingers no more)."""
        if self._running():
            self._queue.put(NOW)
            self._hurry.set()
            self._queue.join()

    def stop(self, final=False):
        """
        Write what is queued, then end the thread (in tests; ``final`` at exit).
        A request answered meanwhile, or after a final stop, is written by its
        own thread.
        """
        with self._lock:
            if not self._running():
                self._stopping = final and self._pid == os.getpid()
                return
            thread, self._thread, self._stopping = self._thread, None, True
            self._queue.put(None)
            self._hurry.set()
        thread.join()
        with self._lock:
            leftover = []
            while not self._queue.empty():
                leftover.append(self._queue.get_nowait())
                self._queue.task_done()
            self._stopping = final
        self._write([item for item in leftover if item not in (None, NOW)])

    def _running(self):
        return self._thread is not None and self._pid == os.getpid() and self._thread.is_alive()

    def _started(self):
        """The queue, its thread running (called holding the lock)."""
        if self._pid != os.getpid():
            # A forked worker inherits no thread: each process has its own queue.
            self._queue, self._pid, self._thread = queue.Queue(self.capacity), os.getpid(), None
            self._hurry = threading.Event()
            self._stopping = False
        if not self._running():
            # First use, or the thread died: a queue nobody drains would block
            # every request once full.
            self._thread = threading.Thread(
                target=self._run, args=(self._queue,), name=THREAD_NAME, daemon=True
            )
            self._thread.start()
        return self._queue

    def _run(self, jobs):
        try:
            while True:
                batch = self._next_batch(jobs)
                try:
                    self._write([item for item in batch if item not in (None, NOW)])
                finally:
                    # Whatever happened, flush() must not wait for these forever.
                    for _ in batch:
                        jobs.task_done()
                if None in batch:
                    return
        finally:
            connection.close()  # this thread's own connection

    def _next_batch(self, jobs):
        """
        What is queued, up to a batch, after waiting ``linger`` seconds from the
        first request for more to come: a busy process then writes tens of
        requests a transaction instead of one or two (each transaction costs a
        lock, a commit and a tally upsert whatever its size). A flush (NOW) or
        a stop (None) ends the wait.
        """
        batch = [jobs.get()]
        if batch[0] not in (None, NOW) and self.linger and jobs.qsize() < self.batch_size - 1:
            # A sleep, not a wait on the queue: each request queued meanwhile
            # would wake this thread (and take the GIL from the requests).
            # With a whole batch queued already there is nothing to wait for
            # (submit ends the wait when one fills): lingering then would cap
            # the writer at a batch per linger.
            self._hurry.wait(self.linger)
        self._hurry.clear()
        while len(batch) < self.batch_size and batch[-1] not in (None, NOW):
            try:
                batch.append(jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch):
        if not batch:
            return
        # What Django does around each request: drop a connection that broke
        # or outlived CONN_MAX_AGE, so one database restart is not every
        # batch's error.
        close_old_connections()
        with sqlite_turn():
            try:
                log_batch.record_batch(batch)
            except Exception:
                # One request the database refuses must not take its batch with
                # it: write them one by one, and report the ones that still fail.
                logger.warning(
                    "A log batch of %d failed; writing its requests one by one.", len(batch)
                )
                for item in batch:
                    try:
                        log_batch.record_batch([item])
                    except Exception:
                        logger.exception(
                            "A request could not be logged (visitor %s).", item.visit.key
                        )


writer = LogWriter(
    settings.COOKIE_LAB_LOG_QUEUE,
    settings.COOKIE_LAB_LOG_BATCH,
    settings.COOKIE_LAB_LOG_LINGER_MS / 1000,
)
# Runs when a worker exits normally (granian and gunicorn both let workers exit
# normally on a graceful reload or shutdown); daemon threads still run then.
atexit.register(writer.stop, final=True)


@receiver(connection_created)
def scratch_in_memory(sender, connection, **kwargs):
    """
    The writer's SQLite connection keeps a statement's journal and temporary
    tables in memory: on disk it made and removed a file in /var/tmp every
    batch. Only the writer's: elsewhere a sort of the whole log (the admin's,
    on a column without an index) would then be held in a worker's memory.
    """
    if connection.vendor == "sqlite" and threading.current_thread().name == THREAD_NAME:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA temp_store = MEMORY")


def mode(request):
    """
    How this request is logged: COOKIE_LAB_LOG, except that a form's answer is
    written first. Called before the request takes its number: what this
    process queued before is written first, so numbers follow arrival.
    """
    configured = settings.COOKIE_LAB_LOG
    if configured == "background" and request.method in UNSAFE_METHODS:
        writer.flush()
        return "inline"
    return configured


def log(visit, response, how):
    if how == "background" and response.cookies:
        # A response that sets cookies changes the jar: written before the
        # browser can send its next request, to whichever server process, so
        # that no process writes an older request after it unnoticed.
        how = "inline"
    if how == "background":
        writer.submit(entry(visit, response))
    elif how == "inline":
        # What this process queued before comes first, as the browser sent it.
        writer.flush()
        cookie_log.record(visit, response)
