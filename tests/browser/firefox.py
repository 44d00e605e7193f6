"""
Firefox for the browser tests: Debian's firefox-esr driven over WebDriver BiDi
by puppeteer-core (tests/browser/firefox/bridge.mjs, `npm ci` there), behind
the few Playwright methods the lab's helpers use (lab_page.py), so one test
body runs in both engines.
"""

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from urllib.parse import urljoin

FIREFOX = os.environ.get("FIREFOX_PATH") or shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
BRIDGE = Path(__file__).with_name("firefox") / "bridge.mjs"
PUPPETEER = BRIDGE.parent / "node_modules" / "puppeteer-core"
TIMEOUT = 30  # seconds for one command, navigation included
# What Playwright's evaluate takes for a function rather than an expression.
FUNCTION = re.compile(r"\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[\w$]+\s*=>)")


def missing():
    """Why the Firefox tests cannot run here, or ""."""
    if not os.path.exists(FIREFOX):
        return f"No Firefox at {FIREFOX}: `apt-get install -y firefox-esr` or set FIREFOX_PATH."
    if not shutil.which("node"):
        return "No Node.js: the Firefox tests drive firefox-esr with puppeteer-core."
    if not PUPPETEER.exists():
        return f"puppeteer-core is not installed: `npm ci --prefix {BRIDGE.parent}`."
    return ""


class BridgeError(RuntimeError):
    pass


class Firefox:
    """One firefox-esr, through one bridge process: commands go one at a time."""

    def __init__(self):
        env = {**os.environ, "FIREFOX_PATH": FIREFOX}
        # Its own process group: a timeout kills Firefox with node, not node alone.
        self.process = subprocess.Popen(
            ["node", str(BRIDGE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        # Read all along, so that a chatty browser never fills the pipe and blocks.
        self.stderr = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self):
        for line in self.process.stderr:
            self.stderr = [*self.stderr[-200:], line]

    def _kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def call(self, command, **args):
        with self.lock:
            number = next(self.ids)
            self.process.stdin.write(json.dumps({"id": number, "command": command, "args": args}))
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            line = self._read_line()
        answer = json.loads(line)
        if not answer["ok"]:
            raise BridgeError(f"{command}: {answer['error']}")
        return answer["value"]

    def _read_line(self):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()))
        reader.start()
        reader.join(TIMEOUT)
        if reader.is_alive() or not result or not result[0]:
            self._kill()
            raise BridgeError(f"Firefox did not answer: {''.join(self.stderr)[-2000:]}")
        return result[0]

    def version(self):
        """The browser's own name for its version, e.g. "firefox/153.8.0esr"."""
        return self.call("version")

    def new_context(self, base_url):
        return Context(self, self.call("newContext"), base_url)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self._kill()


class Context:
    """A browser context (its own cookie jar), like Playwright's BrowserContext."""

    def __init__(self, firefox, number, base_url):
        self.firefox, self.number, self.base_url = firefox, number, base_url

    def new_page(self):
        return Page(self, self.firefox.call("newPage", context=self.number))

    def cookies(self):
        """The jar, with Playwright's field names (sameSite, httpOnly, expires in seconds)."""
        return [_as_playwright(c) for c in self.firefox.call("cookies", context=self.number)]

    def close(self):
        self.firefox.call("closeContext", context=self.number)


class Page:
    """The Playwright Page methods lab_page.py uses."""

    def __init__(self, context, number):
        self.context, self.number = context, number
        self.call = lambda command, **args: context.firefox.call(command, page=number, **args)

    def goto(self, url):
        return self.call("goto", url=urljoin(self.context.base_url, url))

    def javascript_errors(self):
        """The page's uncaught JavaScript errors so far (Playwright's "pageerror")."""
        return self.call("errors")

    def reload(self):
        self.call("reload")

    @property
    def url(self):
        return self.call("url")

    def evaluate(self, source, arg=None):
        if not FUNCTION.match(source):
            source = f"() => ({source})"  # an expression, as Playwright takes it
        return self.call("evaluate", source=source, arg=arg)

    def fill(self, selector, value):
        self.call("fill", selector=selector, value=value)

    def select_option(self, selector, value):
        self.call("select", selector=selector, value=value)

    def set_checked(self, selector, checked):
        self.call("setChecked", selector=selector, checked=checked)

    def check(self, selector):
        self.set_checked(selector, True)

    def click(self, selector, navigates=True):
        return self.call("click", selector=selector, navigates=navigates)

    def wait_for_selector(self, selector):
        self.call("waitForSelector", selector=selector)

    def wait_for_url(self, pattern):
        """The click that navigated waited for the load already: check where it landed."""
        suffix = pattern.lstrip("*").replace("*", "")
        assert suffix in self.url, (pattern, self.url)


def _as_playwright(cookie):
    return {
        "name": cookie["name"],
        "value": cookie["value"],
        "domain": cookie["domain"],
        "path": cookie["path"],
        "expires": cookie.get("expires", -1),
        "httpOnly": cookie.get("httpOnly", False),
        "secure": cookie.get("secure", False),
        "sameSite": cookie.get("sameSite"),
        "partitionKey": cookie.get("partitionKey"),
    }
