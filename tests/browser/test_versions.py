"""The engine names the lab shows users are the browsers these tests run."""

import re

from cookies_app.rules.engines import TESTED, Engine
from tests.browser.firefox import FIREFOX


def major(version):
    return re.search(r"(\d+)\.", version).group(1)


def test_chromium_is_the_version_the_lab_names(browser):
    assert TESTED[Engine.CHROMIUM] == f"Chromium {major(browser.version)}"


def test_firefox_is_the_version_the_lab_names(firefox):
    version = firefox.version()  # "firefox/153.8.0": the ESR says so in its path only

    assert TESTED[Engine.FIREFOX] == f"Firefox {major(version)} ESR", version
    assert "esr" in FIREFOX.lower(), FIREFOX
