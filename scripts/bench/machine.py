"""The machine and the versions of what the bench runs, printed first."""

import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

from bench.config import NGINX, say


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
    say(f"net.ipv4.tcp_migrate_req: {migrate_queued_connections()}")
    say()


MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def migrate_queued_connections():
    """
    Turn on the kernel's migration of queued connections (Linux 5.14+), as
    the README asks of a production machine: granian gives each worker its
    own accept queue, and without it a reload resets the connections queued
    at the workers it stops (granian warns of it). Only as root; else said.
    """
    try:
        if MIGRATE_REQ.read_text().strip() == "1":
            return "1"
        MIGRATE_REQ.write_text("1\n")
        return "1 (set by the bench: a reload resets no queued connection)"
    except OSError as error:
        return f"0, cannot set it ({error.strerror}): a reload may reset queued connections"
