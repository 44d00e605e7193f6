"""Without Chromium or Firefox, browser tests skip with a message, except in CI where they fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONE_BROWSER_TEST = (
    "tests/browser/test_lab.py::test_first_visit_shows_username_root_in_document_cookie"
)


# No database: the run under test must not create one beside this one (PostgreSQL).
ONE_FIREFOX_TEST = "tests/browser/test_versions.py::test_firefox_is_the_version_the_lab_names"


def run_without_chromium(ci, test=ONE_BROWSER_TEST, **paths):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(paths or {"CHROMIUM_PATH": "/nonexistent/chromium"}, CI=ci)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["", "false"])
def test_missing_chromium_skips_outside_ci(ci):
    result = run_without_chromium(ci)

    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "No Chromium at /nonexistent/chromium" in result.stdout


def test_missing_chromium_fails_in_ci():
    result = run_without_chromium("true")

    assert result.returncode != 0
    assert "No Chromium at /nonexistent/chromium" in result.stdout


@pytest.mark.parametrize(("ci", "passes"), [("", True), ("true", False)])
def test_missing_firefox_skips_outside_ci_and_fails_in_it(ci, passes):
    result = run_without_chromium(ci, ONE_FIREFOX_TEST, FIREFOX_PATH="/nonexistent/firefox")

    assert (result.returncode == 0) is passes, result.stdout
    assert "No Firefox at /nonexistent/firefox" in result.stdout
