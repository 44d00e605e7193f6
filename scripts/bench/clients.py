"""Plain HTTP requests with cookies, and a first visit's visitor id."""

import http.client
from http.cookies import SimpleCookie

from bench.config import COOKIE_HEADER, HTTP_TIMEOUT, VISITOR_COOKIE, say


def get(port, path, cookie="", connection=None):
    """(status, headers, body) of one GET; a new connection, closed, unless one is given."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    headers = {"Cookie": cookie} if cookie else {}
    if connection is None:
        headers["Connection"] = "close"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        if connection is None:
            conn.close()


def set_cookies(headers):
    """{name: value} of the response's Set-Cookie lines; None for a deletion."""
    jar = {}
    for line in headers.get_all("Set-Cookie") or ():
        for name, morsel in SimpleCookie(line).items():
            jar[name] = None if morsel["max-age"] == "0" else morsel.value
    return jar


def new_visitor(port):
    """A visitor id from a first visit to /api/cookies, or None."""
    status, headers, _ = get(port, "/api/cookies")
    return set_cookies(headers).get(VISITOR_COOKIE) if status == 200 else None


def returning_browser(port, answered):
    """
    The cookies Cookie Lab gives a new browser on its first visits: a visitor
    id from /api/cookies, then the CSRF cookie from the lab page, which every
    browser that has seen the page sends back. "" when it got no visitor id.
    Each answered request is counted in ``answered`` by path.
    """
    status, headers, _ = get(port, "/api/cookies")
    answered["/api/cookies"] += 1
    visitor = set_cookies(headers).get(VISITOR_COOKIE) if status == 200 else None
    if not visitor:
        return ""
    own = {VISITOR_COOKIE: visitor}
    status, headers, _ = get(port, "/cookies", cookie_header(visitor))
    answered["/cookies"] += 1
    if status == 200:
        own.update((k, v) for k, v in set_cookies(headers).items() if "csrf" in k and v)
    return "; ".join(f"{name}={value}" for name, value in own.items())


def returning_browsers(port, count, answered):
    """``count`` browsers' own cookies (returning_browser), first visits counted in ``answered``."""
    browsers = []
    for _ in range(count):
        try:
            browser = returning_browser(port, answered)
        except (OSError, http.client.HTTPException) as error:
            say(f"  ! a first visit failed: {error!r}")
            continue
        if browser:
            browsers.append(browser)
    return browsers


def cookie_header(visitor):
    return f"{COOKIE_HEADER}; {VISITOR_COOKIE}={visitor}"
