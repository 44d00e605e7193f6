"""
Throughput of Cookie Lab under `make serve`, against the anchors it must beat
(issue 12), in one bounded run on loopback. `make bench` runs it.

What it starts, itself:
- the anchors, in their own virtualenv (.bench/anchors-venv, pinned by
  scripts/bench/requirements-anchors.txt): the Flask cookie tutorial
  (scripts/bench/flask_tutorial.py) and httpbin, each under gunicorn with sync
  workers, as many worker processes as Cookie Lab;
- Cookie Lab with `make serve` (granian), on a fresh SQLite file and on a fresh
  PostgreSQL database, with the log on (COOKIE_LAB_LOG=background) and off;
- for the last check, two `make serve` instances behind Debian's nginx.

What it measures (wrk -t2 -c32, five cookies a request, and a Cookie Lab
visitor id picked round robin from 64 browsers):
- req/s, p50 and p99 of each, and each worker's peak RSS (target: < 100 MB);
- `/api/cookies` with every cookie logged ÷ httpbin `/cookies` (target ≥ 1.0),
  the lab page with logging ÷ the Flask tutorial (target ≥ 0.5), and logging
  on ÷ off for both (target ≥ 0.9);
- requests answered (wrk's count) against rows logged, after a graceful stop;
- nothing lost: 32 clients, 20,000 requests with a graceful reload (SIGHUP)
  halfway, then 0 errors and every completed request in the log with its 6
  cookies;
- several app servers: two instances behind nginx sharing PostgreSQL, each
  browser's jar consistent whichever answers, 0 lost, no duplicate jar rows.

Figures vary from run to run and machine to machine: compare the ratios, which
come from one run. `--quick` shortens everything to try the tool; `--only
sqlite|postgres` runs one database. Logs (servers, wrk) go to .bench/logs.
"""

import argparse
import hashlib
import http.client
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scripts" / "bench"
STATE = ROOT / ".bench"
ANCHORS_VENV = STATE / "anchors-venv"
LOGS = STATE / "logs"
REQUIREMENTS = BENCH / "requirements-anchors.txt"
WRK_SCRIPT = BENCH / "cookies.lua"
NGINX_TEMPLATE = BENCH / "nginx.conf.template"
NGINX = "/usr/sbin/nginx"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"

VISITOR_COOKIE = "cookielab_visitor"
# Five cookies, the same on every request of every server: the tutorial's own
# username=root (which the Flask app sets on every answer and the lab on a
# first visit: a returning browser carries it) and four of 20-character values.
COOKIES = {"username": "root", **{f"c{i}": f"cookie-value-{i:07d}" for i in range(1, 5)}}
COOKIE_HEADER = "; ".join(f"{name}={value}" for name, value in COOKIES.items())
LOGGED_COOKIES = len(COOKIES) + 1  # and the visitor id
WRK_THREADS, WRK_CONNECTIONS = 2, 32
WRK_VISITORS = 64
LOG_MODES = ("background", "off")

# Targets from issue 12.
TARGET_API_VS_HTTPBIN = 1.0
TARGET_PAGE_VS_FLASK = 0.5
TARGET_LOGGED_VS_OFF = 0.9
TARGET_RSS_MB = 100

# Bounds: nothing waits forever.
START_TIMEOUT = 180  # make serve migrates and collects static files first
STOP_TIMEOUT = 60
HTTP_TIMEOUT = 30
LOAD_TIMEOUT = 900  # one load check, all clients


@dataclass(frozen=True)
class Plan:
    """How big this run is: --quick shrinks every part."""

    workers: int
    warmup: int  # seconds of wrk before each measurement
    duration: int  # seconds of each measured wrk run
    lossless_clients: int
    lossless_requests: int
    proxy_clients: int
    proxy_requests: int  # per client

    @classmethod
    def make(cls, quick, workers):
        if quick:
            return cls(workers, 1, 3, 32, 2_000, 16, 60)
        return cls(workers, 3, 10, 32, 20_000, 16, 300)


def say(text=""):
    print(text, flush=True)


