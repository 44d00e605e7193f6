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
- Debian's nginx: in front of one `make serve` for the reload check, in front
  of two for the last check.

What it measures (wrk -t2 -c32, five cookies a request and, for Cookie Lab,
what each of 64 browsers got on its first visits, round robin: its visitor id
and CSRF cookie, which a returning browser sends):
- req/s, p50 and p99 of each, and each worker's peak RSS (target: < 100 MB);
- `/api/cookies` with every cookie logged ÷ httpbin `/cookies` (target ≥ 1.0),
  the lab page with logging ÷ the Flask tutorial (target ≥ 0.5), and logging
  on ÷ off for both (target ≥ 0.9);
- requests answered (wrk's count) against rows logged, after a graceful stop;
- nothing lost: 32 clients, 20,000 requests with a graceful reload (SIGHUP)
  halfway, through nginx as in production, then 0 errors and every completed
  request in the log with its 6 cookies; run again straight to granian, whose
  errors are counted, not checked (it now and then closes a connection a
  stopping worker had just accepted: README, "Reloads under load");
- several app servers: two instances behind nginx sharing PostgreSQL, each
  browser's jar consistent whichever answers, 0 lost, no duplicate jar rows.

Figures vary from run to run and machine to machine: compare the ratios, which
come from one run. `--quick` shortens everything to try the tool; `--only
sqlite|postgres` runs one database. Logs (servers, wrk) go to .bench/logs.
"""

import argparse
import os
import secrets
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.config import LOG_MODES, LOGS, ROOT, Plan, say
from bench.database import postgres_database, sqlite_database
from bench.lossless import nothing_lost
from bench.machine import print_machine
from bench.proxy import several_servers
from bench.report import Results, print_ratios, print_summary, print_table
from bench.servers import anchors_bin, has_serve_target
from bench.throughput import Anchors, throughput


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


def run_database(results, anchors, database, plan, secret, run_dir):
    """Throughput between two anchor runs, then the checks; the anchor runs it used."""
    before = anchors.runs[-1]
    say(f"== {database.label}: throughput (log background and off)")
    # The order alternates between databases so that neither mode always runs on the smaller log.
    modes = LOG_MODES if database.label == "SQLite" else LOG_MODES[::-1]
    throughput(results, database, plan, secret, run_dir, modes)
    after = anchors.measure()
    requests = f"{plan.lossless_requests:,} requests, reload halfway"
    say(f"== {database.label}: nothing lost ({requests}), behind nginx as in production")
    nothing_lost(results, database, plan, secret, run_dir, proxied=True)
    say(f"== {database.label}: the same, straight to granian")
    nothing_lost(results, database, plan, secret, run_dir, proxied=False)
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
