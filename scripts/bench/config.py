"""Paths, the load's cookies, issue 12's targets and time bounds, and the run's size."""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # scripts/bench/config.py
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
