"""
The lab's JavaScript panel in Chromium: it says whether the browser took the
cookie it assigned to document.cookie, and why not.
"""

import pytest

from tests.browser.lab_page import held, set_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def js_assign(page, name, value="1", send_anyway=True, **checks):
    page.fill("#js-name", name)
    page.fill("#js-value", value)
    for field in checks:
        page.check(f"#js-{field}")
    if send_anyway:
        page.check("#js-send-anyway")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    return page.locator("#js-verdict")


def test_javascript_panel_says_when_the_browser_took_a_cookie(page, context):
    page.goto("/cookies")

    verdict_box = js_assign(page, "from_js")

    assert verdict_box.get_attribute("data-taken") == "true"
    assert held(context, "from_js")["value"] == "1"


def test_javascript_panel_explains_a_prefix_drop(page, context):
    page.goto("/cookies")

    verdict_box = js_assign(page, "__Host-js")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "InvalidPrefix" in verdict_box.text_content()
    assert held(context, "__Host-js") is None


def test_javascript_panel_explains_samesite_none_without_secure(page, context):
    page.goto("/cookies")
    page.select_option("#js-samesite", "None")

    verdict_box = js_assign(page, "jsnone")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "SameSiteNoneInsecure" in verdict_box.text_content()


def test_javascript_panel_explains_an_httponly_overwrite(page, context):
    set_cookie(page, key="locked", value="server", httponly=True)

    verdict_box = js_assign(page, "locked", value="script")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "OverwriteHttpOnly" in verdict_box.text_content()
    assert held(context, "locked")["value"] == "server"


def test_javascript_panel_blocks_a_predicted_drop_unless_told(page, context):
    page.goto("/cookies")

    page.fill("#js-name", "__Secure-js")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-error:not([hidden])")

    assert "InvalidPrefix" not in page.locator("#js-error").text_content()
    assert "send anyway" in page.locator("#js-error").text_content()
    assert page.locator("#js-assigned").text_content() == "(nothing yet)"


def test_javascript_cannot_set_an_http_prefixed_cookie(page, context):
    page.goto("/cookies")
    page.check("#js-secure")

    verdict_box = js_assign(page, "__Http-js")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "InvalidPrefix" in verdict_box.text_content()
    assert held(context, "__Http-js") is None


def test_a_late_check_does_not_report_the_cookie_just_assigned(page, context):
    page.goto("/cookies")
    checks = []
    page.on("request", lambda r: checks.append(r.url) if "/cookies/check" in r.url else None)

    # Typed and assigned at once: the live check for the typing is still pending.
    page.fill("#js-name", "fresh")
    page.fill("#js-value", "1")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    page.wait_for_timeout(1000)  # long past the live check's 250 ms delay

    findings = page.locator("#js-findings").text_content()
    assert "DuplicateName" not in findings
    assert page.locator("#js-verdict").get_attribute("data-taken") == "true"
    assert len(checks) == 1  # the assignment's own check; the pending one never ran
