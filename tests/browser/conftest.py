"""
Real-browser fixtures: Debian's Chromium driven by Playwright against
pytest-django's live_server.

Playwright's sync API runs an event loop in the test thread; the ORM calls a
test makes there need DJANGO_ALLOW_ASYNC_UNSAFE.
"""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium stalls on this network's blocked connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = (
            f"No Chromium at {CHROMIUM}: `apt-get install -y chromium` (Debian's build) "
            "or set CHROMIUM_PATH to run the browser tests."
        )
        unavailable(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def unavailable(message):
    """A browser this machine lacks: skipped locally, a failure in CI."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def firefox():
    """Debian's firefox-esr over WebDriver BiDi (tests/browser/firefox.py)."""
    from tests.browser import firefox as driver

    reason = driver.missing()
    if reason:
        unavailable(reason)
    browser = driver.Firefox()
    yield browser
    browser.close()


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors = []
    if hasattr(page, "javascript_errors"):  # Firefox: its driver collects them
        yield page
        errors = page.javascript_errors()
    else:
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
    assert errors == [], f"JavaScript errors on the page: {errors}"
