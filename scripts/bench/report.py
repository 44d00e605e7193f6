"""The results and checks as they come, then the table, the ratios and the summary."""

from dataclasses import dataclass, field

from bench.config import (
    LOG_MODES,
    TARGET_API_VS_HTTPBIN,
    TARGET_LOGGED_VS_OFF,
    TARGET_PAGE_VS_FLASK,
    TARGET_RSS_MB,
    say,
)
from bench.wrk import WrkRun


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
