"""Layout facts of the lab in Chromium at a laptop's 1280×800 and a phone's 390×844."""

import pytest

from .lab_page import held, set_cookie

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def in_viewport(page, selector):
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def horizontal_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_result_lands_in_view_beside_the_form(page):
    page.set_viewport_size(LAPTOP)
    page.goto("/cookies")
    # A full jar (the issue saw 12 cookies push the forms 2,000 px down).
    page.context.add_cookies(
        [{"name": f"c{i}", "value": "x" * 40, "url": page.url} for i in range(12)]
    )
    set_cookie(page, key="flavor", value="chip", samesite="Lax")

    assert page.url.endswith("#result")
    assert in_viewport(page, "#result .sent-header")
    assert in_viewport(page, '#result-verdicts li[data-cookie-name="flavor"]')
    assert in_viewport(page, "#id_key")
    assert "kept" in page.locator('#result-verdicts li[data-cookie-name="flavor"]').text_content()


def test_a_refused_post_says_so_at_the_top_and_links_to_the_field(page):
    page.set_viewport_size(LAPTOP)
    page.goto("/cookies")
    page.fill("#id_key", "bad name")
    page.click("#server-form button[type=submit]")
    page.wait_for_selector("#error-summary")

    assert in_viewport(page, "#error-summary")
    assert "Nothing was set" in page.locator("#error-summary h2").text_content()
    page.click('#error-summary a[href="#id_key"]')
    assert page.evaluate("document.activeElement.id") == "id_key"


def test_no_duplicate_ids_on_the_lab(page):
    page.goto("/cookies")
    duplicates = page.evaluate(
        """() => {
            const seen = {};
            for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
            return Object.keys(seen).filter((id) => seen[id] > 1);
        }"""
    )
    assert duplicates == []
    # The Delete form's labels focus its own fields.
    page.click("#delete-panel-summary")
    page.click('label[for="id_delete_key"]')
    assert page.evaluate("document.activeElement.id") == "id_delete_key"


@pytest.mark.parametrize("path", ["/cookies", "/cookies/sub/"])
def test_a_phone_never_scrolls_sideways(page, path):
    page.set_viewport_size(PHONE)
    page.goto(path)
    page.context.add_cookies(
        [{"name": f"long_cookie_name_{i}", "value": "v" * 60, "url": page.url} for i in range(12)]
    )
    set_cookie(page, at=path, key="none_secure", value="x" * 80, samesite="None")

    assert horizontal_overflow(page) <= 0
    # Tables become stacked cards: each cell says what it is.
    thead = page.locator("#received-table thead")
    assert thead.evaluate("e => getComputedStyle(e).position") == "absolute"
    label = page.locator("#received-table td.name").first.evaluate(
        "e => getComputedStyle(e, '::before').content"
    )
    assert "Name" in label


def test_delete_removes_a_cookie_where_it_was_issued(page, context):
    set_cookie(page, at="/cookies/sub/", key="deep", value="1", path="/cookies/sub/")
    assert held(context, "deep")["path"] == "/cookies/sub/"

    page.click('#received-table tr[data-cookie-name="deep"] button')
    page.wait_for_url("**?sent=*")

    assert held(context, "deep") is None


def test_the_javascript_panel_deletes_where_the_server_issued_it(page, context):
    set_cookie(page, at="/cookies/sub/", key="deep", value="1", path="/cookies/sub/")
    button = page.locator('#js-cookie-list button[data-name="deep"]')

    assert button.text_content() == "Delete (path /cookies/sub/)"
    button.click()

    assert held(context, "deep") is None


def test_the_javascript_panel_deletes_where_it_assigned(page, context):
    page.goto("/cookies/sub/")
    page.fill("#js-name", "scoped")
    page.fill("#js-value", "1")
    page.fill("#js-path", "/cookies/sub/")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    page.fill("#js-path", "/")  # the field moved on; the cookie did not

    page.locator('#js-cookie-list button[data-name="scoped"]').click()

    assert held(context, "scoped") is None
