"""
Browsers as threads, each with its own visitor id, and the checks of what
they did against the log.
"""

import http.client
import threading
import time
from collections import Counter

from bench.clients import cookie_header, get, new_visitor
from bench.config import HTTP_TIMEOUT, LOAD_TIMEOUT, LOGGED_COOKIES, say


class Progress:
    def __init__(self):
        self.done = 0
        self._lock = threading.Lock()

    def add(self):
        with self._lock:
            self.done += 1


class Browser(threading.Thread):
    """One browser: its own visitor id, a new connection per request, counting 200s."""

    def __init__(self, port, requests, progress, stop):
        super().__init__(daemon=True)
        self.port, self.quota, self.progress, self.stop = port, requests, progress, stop
        self.visitor = None
        self.completed = 0
        self.errors = Counter()
        self.first_errors = []

    def run(self):
        for _ in range(5):  # the id request is not part of the count
            self.visitor = self._attempt(new_visitor)
            if self.visitor:
                break
        if not self.visitor:
            self.errors["no visitor id"] += 1
            return
        cookie = cookie_header(self.visitor)
        for _ in range(self.quota):
            if self.stop.is_set():
                break
            status = self._attempt(lambda port: get(port, "/api/cookies", cookie)[0])
            if status == 200:
                self.completed += 1
            elif status is not None:
                self._error(f"HTTP {status}", f"HTTP {status}")
            self.progress.add()

    def _attempt(self, call):
        try:
            return call(self.port)
        except (OSError, http.client.HTTPException) as error:
            self._error(type(error).__name__, repr(error))
            return None

    def _error(self, kind, text):
        self.errors[kind] += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(text)


def finish(browsers, stop, started):
    for browser in browsers:
        browser.join(max(0, started + LOAD_TIMEOUT - time.monotonic()))
    if any(b.is_alive() for b in browsers):
        stop.set()
        say(f"  ! load check still running after {LOAD_TIMEOUT} s: stopped")
        for browser in browsers:
            browser.join(HTTP_TIMEOUT + 5)


def check_browsers(results, database, what, browsers, id_request, errors_checked=True):
    """
    0 errors (or, without ``errors_checked``, their count), and each browser's
    log rows: its completed requests, each with all its cookies, plus the
    cookieless request that got its id (``id_request``).
    """
    errors = sum((b.errors for b in browsers), Counter())
    samples = [e for b in browsers for e in b.first_errors][:3]
    if errors_checked:
        results.check(f"{what}: errors", dict(errors) or 0, not errors)
    else:
        say(f"  info  {what}: errors: {dict(errors) or 0}")
    if samples:
        say(f"        first errors: {samples}")
    logged = database.logged_by_visitor([b.visitor for b in browsers if b.visitor])
    expected = {b.visitor: (b.completed + id_request, b.completed) for b in browsers}
    if not id_request:  # through the proxy: the cookies vary, only rows count
        logged = {key: (rows, expected[key][1]) for key, (rows, _) in logged.items()}
    mismatched = [
        (key[:8] if key else None, want, logged.get(key, (0, 0)))
        for key, want in expected.items()
        if logged.get(key, (0, 0)) != want
    ]
    completed = sum(b.completed for b in browsers)
    rows = sum(logged.get(b.visitor, (0, 0))[0] for b in browsers)
    figures = (
        f"completed {completed:,}, logged {rows:,} (incl. {id_request * len(browsers)} id "
        f"requests); browsers whose rows differ: {len(mismatched)}"
    )
    results.check(f"{what}: every completed request logged", figures, not mismatched)
    if mismatched:
        say(
            f"        (visitor, expected (rows, rows with {LOGGED_COOKIES} cookies), logged): "
            f"{mismatched[:5]}"
        )
