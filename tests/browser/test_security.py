"""What only a browser proves: the CSP stops planted script; cookie text stays text."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PLANTED = '<script>window.planted = true;</script><img src=x onerror="window.planted = true">'


def test_planted_inline_script_does_not_run(page):
    """An inline script slipped into the served page is blocked by the CSP header."""
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)

    def plant(route):
        response = route.fetch()
        body = response.text().replace("</main>", f"{PLANTED}</main>")
        route.fulfill(response=response, body=body)

    page.route("**/cookies", plant)
    page.goto("/cookies")

    assert page.locator("main > script:not([src]):not([type])").count() == 1, (
        "the script was planted"
    )
    assert page.evaluate("window.planted") is None
    assert violations, "the browser should report the blocked inline script"
    # The lab's own nonce'd module still ran.
    assert page.locator("#js-raw").text_content() != ""


@pytest.mark.parametrize(
    "payload",
    [
        "<img src=x onerror=alert(1)>",
        '"><script>alert(1)</script>',
        "</script><script>alert(1)</script>",
    ],
)
def test_hostile_cookie_values_stay_text_in_every_panel(page, context, live_server, payload):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    context.add_cookies([{"name": "evil", "value": payload, "url": live_server.url}])

    page.goto("/cookies")

    assert dialogs == []
    row = page.locator('#received-table tr[data-cookie-name="evil"] .value')
    assert row.text_content() == payload
    assert payload in page.locator("#js-cookie-list").text_content()
    assert page.locator("#js-cookie-list img, #received-table img").count() == 0


def test_live_findings_appear_while_typing(page):
    page.goto("/cookies")

    page.fill("#id_key", "__Host-x")
    page.fill("#id_path", "/cookies")

    finding = page.locator('#server-findings li[data-code="InvalidPrefix"]')
    finding.wait_for()
    assert "error" in finding.get_attribute("class")
    assert "its Path must be /" in finding.text_content()