# --- Machine ------------------------------------------------------------------


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def command_version(command):
    """The first line a tool prints about its version (some print to stderr)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    return ((done.stdout or "") + (done.stderr or "")).strip().splitlines()[0]


def print_machine(anchors_bin):
    import django

    say("== Machine")
    say(f"nproc: {os.cpu_count()}   CPU: {cpu_model()}")
    say(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    say(f"Python {platform.python_version()}   Django {django.__version__}")
    say(f"granian {importlib.metadata.version('granian')} (Cookie Lab)")
    say(f"gunicorn {command_version([anchors_bin / 'gunicorn', '--version'])} (anchors)")
    say(f"wrk: {command_version(['wrk', '-v'])}")
    say(f"nginx: {command_version([NGINX, '-v'])}")
    say(f"SQLite {sqlite3.sqlite_version}")
    say()


# --- Processes ----------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, log):
    """Until the port accepts a connection; fails if the process exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before answering\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer on port {port} within {START_TIMEOUT} s\n{tail(log)}")


def tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def child_pids(pid):
    """Direct children of ``pid``, from /proc (field 4 of stat is the parent)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(after_name[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def peak_rss_mb(pid):
    """VmHWM, the process's peak resident set, in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class Server:
    """
    A server the bench started. ``process`` is what it spawned (gunicorn or
    nginx themselves, or `make`, whose child is granian); ``pid`` is the
    server's main process, which takes the signals.
    """

    name: str
    port: int
    process: subprocess.Popen
    pid: int
    log: Path

    def workers(self):
        return child_pids(self.pid)

    def peak_rss(self):
        return {pid: peak_rss_mb(pid) for pid in self.workers()}

    def reload(self):
        os.kill(self.pid, signal.SIGHUP)

    def stop(self):
        """Graceful (SIGTERM, then wait); killed, with a note, if that hangs."""
        if self.process.poll() is not None:
            return self.process.returncode
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"  ! {self.name} did not stop within {STOP_TIMEOUT} s of SIGTERM: killed")
            kill_group(self.process)
            return None


def kill_group(process):
    """SIGKILL the session the bench started the process in (its own)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)


def spawn(command, log, **kwargs):
    """A process in its own session, so that a hung one is killed with its children."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(part) for part in command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )


@contextmanager
def running(server_factory):
    """The server from ``server_factory()``, always stopped on the way out."""
    server = server_factory()
    try:
        yield server
    finally:
        server.stop()


# --- Anchors: the Flask tutorial and httpbin under gunicorn ------------------------


def base_python():
    """The machine's Python this venv was made from (never the project's venv)."""
    base = getattr(sys, "_base_executable", None)
    if base and Path(base).exists():
        return base
    found = subprocess.run(
        ["pyenv", "which", "python3.13"], capture_output=True, text=True, timeout=30
    )
    return found.stdout.strip() or "python3.13"


def anchors_bin():
    """The anchors' venv, made again only when the pinned requirements change."""
    python = base_python()
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + python.encode()).hexdigest()
    stamp = ANCHORS_VENV / ".requirements-sha256"
    bin_dir = ANCHORS_VENV / "bin"
    if stamp.exists() and stamp.read_text() == digest and (bin_dir / "gunicorn").exists():
        return bin_dir
    say(f"Installing the anchors in {ANCHORS_VENV.relative_to(ROOT)} ...")
    shutil.rmtree(ANCHORS_VENV, ignore_errors=True)
    subprocess.run([python, "-m", "venv", ANCHORS_VENV], check=True, timeout=120)
    # pip's output only matters when it fails.
    pip = subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if pip.returncode:
        sys.exit(f"pip install -r {REQUIREMENTS} failed:\n{pip.stdout}{pip.stderr}")
    stamp.write_text(digest)
    return bin_dir


def start_gunicorn(name, app, bin_dir, workers):
    port = free_port()
    log = LOGS / f"{name}.log"
    command = [
        bin_dir / "gunicorn",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--log-level=warning",
    ]
    process = spawn(command, log, cwd=BENCH)
    try:
        wait_for_port(port, process, log)
    except BaseException:
        kill_group(process)
        raise
    return Server(name, port, process, process.pid, log)


# --- Cookie Lab under `make serve` -----------------------------------------------


def has_serve_target():
    makefile = (ROOT / "Makefile").read_text()
    return any(line.startswith("serve:") for line in makefile.splitlines())


def lab_environment(database_url, log_mode, secret):
    # Nothing of the caller's Django, Cookie Lab or make settings leaks in
    # (an outer `make bench` passes MAKEFLAGS down).
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "COOKIE_LAB_", "MAKE", "MFLAGS"))
        and key not in ("DATABASE_URL", "PORT", "WORKERS", "PIDFILE")
    }
    return {
        **inherited,
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_SECURE": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "COOKIE_LAB_LOG": log_mode,
    }


