"""
The cookie log at scale, on SQLite and PostgreSQL: seeding, server time with a
heavy history, bytes per request, and the admin at a million requests.

For each database (a fresh SQLite file; a `bench_log_<pid>` database created on
the local PostgreSQL server and dropped afterwards, skipped when unreachable):

a) `manage.py migrate`, then `manage.py seed_cookie_log --requests N` (the log's
   own write path), then one heavy visitor with N requests of its own
   (`--visitors 1`), each timed as a subprocess. On PostgreSQL, then ANALYZE:
   the statistics autovacuum keeps on a live server (this one may run without).
b) Server time per request, in process through django.test.Client (the whole
   handler, middleware and view, in production settings: DJANGO_DEBUG=0, plain
   HTTP on loopback; no network or WSGI server, so the figure is the app's own):
   a fresh visitor against the heavy one, alternating, the same cookies on both,
   the median of 50 each after 5 warm-ups. Target: heavy/fresh <= 1.25.
c) Database growth per request through the real view stack: 5 unchanged cookies
   with a 120-byte User-Agent (target <= 300 bytes), and hostile shapes against
   the request's own size on the wire (target <= 4x): 64 cookies of 1 KiB (and,
   when the lab caps the Cookie header below that, 64 as large as the cap
   admits), a 500-character path, a new 512-byte User-Agent each request.
d) Admin server time, logged in as a superuser: the dashboard (the admin index:
   the default 7 days, all time, today; target < 500 ms), every changelist, one value of
   each of its list filters, a search by name, a date drill-down, and visitor
   pages for the heavy visitor and a typical one; the median of 5 (target < 300
   ms). Slow pages print their slowest queries with the database's plan.

Each measurement runs in its own subprocess with DATABASE_URL set. Bounded: each
step has a timeout; `--requests 100000` makes a quick run. Prints the machine, a
table and the raw figures. The machine may be shared: the load average prints too.
"""

import argparse
import json
import logging
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/postgres")
# One per run: two benches at once must not drop each other's database.
PG_DATABASE = f"bench_log_{os.getpid()}"
HOST = "localhost"
SERVER_TARGET, BYTES_TARGET, HOSTILE_TARGET, ADMIN_TARGET_MS = 1.25, 300, 4.0, 300
SERVER_RUNS, SERVER_WARMUP, ADMIN_RUNS = 50, 5, 5
SERVER_URLS = (
    "/cookies",
    "/cookies/check?source=server&key=a&value=b",
    "/api/cookies",
    "/api/cookies/set?k=v",
    "/api/cookies/export?format=json",
    "/api/cookies/signed",
)
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 bench/1"
)[:120].ljust(120, "x")
STEP_TIMEOUT = 20 * 60  # seconds, any one subprocess
# With the visitor id, the 5 cookies of c); b) sends them too.
LAB_COOKIES = {"username": "root", "theme": "dark", "lang": "en-US", "flavor": "chip"}


# The orchestrator -----------------------------------------------------------


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version(),
        "load average": os.getloadavg(),
    }


def pg_version():
    try:
        import psycopg

        with psycopg.connect(PG_SERVER, connect_timeout=3) as conn:
            version = conn.execute("show server_version").fetchone()[0]
            autovacuum = conn.execute("show autovacuum").fetchone()[0]
        return f"{version} (autovacuum {autovacuum})"
    except Exception as error:  # any failure means: skip PostgreSQL
        return f"unreachable ({type(error).__name__})"


def pg_database(create):
    """Drop the bench database, then create it again when asked; its URL."""
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return PG_SERVER.rsplit("/", 1)[0] + "/" + PG_DATABASE


def analyze(database_url):
    """
    Fresh planner statistics after the bulk load, as autovacuum would gather on
    a live server (and must be done by hand where it is off).
    """
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        autovacuum = conn.execute("show autovacuum").fetchone()[0]
        started = time.perf_counter()
        conn.execute("ANALYZE")
    print(
        f"  ANALYZE after seeding ({time.perf_counter() - started:.1f} s; autovacuum {autovacuum})"
    )


def environment(database_url):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "PYTHONUNBUFFERED": "1",
    }


