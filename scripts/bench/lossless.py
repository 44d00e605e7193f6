"""
Nothing lost: many browsers, a graceful reload (SIGHUP) halfway.

Checked as in production, through nginx in front of `make serve` (which
listens on loopback behind a proxy), and counted straight to granian too:
there granian 2.8 now and then closes a connection that a stopping worker
had just accepted, unanswered (README, "Reloads under load").
"""

import threading
import time
from contextlib import ExitStack
from functools import partial

from bench.browsers import Browser, Progress, check_browsers, finish
from bench.config import LOAD_TIMEOUT, STOP_TIMEOUT, say
from bench.processes import running
from bench.proxy import start_nginx
from bench.report import rss_text
from bench.servers import start_lab


def nothing_lost(results, database, plan, secret, run_dir, proxied):
    """``proxied``: the browsers go through nginx; else straight to granian, errors counted only."""
    name = f"lab-{database.label.lower()}-lossless{'-proxied' if proxied else ''}"
    total = plan.lossless_requests
    progress, stop = Progress(), threading.Event()
    quotas = [total // plan.lossless_clients] * plan.lossless_clients
    quotas[0] += total - sum(quotas)
    start = partial(start_lab, name, database, "background", secret, plan.workers, run_dir)
    with running(start) as server, ExitStack() as proxy:
        port = server.port
        if proxied:
            port = proxy.enter_context(running(partial(start_nginx, [server.port], run_dir))).port
        browsers = [Browser(port, q, progress, stop) for q in quotas]
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
    where = "behind nginx" if proxied else "straight to granian"
    what = f"{database.label}, nothing lost {where}"
    check_browsers(results, database, what, browsers, 1, errors_checked=proxied)


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
