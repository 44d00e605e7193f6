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


def new_visitors(port, count):
    """(answered, ids): ``count`` first visits, and the visitor ids they were given."""
    answered, ids = 0, []
    for _ in range(count):
        try:
            visitor = new_visitor(port)
        except (OSError, http.client.HTTPException) as error:
            say(f"  ! a first visit failed: {error!r}")
            continue
        answered += 1
        if visitor:
            ids.append(visitor)
    return answered, ids


def cookie_header(visitor):
    return f"{COOKIE_HEADER}; {VISITOR_COOKIE}={visitor}"
