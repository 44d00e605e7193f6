"""
Screenshots of the lab (laptop and phone), the cross-site matrix and the admin
(log and dashboard), taken in Debian's Chromium.

Starts Cookie Lab on a throwaway SQLite database, sets a few cookies (one of
them one the browser drops), and writes PNGs to docs/screenshots/.
Run with `make screenshots`.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]  # fmt: skip
PASSWORD = secrets.token_urlsafe(16)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The server did not start on port {port}.")


def server_env(database):
    # Production mode (no debug toolbar in the pictures), plain HTTP on loopback.
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # Both loopback names: the cross-site matrix needs two sites.
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }


def submit_server_form(page, fields, checks=()):
    """Fill the lab's server form and wait for the 303 back to the lab."""
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    for name in checks:
        page.check(f"#id_{name}")
    page.click("#server-form button[type=submit]")
    page.wait_for_url("**?sent=*")


def lab_session(page, base):
    page.goto(f"{base}/cookies")
    submit_server_form(page, {"key": "theme", "value": "dark", "max_age": "3600"}, ["httponly"])
    # One the browser drops: SameSite=None without Secure.
    page.select_option("#id_samesite", "None")
    submit_server_form(page, {"key": "tracker", "value": "1"}, ["send_anyway"])
    page.fill("#js-name", "from_js")
    page.fill("#js-value", "hello world")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    page.reload()
    page.fill("#id_key", "__Host-demo")
    page.fill("#id_path", "/cookies")
    page.wait_for_selector("#server-findings li")
    page.screenshot(path=OUT / "lab.png", full_page=True)


def phone_session(page, base):
    """The lab at a phone's 390 px: no sideways scroll, tables as cards."""
    page.goto(f"{base}/cookies")
    submit_server_form(page, {"key": "theme", "value": "dark", "max_age": "3600"}, ["httponly"])
    page.screenshot(path=OUT / "lab-phone.png", full_page=True)


def matrix_session(page, context, base):
    """The cross-site matrix: the lab on 127.0.0.1, the launch page on localhost."""
    page.goto(f"{base}/cookies/matrix")
    page.click("#matrix-start button[type=submit]")
    page.click("#launch-link")
    with context.expect_page() as popup:
        page.click("#run-embedded")
    popup.value.wait_for_load_state()
    page.wait_for_selector("#embedded-status[data-done=true]")
    page.click("#post-form button[type=submit]")
    page.wait_for_url("**/cookies/matrix/launch?*#step-link")
    page.click("#cross-site-link")
    page.wait_for_url("**/cookies/matrix/results?*")
    page.screenshot(path=OUT / "matrix.png", full_page=True)


def admin_session(page, base, visitor):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    # The dashboard (the admin index), in the admin's light and dark themes.
    page.wait_for_selector("canvas[data-chart]")
    page.screenshot(path=OUT / "dashboard-light.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(300)  # the charts redraw with the dark theme's colours
    page.screenshot(path=OUT / "dashboard-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")
    # The visitor's page: its jar, the round-trip verdicts and the timeline.
    page.goto(f"{base}/admin/cookies_app/visitor/?q={visitor}")
    page.click("#result_list tbody a")
    page.wait_for_selector("#jar")
    page.screenshot(path=OUT / "admin-log.png", full_page=True)
    page.goto(f"{base}/admin/cookies_app/jarcookie/")
    page.screenshot(path=OUT / "admin-cookies.png", full_page=True)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(Path(tmp) / "screens.sqlite3")
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        # A week of simulated traffic, so the dashboard has something to show.
        subprocess.run(
            [*manage, "seed_cookie_log", "--requests", "20000", "--visitors", "300",
             "--days", "7", "--seed", "7"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(
            [*manage, "createsuperuser", "--noinput", "--username", "admin",
             "--email", "admin@localhost"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        server = subprocess.Popen(
            [*manage, "runserver", "--insecure", "--noreload", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(port)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                lab_session(context.new_page(), base)
                visitor = next(
                    c["value"] for c in context.cookies() if c["name"] == "cookielab_visitor"
                )
                admin_session(
                    browser.new_page(viewport={"width": 1400, "height": 900}), base, visitor
                )
                phone = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                )
                phone_session(phone.new_page(), base)
                matrix = browser.new_context(viewport={"width": 1280, "height": 900})
                matrix_session(matrix.new_page(), matrix, base)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    for png in sorted(OUT.glob("*.png")):
        print(f"wrote {png.relative_to(ROOT)} ({png.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