def start_lab(name, database, log_mode, secret, workers, run_dir):
    port = free_port()
    pidfile = run_dir / f"{name}.pid"
    log = LOGS / f"{name}.log"
    command = [
        "make",
        "--no-print-directory",
        "serve",
        f"PORT={port}",
        f"WORKERS={workers}",
        f"PIDFILE={pidfile}",
    ]
    env = lab_environment(database.url, log_mode, secret)
    process = spawn(command, log, cwd=ROOT, env=env)
    try:
        wait_for_port(port, process, log)
        pid = read_pidfile(pidfile, process, log)
    except BaseException:
        kill_group(process)
        raise
    return Server(name, port, process, pid, log)


def read_pidfile(pidfile, process, log):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"no live PID in {pidfile}\n{tail(log)}")


# --- HTTP clients -----------------------------------------------------------------


def get(port, path, cookie="", connection=None):
    """(status, headers, body) of one GET; a new connection, closed, unless one is given."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    headers = {"Cookie": cookie} if cookie else {}
    if connection is None:
        headers["Connection"] = "close"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        if connection is None:
            conn.close()


def set_cookies(headers):
    """{name: value} of the response's Set-Cookie lines; None for a deletion."""
    jar = {}
    for line in headers.get_all("Set-Cookie") or ():
        for name, morsel in SimpleCookie(line).items():
            jar[name] = None if morsel["max-age"] == "0" else morsel.value
    return jar


def new_visitor(port):
    """A visitor id from a first visit to /api/cookies, or None."""
    status, headers, _ = get(port, "/api/cookies")
    return set_cookies(headers).get(VISITOR_COOKIE) if status == 200 else None


def new_visitors(port, count):
    """(answered, ids): ``count`` first visits, and the visitor ids they were given."""
    answered, ids = 0, []
    for _ in range(count):
        try:
            visitor = new_visitor(port)
        except (OSError, http.client.HTTPException) as error:
            say(f"  ! a first visit failed: {error!r}")
            continue
        answered += 1
        if visitor:
            ids.append(visitor)
    return answered, ids


def cookie_header(visitor):
    return f"{COOKIE_HEADER}; {VISITOR_COOKIE}={visitor}"


# --- Databases ------------------------------------------------------------------


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


# --- wrk --------------------------------------------------------------------------


