"""Helpers that drive the lab page the way a person would, for the browser tests."""


def set_cookie(page, at="/cookies", samesite="", send_anyway=True, **fields):
    """Fill the lab's server form on the page ``at`` and submit it."""
    page.goto(at)
    page.select_option("#id_samesite", samesite)
    for name, value in fields.items():
        if isinstance(value, bool):
            page.set_checked(f"#id_{name}", value)
        else:
            page.fill(f"#id_{name}", str(value))
    if send_anyway:
        page.check("#id_send_anyway")
    page.click("#server-form button[type=submit]")
    page.wait_for_url("**?sent=*")


def held(context, name):
    """The cookie as Chromium holds it, or None."""
    return next((c for c in context.cookies() if c["name"] == name), None)


def in_document_cookie(page, name):
    return any(p.split("=")[0] == name for p in page.evaluate("document.cookie").split("; "))


def verdict(page, name):
    """The lab's verdict for ``name`` and the rule codes it gives as reasons."""
    row = page.locator(f'#verdict-table tr[data-cookie-name="{name}"]')
    codes = row.locator("li[data-code]").evaluate_all("items => items.map((i) => i.dataset.code)")
    return row.locator(".verdict").text_content(), codes


def received(page, name):
    return page.locator(f'#received-table tr[data-cookie-name="{name}"]').count() == 1
