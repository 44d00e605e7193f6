"""
The servers measured: the anchors (the Flask tutorial and httpbin) under
gunicorn in their own virtualenv, and Cookie Lab under `make serve`.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.config import ANCHORS_VENV, BENCH, LOGS, REQUIREMENTS, ROOT, say
from bench.processes import Server, free_port, kill_group, spawn, tail, wait_for_port

# --- Anchors: the Flask tutorial and httpbin under gunicorn ------------------------


def base_python():
    """The machine's Python this venv was made from (never the project's venv)."""
    base = getattr(sys, "_base_executable", None)
    if base and Path(base).exists():
        return base
    found = subprocess.run(
        ["pyenv", "which", "python3.13"], capture_output=True, text=True, timeout=30
    )
    return found.stdout.strip() or "python3.13"


def anchors_bin():
    """The anchors' venv, made again only when the pinned requirements change."""
    python = base_python()
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + python.encode()).hexdigest()
    stamp = ANCHORS_VENV / ".requirements-sha256"
    bin_dir = ANCHORS_VENV / "bin"
    if stamp.exists() and stamp.read_text() == digest and (bin_dir / "gunicorn").exists():
        return bin_dir
    say(f"Installing the anchors in {ANCHORS_VENV.relative_to(ROOT)} ...")
    shutil.rmtree(ANCHORS_VENV, ignore_errors=True)
    subprocess.run([python, "-m", "venv", ANCHORS_VENV], check=True, timeout=120)
    # pip's output only matters when it fails.
    pip = subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if pip.returncode:
        sys.exit(f"pip install -r {REQUIREMENTS} failed:\n{pip.stdout}{pip.stderr}")
    stamp.write_text(digest)
    return bin_dir


def start_gunicorn(name, app, bin_dir, workers):
    port = free_port()
    log = LOGS / f"{name}.log"
    command = [
        bin_dir / "gunicorn",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--log-level=warning",
    ]
    process = spawn(command, log, cwd=BENCH)
    try:
        wait_for_port(port, process, log)
    except BaseException:
        kill_group(process)
        raise
    return Server(name, port, process, process.pid, log)


# --- Cookie Lab under `make serve` -----------------------------------------------


def has_serve_target():
    makefile = (ROOT / "Makefile").read_text()
    return any(line.startswith("serve:") for line in makefile.splitlines())


def lab_environment(database_url, log_mode, secret):
    # Nothing of the caller's Django, Cookie Lab or make settings leaks in
    # (an outer `make bench` passes MAKEFLAGS down).
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "COOKIE_LAB_", "MAKE", "MFLAGS"))
        and key not in ("DATABASE_URL", "PORT", "WORKERS", "PIDFILE")
    }
    return {
        **inherited,
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_SECURE": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "COOKIE_LAB_LOG": log_mode,
    }


def start_lab(name, database, log_mode, secret, workers, run_dir):
    port = free_port()
    pidfile = run_dir / f"{name}.pid"
    log = LOGS / f"{name}.log"
    command = [
        "make",
        "--no-print-directory",
        "serve",
        f"PORT={port}",
        f"WORKERS={workers}",
        f"PIDFILE={pidfile}",
    ]
    env = lab_environment(database.url, log_mode, secret)
    process = spawn(command, log, cwd=ROOT, env=env)
    try:
        wait_for_port(port, process, log)
        pid = read_pidfile(pidfile, process, log)
    except BaseException:
        kill_group(process)
        raise
    return Server(name, port, process, pid, log)


def read_pidfile(pidfile, process, log):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"no live PID in {pidfile}\n{tail(log)}")