def run(env, *args, label):
    """A subprocess with a timeout; (seconds, its stdout). Its output streams through."""
    started = time.perf_counter()
    print(f"  {label} ...", flush=True)
    process = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    lines = []
    deadline = started + STEP_TIMEOUT
    for line in process.stdout:
        lines.append(line)
        if not line.startswith("RESULT "):
            print(f"    {line.rstrip()}", flush=True)
        if time.perf_counter() > deadline:
            break
    try:
        process.wait(timeout=max(1, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise RuntimeError(f"{label}: over {STEP_TIMEOUT} s, stopped") from None
    if process.returncode:
        raise RuntimeError(f"{label}: exit status {process.returncode}")
    return time.perf_counter() - started, "".join(lines)


def worker_result(env, kind, label):
    """A worker's figures, printed raw at once; {"error": ...} if it failed."""
    try:
        _, output = run(env, __file__, "--worker", kind, label=label)
        result = json.loads(output.rsplit("RESULT ", 1)[1])
    except (RuntimeError, IndexError, ValueError) as error:
        print(f"    FAILED: {error}", flush=True)
        return {"error": str(error)}
    print(f"    raw: {json.dumps(result)}", flush=True)
    return result


def bench(name, database_url, requests):
    print(f"\n{name}: {requests:,} requests + a heavy visitor of {requests:,}", flush=True)
    env = environment(database_url)
    manage = str(ROOT / "manage.py")
    results = {}
    run(env, manage, "migrate", "-v0", label="migrate")
    seconds, _ = run(
        env, manage, "seed_cookie_log", f"--requests={requests}", "--seed=1", label="a) seed"
    )
    results["seed"] = {"requests": requests, "seconds": seconds, "rate": requests / seconds}
    seconds, _ = run(
        env,
        manage,
        "seed_cookie_log",
        f"--requests={requests}",
        "--visitors=1",
        "--seed=2",
        label="a) seed the heavy visitor",
    )
    results["seed heavy"] = {"requests": requests, "seconds": seconds, "rate": requests / seconds}
    if database_url.startswith("postgres"):
        analyze(database_url)
    results["server"] = worker_result(env, "server", "b) server time, fresh vs heavy")
    results["admin"] = worker_result(env, "admin", "d) admin pages")
    results["bytes"] = worker_result(env, "bytes", "c) bytes per request")
    for label, page in results["admin"].get("pages", {}).items():
        if page.get("slowest"):
            print(f"  d) {label}: {page['median_ms']:.0f} ms; its slowest queries:")
            for query in page["slowest"]:
                print(f"    {query['ms']:.0f} ms  {query['sql'][:600]}")
                print("      plan: " + "\n            ".join(query["plan"]))
    return results


def table(results):
    names = list(results)
    width = 58

    def row(label, cells):
        print(f"{label:<{width}}" + "".join(f"{c:>22}" for c in cells))

    print()
    row("", names)
    first = next(iter(results.values()))
    for key, label in (("seed", "a) seed N requests"), ("seed heavy", "a) seed the heavy visitor")):
        row(
            f"{label} ({first[key]['requests']:,})",
            [f"{r[key]['seconds']:.0f} s, {r[key]['rate']:,.0f}/s" for r in results.values()],
        )
    for url in SERVER_URLS:
        row(
            f"b) {url[:40]} fresh/heavy ms",
            [
                mark(ratio_cell(r["server"][url]), r["server"][url]["ratio"] > SERVER_TARGET)
                if url in r["server"]
                else "failed"
                for r in results.values()
            ],
        )
    for label in first["bytes"]:
        if label == "error":
            continue
        cells = []
        for r in results.values():
            b = r["bytes"].get(label)
            if b is None:
                cells.append("-")
                continue
            over = (
                b["per_request"] > BYTES_TARGET
                if b["target"] == "bytes"
                else (b["ratio"] > HOSTILE_TARGET)
            )
            status = "" if b["statuses"] == [200] else f" {b['statuses']}"
            cells.append(mark(f"{b['per_request']:,.0f} B, {b['ratio']:.2f}x{status}", over))
        row(f"c) {label}"[:width], cells)
    for label in first["admin"].get("pages", {}):
        cells = []
        for r in results.values():
            page = r["admin"].get("pages", {}).get(label)
            if page is None:
                cells.append("-")
                continue
            status = "" if page["status"] == 200 else f" [{page['status']}]"
            cells.append(
                mark(f"{page['median_ms']:,.0f} ms{status}", page["median_ms"] >= ADMIN_TARGET_MS)
            )
        row(f"d) {label}"[:width], cells)
    print("\n* over target")


def ratio_cell(figures):
    return f"{figures['fresh_ms']:.1f}/{figures['heavy_ms']:.1f} = {figures['ratio']:.2f}"


def mark(text, over):
    return f"{text} *" if over else text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    if args.requests < 1000:
        parser.error("--requests must be at least 1000")
    started = time.perf_counter()
    info = machine()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    results = {}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench_log.sqlite3'}"
            results["SQLite"] = bench("SQLite (WAL)", url, args.requests)
        print("Raw figures, SQLite: " + json.dumps(results["SQLite"]), flush=True)
    if args.only in (None, "postgresql"):
        if info["postgresql"].startswith("unreachable"):
            print(f"\nPostgreSQL: {info['postgresql']} at {PG_SERVER}, skipped")
        else:
            try:
                results["PostgreSQL"] = bench(
                    f"PostgreSQL {info['postgresql']}", pg_database(create=True), args.requests
                )
            finally:
                pg_database(create=False)
            print("Raw figures, PostgreSQL: " + json.dumps(results["PostgreSQL"]), flush=True)
    table(results)
    print(f"\nLoad average at the end: {os.getloadavg()}")
    print(f"Total time: {time.perf_counter() - started:.0f} s")
    print("Raw figures: " + json.dumps({"machine": info, "results": results}, default=str))
    return 0


# The workers: each runs inside Django, against the database in DATABASE_URL --------


def worker(kind):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cookiesite.settings")
    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 4xx we send on purpose
    print("RESULT " + json.dumps(WORKERS[kind](), default=str), flush=True)
    return 0


def browser(cookies=None, user_agent=USER_AGENT):
    """A test client that sends exactly ``cookies`` (reset before each request)."""
    from django.test import Client

    client = Client(HTTP_HOST=HOST, HTTP_USER_AGENT=user_agent, HTTP_SEC_FETCH_SITE="same-origin")
    client.held = dict(cookies or {})
    return client


def get(client, url):
    """(milliseconds, response) of one GET with the client's fixed cookies."""
    client.cookies = SimpleCookie(client.held)
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response


def new_visitor(client, url="/api/cookies"):
    """The client's first request makes it a visitor; it keeps the id from then on."""
    from django.conf import settings

    _, response = get(client, url)
    if settings.COOKIE_LAB_VISITOR_COOKIE in response.cookies:
        client.held[settings.COOKIE_LAB_VISITOR_COOKIE] = response.cookies[
            settings.COOKIE_LAB_VISITOR_COOKIE
        ].value


def server_time():
    from django.conf import settings

    from cookies_app.models import JarCookie, Visitor

    heavy = Visitor.objects.order_by("-requests").first()
    # What the heavy browser holds (redacted values are not kept, so not sent),
    # and a few more: after the warm-up they come back unchanged.
    held = {
        **LAB_COOKIES,
        **dict(
            JarCookie.objects.filter(visitor=heavy, present=True, redacted=False)
            .exclude(name=settings.COOKIE_LAB_VISITOR_COOKIE)
            .order_by("name")
            .values_list("name", "value")[:20]
        ),
    }
    fresh = browser(held)
    new_visitor(fresh)
    old = browser({**held, settings.COOKIE_LAB_VISITOR_COOKIE: heavy.key})
    results = {"heavy_requests": heavy.requests, "cookies": len(held) + 1}
    for url in SERVER_URLS:
        times = {"fresh": [], "heavy": []}
        statuses = set()
        for run_number in range(SERVER_WARMUP + SERVER_RUNS):
            for label, client in (("fresh", fresh), ("heavy", old)):
                ms, response = get(client, url)
                statuses.add(response.status_code)
                if run_number >= SERVER_WARMUP:
                    times[label].append(ms)
        fresh_ms, heavy_ms = statistics.median(times["fresh"]), statistics.median(times["heavy"])
        ratio = heavy_ms / fresh_ms
        results[url] = {
            "fresh_ms": fresh_ms,
            "heavy_ms": heavy_ms,
            "ratio": ratio,
            "statuses": sorted(statuses),
        }
        print(f"{url:<45} fresh {fresh_ms:6.2f} ms  heavy {heavy_ms:6.2f} ms  {ratio:.2f}x")
    return results


def request_size(url, cookies, user_agent):
    """Bytes of the request as a browser sends it: request line and headers."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    lines = [
        f"GET {url} HTTP/1.1",
        f"Host: {HOST}",
        f"User-Agent: {user_agent}",
        "Sec-Fetch-Site: same-origin",
        *([f"Cookie: {cookie}"] if cookie else []),
    ]
    return len(("\r\n".join(lines) + "\r\n\r\n").encode())


def database_bytes():
    """(file or relation bytes, bytes in use) of the log's tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("PRAGMA page_size")
            (page,) = cursor.fetchone()
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            cursor.execute("PRAGMA freelist_count")
            (free,) = cursor.fetchone()
            return os.path.getsize(connection.settings_dict["NAME"]), (pages - free) * page
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class "
            "WHERE relkind = 'r' AND relname LIKE 'cookies_app%%'"
        )
        size = int(cursor.fetchone()[0])  # numeric in PostgreSQL: a Decimal
        return size, size


def grow(label, count, make_request, target, size):
    """
    Database growth per request over ``count`` requests, against the request's
    ``size``. ``make_request(i)`` sends the i-th request and returns (ms, response).
    """
    before, used_before = database_bytes()
    statuses = sorted({make_request(index)[1].status_code for index in range(count)})
    after, used_after = database_bytes()
    per_request = (after - before) / count
    figures = {
        "requests": count,
        "statuses": statuses,
        "per_request": per_request,
        "used_per_request": (used_after - used_before) / count,
        "request_bytes": size,
        "ratio": per_request / size,
        "target": target,
    }
    print(
        f"{label:<58} {per_request:9,.0f} B/request (in use {figures['used_per_request']:,.0f}), "
        f"request {size:,} B, {figures['ratio']:.2f}x, status {statuses}"
    )
    return figures


def cookie_header_limit():
    """The largest Cookie header the lab accepts (it answers 431 past it), if it has one."""
    try:
        from cookies_app.limits import max_cookie_header
    except ImportError:
        return None
    return max_cookie_header()


def storage():

    results = {}

    def measure(label, count, make_request, target, size):
        results[label] = grow(label, count, make_request, target, size)

    five = browser(LAB_COOKIES)
    new_visitor(five)
    for _ in range(10):
        get(five, "/api/cookies")
    measure(
        "5 unchanged cookies, 120-byte UA",
        5000,
        lambda i: get(five, "/api/cookies"),
        "bytes",
        request_size("/api/cookies", five.held, USER_AGENT),
    )

    # 64 cookies of 1 KiB; and, if the lab caps the Cookie header below that,
    # 64 cookies as large as the cap lets through (the worst it logs).
    limit = cookie_header_limit()
    value_sizes = [1024]
    if limit and 64 * (len("c00=; ") + 1024) + 50 > limit:
        value_sizes.append((limit - 50) // 64 - len("c00=; "))
    for size in value_sizes:
        shape = f"64 x {size} B cookies" if size != 1024 else "64 x 1 KiB cookies"
        value = "v" * size
        big = {f"c{i:02}": value for i in range(64)}
        measure(
            f"{shape}, a new browser each request",
            100,
            lambda i, big=big: get(browser(big), "/api/cookies"),
            "ratio",
            request_size("/api/cookies", big, USER_AGENT),
        )
        changing = browser(big)
        new_visitor(changing)

        def change_values(index, changing=changing, big=big, value=value):
            changing.held.update(dict.fromkeys(big, f"{index:04}" + value[4:]))
            return get(changing, "/api/cookies")

        measure(
            f"{shape}, every value changing",
            100,
            change_values,
            "ratio",
            request_size("/api/cookies", changing.held, USER_AGENT),
        )
        measure(
            f"{shape}, unchanged",
            200,
            lambda i, changing=changing: get(changing, "/api/cookies"),
            "ratio",
            request_size("/api/cookies", changing.held, USER_AGENT),
        )

    prefix = "/api/cookies/set/p/"
    long_path = prefix + "v" * (500 - len(prefix))
    walker = browser()
    new_visitor(walker)
    measure(
        "500-char path (/api/cookies/set/p/<value>)",
        200,
        lambda i: get(walker, long_path),
        "ratio",
        request_size(long_path, walker.held, USER_AGENT),
    )

    agents = browser()
    new_visitor(agents)

    def new_agent(index):
        agents.defaults["HTTP_USER_AGENT"] = f"Mozilla/5.0 (bench {index:06}) ".ljust(512, "x")
        return get(agents, "/api/cookies")

    measure(
        "512-byte UA, a new one each request",
        200,
        new_agent,
        "ratio",
        request_size("/api/cookies", agents.held, "x" * 512),
    )
    return results


def admin_pages():
    from datetime import UTC

    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from cookies_app.models import JarCookie, Request, SetCookieLine, Visitor

    user = get_user_model().objects.create_superuser("bench", "bench@localhost", None)
    client = browser()
    client.force_login(user)
    client.held = {k: m.value for k, m in client.cookies.items()}

    # The dashboard (the admin index): its default range and all time.
    pages = {
        "dashboard, last 7 days (default)": reverse("admin:index"),
        "dashboard, all time": reverse("admin:index") + "?range=all",
        "dashboard, today": reverse("admin:index") + "?range=today",
    }
    for model in (JarCookie, Request, SetCookieLine, Visitor):
        url = reverse(f"admin:cookies_app_{model._meta.model_name}_changelist")
        pages[f"{model._meta.model_name} list"] = url
        for label, query in filter_choices(
            admin.site._registry[model], url, user, RequestFactory()
        ):
            pages[f"{model._meta.model_name} filter {label}"] = url + query
    # A name nearly every visitor has, and a rare one.
    rare = JarCookie.objects.filter(name__startswith="__Host-").values_list("name", flat=True)
    for name in ("username", *rare[:1]):
        for model in (JarCookie, SetCookieLine):
            url = reverse(f"admin:cookies_app_{model._meta.model_name}_changelist")
            pages[f"{model._meta.model_name} search {name}"] = f"{url}?q={name}"
    latest = Request.objects.order_by("-at").values_list("at", flat=True).first().astimezone(UTC)
    day = f"at__year={latest.year}&at__month={latest.month}&at__day={latest.day}"
    for model in (Request, SetCookieLine):
        url = reverse(f"admin:cookies_app_{model._meta.model_name}_changelist")
        pages[f"{model._meta.model_name} day {latest:%Y-%m-%d}"] = f"{url}?{day}"
    visitors = Visitor.objects.order_by("requests")
    typical = visitors[visitors.count() // 2]
    heavy = visitors.last()
    for label, visitor in (("heavy", heavy), ("typical", typical)):
        url = reverse("admin:cookies_app_visitor_change", args=[visitor.pk])
        pages[f"visitor page, {label} ({visitor.requests:,} requests)"] = url

    results = {"requests": Request.objects.count(), "pages": {}}
    for label, url in pages.items():
        times, status = [], None
        for run_number in range(ADMIN_RUNS + 1):
            ms, response = get(client, url)
            status = response.status_code
            if run_number:
                times.append(ms)
            if ms > 10_000:  # a page this slow is measured once
                times.append(ms)
                break
        median = statistics.median(times)
        page = {"url": url, "median_ms": median, "status": status}
        if median >= ADMIN_TARGET_MS:
            with CaptureQueriesContext(connection) as queries:
                get(client, url)
            page["slowest"] = slowest(queries.captured_queries)
        results["pages"][label] = page
        print(f"{label:<60} {median:8.0f} ms  [{status}]  {url}")
    return results


def filter_choices(model_admin, url, user, factory):
    """(label, query string) of one value of each of the changelist's filters."""
    request = factory.get(url)
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            if not choice["selected"] and choice["query_string"] not in ("?", ""):
                yield f"{spec.title} = {choice['display'] or '(blank)'}", choice["query_string"]
                break


def slowest(captured, count=3):
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    found = []
    for query in sorted(captured, key=lambda q: -float(q["time"]))[:count]:
        try:
            with connection.cursor() as cursor:
                cursor.execute(explain + query["sql"])
                plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
        except Exception as error:  # a query the backend will not explain as printed
            plan = [f"(no plan: {error})"]
        found.append({"ms": float(query["time"]) * 1000, "sql": query["sql"], "plan": plan})
    return found


WORKERS = {"server": server_time, "bytes": storage, "admin": admin_pages}

if __name__ == "__main__":
    sys.exit(main())
