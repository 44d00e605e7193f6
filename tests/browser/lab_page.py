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
    """The cookie as the browser holds it, or None."""
    return next((c for c in context.cookies() if c["name"] == name), None)


def in_document_cookie(page, name):
    return any(p.split("=")[0] == name for p in page.evaluate("document.cookie").split("; "))


# Read with page.evaluate, which both engines' drivers share (tests/browser/firefox.py).
VERDICT = """(name) => {
    const row = [...document.querySelectorAll("#verdict-table tr[data-cookie-name]")]
        .find((r) => r.dataset.cookieName === name);
    if (!row) return [null, []];
    const codes = [...row.querySelectorAll("li[data-code]")].map((i) => i.dataset.code);
    return [row.querySelector(".verdict").textContent, codes];
}"""
RECEIVED = """(name) => [...document.querySelectorAll("#received-table tr[data-cookie-name]")]
    .filter((r) => r.dataset.cookieName === name).length"""


def verdict(page, name):
    """The lab's verdict for ``name`` and the rule codes it gives as reasons."""
    status, codes = page.evaluate(VERDICT, name)
    return status, codes


def received(page, name):
    return page.evaluate(RECEIVED, name) == 1