@dataclass
class WrkRun:
    requests: int  # responses wrk completed, whatever their status
    sent: int  # requests wrk sent: at its end, up to one a connection is unanswered
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # "Non-2xx or 3xx responses"
    socket_errors: int  # connect, read, write and timeout

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(url, seconds, visitors_file, log_name):
    env = {
        **os.environ,
        "BENCH_COOKIES": COOKIE_HEADER,
        "BENCH_VISITORS": str(visitors_file or ""),
    }
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout=10s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    (LOGS / f"{log_name}.wrk.txt").write_text(done.stdout + done.stderr)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    return WrkRun(
        requests=figures["requests"],
        sent=figures["sent"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        non_2xx=figures["status"],
        socket_errors=errors,
    )


def measure(url, plan, visitors_file, log_name):
    """(warm-up, measured): a short run first, so that nothing is measured cold."""
    warm = wrk(url, plan.warmup, visitors_file, f"{log_name}.warmup")
    return warm, wrk(url, plan.duration, visitors_file, log_name)


# --- Results ----------------------------------------------------------------------


@dataclass
class Row:
    database: str
    server: str
    path: str
    log: str
    run: WrkRun
    rss: list = field(default_factory=list)  # workers' peak RSS, MB


@dataclass
class Results:
    rows: list = field(default_factory=list)
    checks: list = field(default_factory=list)  # (what, figures, passed)

    def find(self, database, server, path, log):
        runs = [
            r.run
            for r in self.rows
            if r.database == database and r.server == server and r.path == path and r.log == log
        ]
        return sum(r.rps for r in runs) / len(runs) if runs else None

    def check(self, what, figures, passed):
        self.checks.append((what, figures, passed))
        say(f"  {verdict(passed)}  {what}: {figures}")


def verdict(passed):
    return "PASS" if passed else "MISS"


def rss_text(rss):
    sizes = [f"{mb:.0f}" for mb in rss if mb is not None]
    return "/".join(sizes) + " MB" if sizes else "n/a"


# --- Throughput ------------------------------------------------------------------


def measure_anchors(results, bin_dir, plan, label):
    """The Flask tutorial's page and httpbin's /cookies, under gunicorn."""
    for name, app in (("Flask tutorial", "flask_tutorial:app"), ("httpbin", "httpbin:app")):
        log_name = f"anchor-{app.split(':')[0]}-{label}"
        with running(partial(start_gunicorn, log_name, app, bin_dir, plan.workers)) as server:
            _, run = measure(f"http://127.0.0.1:{server.port}/cookies", plan, None, log_name)
            rss = list(server.peak_rss().values())
        results.rows.append(Row("-", name, "/cookies", label, run, rss))
        say(f"  {name:<15} /cookies      {run.rps:8.0f} req/s  peak RSS {rss_text(rss)}")


def throughput(results, database, plan, secret, run_dir, modes):
    """Cookie Lab's API and lab page, with each log mode, on one database."""
    visitors = []
    for mode in modes:
        name = f"lab-{database.label.lower()}-{mode}"
        before = database.logged_by_path()
        answered, sent = Counter(), Counter()
        with running(
            partial(start_lab, name, database, mode, secret, plan.workers, run_dir)
        ) as server:
            # 64 browsers: new ones when this mode issues ids, else the last ones.
            answered["/api/cookies"], fresh = new_visitors(server.port, WRK_VISITORS)
            sent["/api/cookies"] = answered["/api/cookies"]
            visitors = fresh or visitors
            if not visitors:
                say("  ! no visitor id issued: the load carries none")
            visitors_file = run_dir / f"{name}.visitors"
            visitors_file.write_text("\n".join(visitors) + "\n")
            for path in ("/api/cookies", "/cookies"):
                url = f"http://127.0.0.1:{server.port}{path}"
                warm, run = measure(url, plan, visitors_file, f"{name}{path.replace('/', '-')}")
                answered[path] += warm.requests + run.requests
                sent[path] += warm.sent + run.sent
                results.rows.append(Row(database.label, "Cookie Lab", path, mode, run))
                say(f"  {mode:<10} {path:<13} {run.rps:8.0f} req/s")
            rss = list(server.peak_rss().values())
            for row in results.rows[-2:]:
                row.rss = rss
            say(f"  {mode:<10} workers' peak RSS {rss_text(rss)}")
            server.stop()
        logged = database.logged_by_path() - before
        report_logged(results, database, mode, answered, sent, logged)


def report_logged(results, database, mode, answered, sent, logged):
    """
    wrk's counts against the log's rows. wrk ends each run (warm-up and
    measured) with up to one request per connection sent but unanswered,
    which the server may still answer and log: every answered request must be
    in the log, and nothing that was never sent.
    """
    for path in ("/api/cookies", "/cookies"):
        figures = (
            f"answered {answered[path]:,} vs logged {logged[path]:,} "
            f"({logged[path] - answered[path]:+,}; sent {sent[path]:,})"
        )
        what = f"{database.label}, log {mode}, {path}: requests answered (wrk's count) vs logged"
        if mode == "off":
            say(f"  info  {what}: {figures}")
        else:
            results.check(what, figures, answered[path] <= logged[path] <= sent[path])


# --- Nothing lost: many browsers, a graceful reload halfway ----------------------------


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


def nothing_lost(results, database, plan, secret, run_dir):
    name = f"lab-{database.label.lower()}-lossless"
    total = plan.lossless_requests
    progress, stop = Progress(), threading.Event()
    quotas = [total // plan.lossless_clients] * plan.lossless_clients
    quotas[0] += total - sum(quotas)
    start = partial(start_lab, name, database, "background", secret, plan.workers, run_dir)
    with running(start) as server:
        browsers = [Browser(server.port, q, progress, stop) for q in quotas]
        started = time.monotonic()
        for browser in browsers:
            browser.start()
        reload = reload_halfway(server, browsers, progress, total // 2, started)
        finish(browsers, stop, started)
        elapsed = time.monotonic() - started
        reload.wait_until_done(STOP_TIMEOUT)
        rss = list(server.peak_rss().values())
        stopped = server.stop()
    say(
        f"  {total:,} requests from {len(browsers)} browsers in {elapsed:.1f} s "
        f"({progress.done / elapsed:.0f} req/s); server exit {stopped}"
    )
    say(f"  {reload.summary(elapsed)}")
    say(f"  workers' peak RSS {rss_text(rss)}")
    check_browsers(results, database, f"{database.label}, nothing lost", browsers, 1)


class ReloadWatch(threading.Thread):
    """
    After a SIGHUP, when every worker of before it has gone: a reload that
    only ends after the load did not happen under load, and the bench says so.
    """

    def __init__(self, server, progress, started):
        super().__init__(daemon=True)
        self.server, self.progress, self.started = server, progress, started
        self.old = set(server.workers())
        self.sent_at = (progress.done, time.monotonic() - started)
        self.done_at = None
        self.new = []
        server.reload()
        self.start()

    def run(self):
        deadline = time.monotonic() + LOAD_TIMEOUT
        while time.monotonic() < deadline:
            workers = set(self.server.workers())
            if workers and not workers & self.old:
                self.new = sorted(workers)
                self.done_at = (self.progress.done, time.monotonic() - self.started)
                return
            time.sleep(0.02)

    def wait_until_done(self, timeout):
        self.join(timeout)

    def summary(self, load_seconds):
        sent = f"SIGHUP at {self.sent_at[0]:,} requests ({self.sent_at[1]:.1f} s)"
        if self.done_at is None:
            return f"{sent}; old workers {sorted(self.old)} still running at the end"
        done = (
            f"{sent}; workers {sorted(self.old)} all replaced by {self.new} "
            f"at {self.done_at[0]:,} requests ({self.done_at[1]:.1f} s)"
        )
        if self.done_at[1] > load_seconds:
            done += " — after the load ended: the reload was only partly under load"
        return done


def reload_halfway(server, browsers, progress, halfway, started):
    """A graceful reload (SIGHUP) once half the requests are done, watched."""
    deadline = started + LOAD_TIMEOUT
    while progress.done < halfway and time.monotonic() < deadline:
        if not any(b.is_alive() for b in browsers):
            break
        time.sleep(0.01)
    return ReloadWatch(server, progress, started)


def finish(browsers, stop, started):
    for browser in browsers:
        browser.join(max(0, started + LOAD_TIMEOUT - time.monotonic()))
    if any(b.is_alive() for b in browsers):
        stop.set()
        say(f"  ! load check still running after {LOAD_TIMEOUT} s: stopped")
        for browser in browsers:
            browser.join(HTTP_TIMEOUT + 5)


def check_browsers(results, database, what, browsers, id_request):
    """
    0 errors, and each browser's log rows: its completed requests, each with
    all its cookies, plus the cookieless request that got its id (``id_request``).
    """
    errors = sum((b.errors for b in browsers), Counter())
    samples = [e for b in browsers for e in b.first_errors][:3]
    results.check(f"{what}: errors", dict(errors) or 0, not errors)
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


# --- Several app servers behind nginx ------------------------------------------------


def start_nginx(upstream_ports, run_dir):
    prefix = run_dir / "nginx"
    prefix.mkdir(exist_ok=True)
    port = free_port()
    upstreams = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    config = (
        NGINX_TEMPLATE.read_text()
        .replace("@PREFIX@", str(prefix))
        .replace("@PORT@", str(port))
        .replace("@UPSTREAMS@", upstreams)
    )
    conf = prefix / "nginx.conf"
    conf.write_text(config)
    log = LOGS / "nginx.log"
    command = [NGINX, "-e", prefix / "error.log", "-c", conf, "-p", prefix, "-g", "daemon off;"]
    process = spawn(command, log)
    try:
        wait_for_port(port, process, prefix / "error.log")
    except BaseException:
        kill_group(process)
        raise
    return Server("nginx", port, process, process.pid, log)


class ProxyBrowser(Browser):
    """
    One browser through the proxy: sets n=1, then alternates setting n=<i> and
    reading /api/cookies, which must show the n it set last.
    """

    def __init__(self, port, requests, progress, stop):
        super().__init__(port, requests, progress, stop)
        self.jar = {}
        self.last_set = self.last_sent = None
        self.upstreams = Counter()

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            for i in range(1, self.quota + 1):
                if self.stop.is_set():
                    break
                reading = i % 2 == 0
                path = "/api/cookies" if reading else f"/api/cookies/set?n={i}"
                try:
                    self._step(connection, path, reading, str(i))
                except (OSError, http.client.HTTPException) as error:
                    self._error(type(error).__name__, repr(error))
                    connection.close()  # a fresh one for the next request
                self.progress.add()
        finally:
            connection.close()

    def _step(self, connection, path, reading, value):
        cookie = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        status, headers, body = get(self.port, path, cookie, connection)
        self.upstreams[headers.get("X-Upstream", "?")] += 1
        if status != (200 if reading else 302):
            self._error(f"HTTP {status}", f"HTTP {status} for {path}")
            return
        self.completed += 1
        self.last_sent = self.jar.get("n")
        for name, new in set_cookies(headers).items():
            if new is None:
                self.jar.pop(name, None)
            else:
                self.jar[name] = new
        self.visitor = self.jar.get(VISITOR_COOKIE)
        if not reading:
            self.last_set = value
        elif json.loads(body)["cookies"].get("n") != self.last_set:
            self._error("stale n", f"/api/cookies showed {body[:80]!r}, set {self.last_set}")


def several_servers(results, database, plan, secret, run_dir):
    progress, stop = Progress(), threading.Event()
    with ExitStack() as stack:
        # One after the other: the second's migrate and collectstatic find nothing to do.
        start = partial(start_lab, database=database, log_mode="background", secret=secret)
        labs = [
            stack.enter_context(running(partial(start, n, workers=plan.workers, run_dir=run_dir)))
            for n in ("lab-multi-a", "lab-multi-b")
        ]
        proxy = stack.enter_context(running(partial(start_nginx, [s.port for s in labs], run_dir)))
        browsers = [
            ProxyBrowser(proxy.port, plan.proxy_requests, progress, stop)
            for _ in range(plan.proxy_clients)
        ]
        started = time.monotonic()
        for browser in browsers:
            browser.start()
        finish(browsers, stop, started)
        elapsed = time.monotonic() - started
        for lab in labs:
            lab.stop()
    answered = sum((b.upstreams for b in browsers), Counter())
    say(f"  {progress.done:,} requests through nginx in {elapsed:.1f} s")
    say(f"  answered by (X-Upstream): {dict(answered)}")
    what = f"{database.label}, two servers behind nginx"
    check_browsers(results, database, what, browsers, 0)
    duplicates = database.duplicate_jar_rows()
    results.check(f"{what}: duplicate jar rows", len(duplicates), not duplicates)
    check_jars(results, database, what, browsers)


def check_jars(results, database, what, browsers):
    """Each browser's jar row for n holds the last value set and the last one sent."""
    jars = database.jar([b.visitor for b in browsers if b.visitor], "n")
    wrong = [
        (b.visitor[:8], b.last_set, b.last_sent, jars.get(b.visitor))
        for b in browsers
        if b.visitor and jars.get(b.visitor) != [(b.last_set, b.last_sent)]
    ]
    figures = f"{len(browsers) - len(wrong)} of {len(browsers)} jars hold the last n set and sent"
    results.check(f"{what}: jars consistent", figures, not wrong)
    if wrong:
        say(f"        (visitor, last set, last sent, jar rows (issued, received)): {wrong[:5]}")


# --- Report -----------------------------------------------------------------------


def print_table(results):
    say("== Throughput (wrk -t2 -c32, 5 cookies a request)")
    header = f"{'database':<11}{'server':<16}{'path':<14}{'log/run':<11}"
    say(f"{header}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sock err':>9}  peak RSS")
    for row in results.rows:
        run = row.run
        say(
            f"{row.database:<11}{row.server:<16}{row.path:<14}{row.log:<11}"
            f"{run.rps:8.0f}{run.p50_ms:9.1f}{run.p99_ms:9.1f}{run.non_2xx:9}{run.socket_errors:9}"
            f"  {rss_text(row.rss)}"
        )
    say()


def print_ratios(results, anchor_runs):
    """Each database against the anchors measured just before and just after it."""
    say("== Ratios (issue 12's targets)")
    for label, runs in anchor_runs.items():
        httpbin = mean(results.find("-", "httpbin", "/cookies", run) for run in runs)
        flask = mean(results.find("-", "Flask tutorial", "/cookies", run) for run in runs)
        say(f"  {label} against the anchors of {' and '.join(runs)}")
        api = {m: results.find(label, "Cookie Lab", "/api/cookies", m) for m in LOG_MODES}
        page = {m: results.find(label, "Cookie Lab", "/cookies", m) for m in LOG_MODES}
        for what, numerator, denominator, target in (
            ("/api/cookies (logged) ÷ httpbin /cookies", api, httpbin, TARGET_API_VS_HTTPBIN),
            ("lab page (logged) ÷ Flask tutorial", page, flask, TARGET_PAGE_VS_FLASK),
            ("/api/cookies logged ÷ logging off", api, api["off"], TARGET_LOGGED_VS_OFF),
            ("lab page logged ÷ logging off", page, page["off"], TARGET_LOGGED_VS_OFF),
        ):
            ratio(results, f"{label}: {what}", numerator["background"], denominator, target)
    rss = [mb for row in results.rows if row.server == "Cookie Lab" for mb in row.rss if mb]
    if rss:
        what = f"Cookie Lab workers' peak RSS < {TARGET_RSS_MB} MB"
        results.check(what, f"max {max(rss):.0f} MB", max(rss) < TARGET_RSS_MB)
    say()


def mean(values):
    values = [v for v in values if v]
    return sum(values) / len(values) if values else None


def ratio(results, what, numerator, denominator, target):
    if not numerator or not denominator:
        say(f"  n/a   {what}: not measured")
        return
    value = numerator / denominator
    results.check(what, f"{value:.2f}× (target ≥ {target})", value >= target)


def print_summary(results):
    missed = [c for c in results.checks if not c[2]]
    say(f"== Summary: {len(results.checks) - len(missed)} of {len(results.checks)} checks pass")
    for what, figures, _ in missed:
        say(f"  MISS  {what}: {figures}")


# --- Main ------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, to try the bench")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "2")),
        help="worker processes of every server (default: $WORKERS or 2)",
    )
    return parser.parse_args()


class Anchors:
    """The anchors, measured again around each database's throughput: the machine drifts."""

    def __init__(self, results, bin_dir, plan):
        self.results, self.bin_dir, self.plan = results, bin_dir, plan
        self.runs = []

    def measure(self):
        run = f"anchors {len(self.runs) + 1}"
        say(f"== Anchors (gunicorn, sync workers): {run}")
        measure_anchors(self.results, self.bin_dir, self.plan, run)
        self.runs.append(run)
        return run


def run_database(results, anchors, database, plan, secret, run_dir):
    """Throughput between two anchor runs, then the checks; the anchor runs it used."""
    before = anchors.runs[-1]
    say(f"== {database.label}: throughput (log background and off)")
    # The order alternates between databases so that neither mode always runs on the smaller log.
    modes = LOG_MODES if database.label == "SQLite" else LOG_MODES[::-1]
    throughput(results, database, plan, secret, run_dir, modes)
    after = anchors.measure()
    say(f"== {database.label}: nothing lost ({plan.lossless_requests:,} requests, reload halfway)")
    nothing_lost(results, database, plan, secret, run_dir)
    if database.label == "PostgreSQL":
        clients, requests = plan.proxy_clients, plan.proxy_requests
        say(f"== PostgreSQL: two app servers behind nginx ({clients} browsers × {requests} each)")
        several_servers(results, database, plan, secret, run_dir)
    say()
    return before, after


def main():
    args = parse_args()
    plan = Plan.make(args.quick, args.workers)
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    bin_dir = anchors_bin()
    print_machine(bin_dir)
    say(
        f"Each server: {plan.workers} worker processes. wrk: {plan.warmup} s warm-up, "
        f"{plan.duration} s measured.{' (--quick)' if args.quick else ''}"
    )
    say()
    results = Results()
    secret = secrets.token_urlsafe(50)
    started = time.monotonic()
    anchors = Anchors(results, bin_dir, plan)
    anchors.measure()
    anchor_runs = {}
    if not has_serve_target():
        say("! The Makefile has no serve target yet: Cookie Lab is not measured.")
    else:
        with tempfile.TemporaryDirectory(prefix="bench-serve-") as run_dir, ExitStack() as stack:
            run_dir = Path(run_dir)
            databases = []
            if args.only in (None, "sqlite"):
                databases.append(sqlite_database(run_dir))
            if args.only in (None, "postgres"):
                postgres = stack.enter_context(postgres_database())
                if postgres:
                    databases.append(postgres)
            for database in databases:
                anchor_runs[database.label] = run_database(
                    results, anchors, database, plan, secret, run_dir
                )
    print_table(results)
    print_ratios(results, anchor_runs)
    print_summary(results)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    say(f"\nWhole run: {time.monotonic() - started:.0f} s; load average now {load}.")
    say(f"Logs (servers, wrk): {LOGS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
