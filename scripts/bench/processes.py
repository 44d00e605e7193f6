"""Servers the bench starts: ports, PIDs, workers' peak RSS, graceful stop."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.config import START_TIMEOUT, STOP_TIMEOUT, say


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, log):
    """Until the port accepts a connection; fails if the process exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before answering\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer on port {port} within {START_TIMEOUT} s\n{tail(log)}")


def tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def child_pids(pid):
    """Direct children of ``pid``, from /proc (field 4 of stat is the parent)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(after_name[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def peak_rss_mb(pid):
    """VmHWM, the process's peak resident set, in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class Server:
    """
    A server the bench started. ``process`` is what it spawned (gunicorn or
    nginx themselves, or `make`, whose child is granian); ``pid`` is the
    server's main process, which takes the signals.
    """

    name: str
    port: int
    process: subprocess.Popen
    pid: int
    log: Path

    def workers(self):
        return child_pids(self.pid)

    def peak_rss(self):
        return {pid: peak_rss_mb(pid) for pid in self.workers()}

    def reload(self):
        os.kill(self.pid, signal.SIGHUP)

    def stop(self):
        """Graceful (SIGTERM, then wait); killed, with a note, if that hangs."""
        if self.process.poll() is not None:
            return self.process.returncode
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"  ! {self.name} did not stop within {STOP_TIMEOUT} s of SIGTERM: killed")
            kill_group(self.process)
            return None


def kill_group(process):
    """SIGKILL the session the bench started the process in (its own)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)


def spawn(command, log, **kwargs):
    """A process in its own session, so that a hung one is killed with its children."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(part) for part in command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )


@contextmanager
def running(server_factory):
    """The server from ``server_factory()``, always stopped on the way out."""
    server = server_factory()
    try:
        yield server
    finally:
        server.stop()
