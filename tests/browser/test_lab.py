"""What only a browser can prove: document.cookie, HttpOnly, and the JS panel."""

import pytest

from cookies_app.models import JarCookie
from tests.browser.lab_page import set_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def server_row(page, name):
    return page.locator(f'#received-table tr[data-cookie-name="{name}"]')


def test_first_visit_shows_username_root_in_document_cookie(page):
    page.goto("/cookies")

    assert "username=root" in page.evaluate("document.cookie")
    assert "username=root" in page.locator("#js-raw").text_content()


def test_httponly_cookie_reaches_the_server_but_not_javascript(page):
    set_cookie(page, key="hidden_one", value="v1", httponly=True, send_anyway=False)

    row = server_row(page, "hidden_one")
    assert row.locator(".value").text_content() == "v1"
    assert "hidden_one" not in page.evaluate("document.cookie")
    assert row.locator(".js-visibility").text_content() == "hidden (HttpOnly)"
    assert page.locator("#httponly-note").is_visible()
    assert "HttpOnly" in page.locator(".sent-header").text_content()


def test_cookie_set_from_javascript_reaches_the_server_and_the_log(page):
    page.goto("/cookies")

    page.fill("#js-name", "from_js")
    page.fill("#js-value", "hello world")
    page.click("#js-form button[type=submit]")

    page.wait_for_selector("#js-verdict:has-text('took it')")
    assert page.locator("#js-assigned").text_content() == "from_js=hello%20world; path=/"
    assert "from_js=hello%20world" in page.locator("#js-cookie-list").text_content()
    page.reload()
    row = server_row(page, "from_js")
    assert row.locator(".value").text_content() == "hello%20world"
    assert row.locator(".js-visibility").text_content() == "visible"
    assert JarCookie.objects.filter(name="from_js", value="hello%20world", path="").exists()


def test_javascript_panel_deletes_a_cookie(page):
    page.goto("/cookies")
    page.fill("#js-name", "short_lived")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector('#js-cookie-list button[data-name="short_lived"]')

    page.locator('#js-cookie-list button[data-name="short_lived"]').click()

    assert "short_lived" not in page.evaluate("document.cookie")
    assert page.locator("#js-assigned").text_content() == "short_lived=; max-age=0; path=/"


def test_javascript_panel_refuses_a_bad_name(page):
    page.goto("/cookies")

    page.fill("#js-name", "bad;name")
    page.click("#js-form button[type=submit]")

    page.wait_for_selector("#js-error:not([hidden])")
    assert "would be split" in page.locator("#js-error").text_content()
    assert page.locator("#js-assigned").text_content() == "(nothing yet)"
    assert "bad" not in page.evaluate("document.cookie")


def test_server_delete_button_removes_the_cookie(page, context, live_server):
    context.add_cookies([{"name": "doomed", "value": "1", "url": live_server.url}])
    page.goto("/cookies")

    server_row(page, "doomed").locator("button").click()
    page.wait_for_url("**/cookies?sent=*")

    assert "doomed" not in page.evaluate("document.cookie")
    assert server_row(page, "doomed").count() == 0


def test_signed_cookie_tampered_from_javascript_is_flagged(page):
    set_cookie(page, key="sig", value="42", signed=True, send_anyway=False)
    signature = page.locator('#signed-table tr[data-cookie-name="sig"] .signature')
    assert signature.text_content() == "valid"

    page.evaluate(
        """() => {
            const held = document.cookie.split("; ").find((p) => p.startsWith("sig="));
            document.cookie = held.replace("sig=42:", "sig=43:") + "; path=/";
        }"""
    )
    page.reload()

    assert signature.text_content() == "tampered"
