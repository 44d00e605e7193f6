"""Several app servers: two `make serve` instances behind nginx, sharing PostgreSQL."""

import http.client
import json
import threading
import time
from collections import Counter
from contextlib import ExitStack
from functools import partial

from bench.browsers import Browser, Progress, check_browsers, finish
from bench.clients import get, set_cookies
from bench.config import HTTP_TIMEOUT, LOGS, NGINX, NGINX_TEMPLATE, VISITOR_COOKIE, say
from bench.processes import Server, free_port, kill_group, running, spawn, wait_for_port
from bench.servers import start_lab


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
