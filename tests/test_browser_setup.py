"""Without Chromium, browser tests skip with a message, except in CI where they fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONE_BROWSER_TEST = (
    "tests/browser/test_lab.py::test_first_visit_shows_username_root_in_document_cookie"
)


def run_without_chromium(ci):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(CHROMIUM_PATH="/nonexistent/chromium", CI=ci)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", ONE_BROWSER_TEST],
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
