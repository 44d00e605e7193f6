"""
Load check of the lab's logging path against a real server on 127.0.0.1.

Starts Cookie Lab under gunicorn (production mode, plain HTTP on loopback,
persistent connections) on SQLite, and on
PostgreSQL when DATABASE_URL_PG (default: the local server) answers, then sends
a bounded number of GET /cookies requests from concurrent clients, each with a
given number of cookies. Prints throughput, latency and errors (a "database is
locked" would show as a 500) for the lab page, for /api/cookies (a small JSON
answer that logs every cookie) and for /cookies/check (a small JSON answer that
logs nothing): their ratio is the cost of the log. On PostgreSQL it also counts
the connections left open, which persistent connections keep at one a thread.
Run with `make bench`. Figures are from one run on this machine: compare the
ratios, not the absolute numbers.
"""

import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
WORKERS, THREADS = 2, 4
REQUESTS = 400  # per scenario, across all clients
COOKIE_COUNTS = (1, 10, 60)
PG_URL = os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/postgres")
TIME_LIMIT = 120  # seconds per scenario, whatever happens


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    # The production server: WORKERS processes x THREADS threads, each thread
    # keeping one persistent database connection.
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "cookiesite.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            f"--threads={THREADS}",
            "--worker-class=gthread",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not start")


def run(port, path, cookies):
    """REQUESTS requests from CLIENTS threads; latencies in ms and failures."""
    header = "; ".join(f"c{i}={'v' * 20}" for i in range(cookies))
    latencies, failures = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + TIME_LIMIT

    def client(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            if time.monotonic() > stop_at:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": header, "Connection": "close"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError as error:
                status = repr(error)
            conn.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=client, args=(REQUESTS // CLIENTS,)) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return len(latencies) / wall, latencies, failures


def report(label, result):
    rate, latencies, failures = result
    quantiles = statistics.quantiles(latencies, n=20)
    print(
        f"  {label:<28} {rate:7.1f} req/s   p50 {statistics.median(latencies):6.1f} ms"
        f"   p95 {quantiles[18]:6.1f} ms   errors {len(failures)}"
        + (f" {sorted(set(map(str, failures)))}" if failures else "")
    )
    return rate


def postgres_answers():
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def pg_connections():
    """Connections to the benchmark's database held open right now."""
    import psycopg

    with psycopg.connect(PG_URL) as conn:
        query = "select count(*) from pg_stat_activity where datname = current_database()"
        return conn.execute(query).fetchone()[0] - 1  # less this one


def bench(name, database_url, count_connections=False):
    print(
        f"{name}: gunicorn {WORKERS} workers x {THREADS} threads, {CLIENTS} clients, "
        f"{REQUESTS} requests per scenario"
    )
    server, port = start_server(database_url)
    try:
        run(port, "/cookies", 1)  # warm up
        for count in COOKIE_COUNTS:
            report(f"lab page, {count} cookies", run(port, "/cookies", count))
            logged = report(f"/api/cookies, {count} cookies", run(port, "/api/cookies", count))
            plain = report(
                f"/cookies/check, {count} cookies", run(port, "/cookies/check?key=k", count)
            )
            print(f"  logged/unlogged JSON at {count} cookies: {logged / plain:.2f}")
        if count_connections:
            total = len(COOKIE_COUNTS) * 3 * REQUESTS
            print(f"  database connections open after {total} requests: {pg_connections()}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite (WAL, IMMEDIATE)", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    if postgres_answers():
        bench("PostgreSQL", PG_URL, count_connections=True)
    else:
        print("PostgreSQL: not reachable on 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()
