"""
axe-core in Chromium on the lab, the matrix and the admin: no violation whose
impact is serious or critical (issue 11, item 8).

axe-core comes from axe-playwright-python, which ships axe.min.js in the wheel
and injects it with page.evaluate: nothing is fetched at test time, and the
site's CSP does not block what Playwright evaluates.

/api/cookies is JSON: Chromium wraps it in its own viewer document (a <pre>
and a "pretty-print" checkbox), so axe there would judge Chromium's markup,
none of ours. The API's pages for people are the lab and the admin, tested here.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from cookies_app.models import Visitor
from tests.browser.test_matrix import run_matrix

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a11y-pw"
BLOCKING = ("serious", "critical")
TARGETS_SHOWN = 3

_axe = Axe()


def blocking_violations(page):
    """axe's serious and critical violations on the page as it stands."""
    results = _axe.run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def describe(violations):
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        more = len(targets) - TARGETS_SHOWN
        shown = ", ".join(targets[:TARGETS_SHOWN]) + (f" (+{more} more)" if more > 0 else "")
        lines.append(f"{violation['id']} [{violation['impact']}]: {shown} — {violation['help']}")
    return "axe found serious or critical violations:\n" + "\n".join(lines)


def assert_accessible(page):
    violations = blocking_violations(page)
    assert violations == [], describe(violations)


@pytest.fixture
def staff_page(page, django_user_model):
    """A superuser logged in to the admin, after one visit to the lab (so the log has rows)."""
    django_user_model.objects.create_superuser("a11y", "a11y@example.com", PASSWORD)
    page.goto("/cookies")
    page.goto("/admin/login/")
    page.fill("#id_username", "a11y")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


@pytest.mark.parametrize("path", ["/cookies", "/cookies/sub/", "/cookies/matrix"])
def test_lab_pages(page, path):
    page.goto(path)
    assert_accessible(page)


def test_matrix_results_page(page, context, live_server):
    run_matrix(page, context, live_server.url)
    assert_accessible(page)


@pytest.fixture(params=["light", "dark"])
def scheme(request, page):
    """The admin follows the system's colour scheme: check both."""
    page.emulate_media(color_scheme=request.param)
    return request.param


def test_admin_login_page(page, scheme):
    page.goto("/admin/login/")
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/cookies_app/jarcookie/",
        "/admin/cookies_app/request/",
        "/admin/cookies_app/setcookieline/",
        "/admin/cookies_app/visitor/",
    ],
)
def test_admin_pages(staff_page, scheme, path):
    staff_page.goto(path)
    assert_accessible(staff_page)


def test_admin_visitor_change_page(staff_page, scheme):
    visitor = Visitor.objects.order_by("pk").first()
    assert visitor is not None, "the visit to /cookies logged a visitor"
    staff_page.goto(f"/admin/cookies_app/visitor/{visitor.pk}/change/")
    assert_accessible(staff_page)
