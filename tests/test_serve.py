"""
`make serve` for real: granian in production mode on a free port, its own
database (a SQLite file, or a fresh PostgreSQL database when the suite runs on
PostgreSQL), driven by plain HTTP clients.

Small versions of the bench's checks (`make bench` runs them full size):
static files through WhiteNoise, nothing lost across a graceful reload, and
what a hard-killed worker loses, bounded.
"""

import contextlib
import http.client
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
COOKIES = "; ".join(f"c{i}={'v' * 20}" for i in range(5))
# The server's queue, smaller than the default so that the bound on a hard
# kill (the queue and the batch in hand) is below what the test sends.
QUEUE = 50
CRASH_BOUND = QUEUE + settings.COOKIE_LAB_LOG_BATCH


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Database:
    """A database of the suite's engine that only this module's server uses."""

    def __init__(self, tmp_path):
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            self.name = f"serve_test_{os.getpid()}_{secrets.token_hex(3)}"
            base = connection.settings_dict
            self.url = f"postgres://{base['USER'] or 'postgres'}@{base['HOST']}:{base['PORT']}"
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.url += f"/{self.name}"
        else:
            self.path = tmp_path / "serve.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql):
        import psycopg

        base = connection.settings_dict
        with psycopg.connect(
            host=base["HOST"], port=base["PORT"], user=base["USER"] or "postgres",
            dbname="postgres", autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(sql)

    def query(self, sql, params=()):
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()

    def logged(self, visitor_key):
        """Request rows logged for a visitor, and how many cookies each carried."""
        return self.query(
            "SELECT r.cookie_count FROM cookies_app_request r "
            "JOIN cookies_app_visitor v ON v.id = r.visitor_id WHERE v.key = ?",
            (visitor_key,),
        )

    def probes(self, visitor_key):
        """The numbers of a Browser's requests that are in the log."""
        rows = self.query(
            "SELECT u.text FROM cookies_app_request r "
            "JOIN cookies_app_visitor v ON v.id = r.visitor_id "
            "JOIN cookies_app_useragent u ON u.id = r.user_agent_id WHERE v.key = ?",
            (visitor_key,),
        )
        return {int(text.split()[1]) for (text,) in rows}

    @contextmanager
    def holding_the_request_table(self):
        """No request row can be written meanwhile; reads go on."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
                conn.execute("LOCK TABLE cookies_app_request IN SHARE ROW EXCLUSIVE MODE")
                yield
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                conn.execute("ROLLBACK")
                conn.close()

    def drop(self):
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Server:
    """`make serve` on a free port; its PID file names granian's main process."""

    def __init__(self, database, tmp_path):
        self.port = free_port()
        self.pidfile = tmp_path / "serve.pid"
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        env.pop("PYTEST_VERSION", None)  # the server is production, not a test run
        env.update(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_SECURE="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=database.url,
            COOKIE_LAB_LOG="background",
            COOKIE_LAB_LOG_QUEUE=str(QUEUE),
        )
        self.log = (tmp_path / "serve.log").open("w+")
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"PORT={self.port}", f"WORKERS={WORKERS}",
             f"PIDFILE={self.pidfile}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_until_up()

    def wait_until_up(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                status, _, _ = request(self.port, "/cookies/check?key=k")
                if status == 200 and self.pidfile.exists():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"make serve did not answer:\n{self.output()}")

    @property
    def pid(self):
        return int(self.pidfile.read_text())

    def workers(self):
        """granian's worker processes: the children of its main process."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.pid:
                found.append(int(stat.parent.name))
        return found

    def settle(self, age=6.0, timeout=30):
        """
        Wait until every worker has run ``age`` seconds: granian exits altogether
        when a worker dies within 5.5 s of starting (its crash-loop guard).
        """
        ticks, boot = (
            os.sysconf("SC_CLK_TCK"),
            time.time() - time.clock_gettime(time.CLOCK_BOOTTIME),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = []
            for pid in self.workers():
                with contextlib.suppress(OSError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    started.append(boot + int(fields[19]) / ticks)
            if started and time.time() - max(started) >= age:
                return
            time.sleep(0.2)
        raise AssertionError("the workers did not settle")

    def signal(self, signum):
        os.kill(self.pid, signum)

    def stop(self):
        """SIGTERM: graceful; the log writers flush before their workers exit."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def request(port, path, cookie="", host="127.0.0.1", agent="test_serve"):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        headers = {"Connection": "close", "User-Agent": agent}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()  # names in any case
    finally:
        conn.close()


class Browser:
    """
    A client with its own visitor id, counting the responses it got. Each
    request names itself in its User-Agent ("probe 7"), so the log tells which
    answered requests it holds.
    """

    def __init__(self, port):
        self.port = port
        status, headers, _ = request(port, "/api/cookies", COOKIES, agent="probe 0")
        assert status == 200
        self.key = re.search(r"cookielab_visitor=([0-9a-f]{32})", headers["Set-Cookie"])[1]
        self.errors, self.answered_at, self.retried = [], {0: time.monotonic()}, 0

    @property
    def completed(self):
        return len(self.answered_at)

    def get(self, cookie, n):
        """
        One request, tried again once if the server closed the connection
        before any answer, as browsers do with a GET (RFC 9110, 9.2.2): a
        worker stopping for a reload may close one it accepted at that moment.
        """
        try:
            return request(self.port, "/api/cookies", cookie, agent=f"probe {n}")[0]
        except ConnectionResetError:
            self.retried += 1
            return request(self.port, "/api/cookies", cookie, agent=f"probe {n}")[0]

    def run(self, count, stop_at):
        cookie = f"cookielab_visitor={self.key}; {COOKIES}"
        start = len(self.answered_at) + len(self.errors)
        for n in range(start, start + count):
            if time.monotonic() > stop_at:
                break
            try:
                status = self.get(cookie, n)
            except OSError as error:
                self.errors.append(repr(error))
                continue
            if status == 200:
                self.answered_at[n] = time.monotonic()
            else:
                self.errors.append(status)


def load(port, clients, each, during=None, browsers=None):
    """``clients`` browsers sending ``each`` requests at once; ``during`` runs meanwhile."""
    browsers = browsers or [Browser(port) for _ in range(clients)]
    stop_at = time.monotonic() + 120
    threads = [threading.Thread(target=b.run, args=(each, stop_at)) for b in browsers]
    for thread in threads:
        thread.start()
    if during:
        during(browsers)
    for thread in threads:
        thread.join()
    return browsers


@pytest.fixture(scope="module")
def served(tmp_path_factory, django_db_blocker):
    tmp_path = tmp_path_factory.mktemp("serve")
    with django_db_blocker.unblock():
        database = Database(tmp_path)
    server = Server(database, tmp_path)
    try:
        yield server, database
    finally:
        server.stop()
        with django_db_blocker.unblock():
            database.drop()


def test_static_files_are_hashed_compressed_and_cached_for_a_year(served):
    server, _ = served
    status, _, page = request(server.port, "/cookies")
    assert status == 200
    # The page links collectstatic's hashed name, not lab.css itself.
    css = re.search(rb'href="(/static/cookies_app/lab\.[0-9a-f]{12}\.css)"', page)
    assert css, page[:2000]

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", css[1].decode(), headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert body[:2] == b"\x1f\x8b"
    assert "immutable" in response.getheader("Cache-Control")
    assert "max-age=315360000" in response.getheader("Cache-Control")
    # The admin's own CSS is served too: no proxy needed for static files.
    status, _, _ = request(server.port, "/static/admin/css/base.css")
    assert status == 200


def test_nothing_is_lost_across_a_graceful_reload(served):
    server, database = served
    before = set(server.workers())

    def reload_midway(browsers):
        while sum(b.completed for b in browsers) < 300:
            time.sleep(0.05)
        server.signal(signal.SIGHUP)

    browsers = load(server.port, clients=8, each=100, during=reload_midway)
    # The new workers answer once the old ones have stopped.
    deadline = time.monotonic() + 30
    while set(server.workers()) & before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not set(server.workers()) & before, "the workers were not replaced"

    assert [b.errors for b in browsers] == [[]] * len(browsers)
    assert sum(b.completed for b in browsers) == 8 * 101
    # Seen once in about 25 runs: one connection closed unanswered, then answered.
    assert sum(b.retried for b in browsers) <= 2
    wait_for_the_log(database, browsers)
    for browser in browsers:
        rows = database.logged(browser.key)
        assert len(rows) == browser.completed
        # Each request's cookies are in the log: five and the visitor id
        # (the first request came without the id).
        assert sorted(count for (count,) in rows) == [5] + [6] * (browser.completed - 1)


def wait_for_the_log(database, browsers, timeout=30):
    """The writers log a moment after answering: wait until the counts stop moving."""
    keys = [b.key for b in browsers]
    deadline = time.monotonic() + timeout
    wanted = sum(b.completed for b in browsers)
    while time.monotonic() < deadline:
        if sum(len(database.logged(k)) for k in keys) >= wanted:
            return
        time.sleep(0.2)


def test_a_hard_killed_worker_loses_at_most_its_queue(served):
    server, database = served
    server.settle()
    killed, killed_at = [], []

    def kill_midway(browsers):
        while sum(b.completed for b in browsers) < 200:
            time.sleep(0.02)
        worker = server.workers()[0]
        os.kill(worker, signal.SIGKILL)
        killed.append(worker)
        killed_at.append(time.monotonic())

    browsers = load(server.port, clients=8, each=80, during=kill_midway)
    assert killed
    wait_for_the_log(database, browsers, timeout=10)
    completed = sum(b.completed for b in browsers)
    logged = sum(len(database.logged(b.key)) for b in browsers)
    lost = completed - logged
    # What was answered and still queued on the killed worker is lost, no
    # more. A request in flight there fails at its client: not completed, though
    # it may have been logged (at most one a client, so the count can go below 0).
    # How long before the kill the oldest answer the log lost went out.
    lost_at = [
        b.answered_at[n] for b in browsers for n in b.answered_at.keys() - database.probes(b.key)
    ]
    window = (killed_at[0] - min(lost_at, default=killed_at[0])) * 1000
    print(f"hard kill: {completed} answered, {logged} logged, {lost} lost, within {window:.0f} ms")
    assert -len(browsers) <= lost <= CRASH_BOUND
    assert window < 5000
    # The server starts a new worker and answers again.
    deadline = time.monotonic() + 30
    while len(server.workers()) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(server.workers()) == WORKERS
    assert request(server.port, "/cookies/check?key=k")[0] == 200


def test_a_graceful_stop_writes_what_its_workers_hold(tmp_path, django_db_blocker):
    """The log's writers are held back (the request table locked); SIGTERM comes;
    once the lock goes, every answered request is in the log before the exit."""
    with django_db_blocker.unblock():
        database = Database(tmp_path)
    server = Server(database, tmp_path)
    try:
        browsers = load(server.port, clients=4, each=5)  # new browsers: logged at once
        with database.holding_the_request_table():
            # Fewer than one worker's queue holds: more would wait for room.
            more = load(server.port, clients=4, each=10, browsers=browsers)
            assert [b.errors for b in more] == [[]] * 4
            server.signal(signal.SIGTERM)
            time.sleep(1)
            # Still writing: the workers wait for the lock before they exit.
            assert server.process.poll() is None
        server.process.wait(timeout=60)
        for browser in browsers:
            assert len(database.logged(browser.key)) == browser.completed == 16
    finally:
        server.stop()
        with django_db_blocker.unblock():
            database.drop()
