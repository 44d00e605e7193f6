"""wrk runs with the bench's Lua script, and the figures it reports."""

import json
import os
import subprocess
from dataclasses import dataclass

from bench.config import COOKIE_HEADER, LOGS, WRK_CONNECTIONS, WRK_SCRIPT, WRK_THREADS


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
