"""req/s of the anchors and of Cookie Lab, and requests answered against rows logged."""

from collections import Counter
from functools import partial

from bench.clients import returning_browsers
from bench.config import WRK_VISITORS, say
from bench.processes import running
from bench.report import Row, rss_text
from bench.servers import start_gunicorn, start_lab
from bench.wrk import measure


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
            fresh = returning_browsers(server.port, WRK_VISITORS, answered)
            sent.update(answered)
            visitors = fresh or visitors
            if not visitors:
                say("  ! no visitor id issued: the load carries none")
            visitors_file = run_dir / f"{name}.browsers"
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
