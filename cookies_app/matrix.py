"""
The cross-site matrix's predictions: which test cookie a browser sends with
each kind of cross-site request, and why. Plain Python, no Django.

The lab site sets five cookies top-level; a page on the other site then makes
each kind of request back to the lab. What arrives depends on the cookie's
SameSite (as the browser applies it), whether the request is a top-level
navigation, its method, whether third-party cookies are allowed, and which
partition a Partitioned cookie lives in.
"""

from dataclasses import dataclass
from enum import StrEnum

from . import rules
from .verdicts import LAX_ALLOWING_UNSAFE

# Where the test cookies live: they go only to the matrix's own URLs.
COOKIE_PATH = "/cookies/matrix/"

# Chromium treats these loopback names as secure contexts, and as two sites:
# one serves the lab, the other the page that makes the cross-site requests.
SITE_PAIRS = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}


class RequestKind(StrEnum):
    """The kinds of cross-site request, in the order the launch page makes them."""

    IMAGE = "image"
    FETCH = "fetch"
    IFRAME = "iframe"
    WINDOW_OPEN = "window-open"
    FORM_POST = "form-post"
    LINK = "link"

    @property
    def top_level(self):
        return self in TOP_LEVEL

    @property
    def method(self):
        return "POST" if self == RequestKind.FORM_POST else "GET"


TOP_LEVEL = frozenset({RequestKind.WINDOW_OPEN, RequestKind.FORM_POST, RequestKind.LINK})
# The launch page's first step: every request that does not leave the page
# (window.open first, while the click's user activation lasts).
FIRST_STEP = (RequestKind.IMAGE, RequestKind.FETCH, RequestKind.IFRAME, RequestKind.WINDOW_OPEN)

REQUEST_LABELS = {
    RequestKind.IMAGE: "<img>",
    RequestKind.FETCH: 'fetch(credentials: "include")',
    RequestKind.IFRAME: "<iframe>",
    RequestKind.WINDOW_OPEN: "window.open()",
    RequestKind.FORM_POST: "form POST (top-level)",
    RequestKind.LINK: "link (top-level GET)",
}

# The five test cookies, each as the rules take a cookie (the one shape a
# cookie has from form to Set-Cookie); the value becomes the run's nonce.
TEST_COOKIES = (
    rules.ProposedCookie("m_strict", path=COOKIE_PATH, samesite="Strict"),
    rules.ProposedCookie("m_lax", path=COOKIE_PATH, samesite="Lax"),
    rules.ProposedCookie("m_none", path=COOKIE_PATH, samesite="None", secure=True),
    rules.ProposedCookie("m_unspecified", path=COOKIE_PATH),
    rules.ProposedCookie(
        "m_partitioned", path=COOKIE_PATH, samesite="None", secure=True, partitioned=True
    ),
)
TEST_COOKIE_NAMES = tuple(cookie.name for cookie in TEST_COOKIES)


CHROMIUM = rules.Engine.CHROMIUM
# The engines whose predictions the results page shows side by side (both tested).
ENGINES = (rules.Engine.CHROMIUM, rules.Engine.FIREFOX)


@dataclass(frozen=True)
class Prediction:
    sent: bool
    why: str


def other_site(host):
    """The other site's host (port kept) for a lab ``host``, or None when there is none."""
    name = rules.host_without_port(host)
    other = SITE_PAIRS.get(name)
    if other is None:
        return None
    port = host.strip().lower()[len(name) :]
    return other + port


def allows_third_party(storage_access):
    """
    Whether a cross-site subresource may carry unpartitioned cookies, by the
    browser's own Sec-Fetch-Storage-Access header (Chromium 133+): "none" says
    it withholds them (third-party cookies blocked, no storage access granted).
    Without the header (other browsers) the prediction assumes they are allowed.
    """
    return storage_access.strip().lower() != "none"


def attributes(cookie):
    """The test cookie's attributes as its Set-Cookie spells them."""
    parts = [f"SameSite={cookie.samesite}" if cookie.samesite else "no SameSite"]
    parts += [
        flag for flag, on in (("Secure", cookie.secure), ("Partitioned", cookie.partitioned)) if on
    ]
    return "; ".join(parts)


def predict(cookie, kind, *, scheme, host, age, third_party_cookies=True, engine=CHROMIUM):
    """
    Whether a browser of ``engine`` holding ``cookie`` (set top-level by the lab
    at ``scheme://host``, ``age`` ago) sends it with a cross-site request of ``kind``.
    """
    context = rules.RequestContext(scheme=scheme, host=host, path=COOKIE_PATH, engine=engine)
    drops = [f for f in rules.evaluate(cookie, context) if f.severity == rules.Severity.ERROR]
    if drops:
        return Prediction(False, f"Never stored ({drops[0].code}): {drops[0].message}")
    if engine == rules.Engine.FIREFOX and not cookie.samesite:
        return _firefox_unspecified(kind, third_party_cookies)
    applied = rules.SameSite.effective(cookie.samesite)
    if applied == rules.SameSite.STRICT:
        return Prediction(False, "Strict stays home on every cross-site request, even a link.")
    if applied == rules.SameSite.LAX:
        return _lax(cookie, kind, age)
    if cookie.partitioned:
        return _partitioned(kind)
    if kind.top_level:
        return Prediction(True, "None+Secure goes with every request, top-level ones included.")
    if not third_party_cookies:
        # Observed in Chromium 156 under Playwright, incognito-like and persistent
        # profiles alike: every cross-site subresource said Sec-Fetch-Storage-Access: none.
        return Prediction(
            False,
            "None+Secure, but this browser blocks third-party cookies here "
            "(it said Sec-Fetch-Storage-Access: none).",
        )
    return Prediction(
        True,
        "None+Secure goes with cross-site subresources too, while third-party cookies "
        "are allowed (blocked in Safari, Brave, and Chrome's Incognito by default).",
    )


def _lax(cookie, kind, age):
    unspecified = not cookie.samesite
    if kind.top_level and kind.method == "GET":
        default = " (no SameSite: treated as Lax)" if unspecified else ""
        return Prediction(True, f"Lax{default} goes with top-level GET navigations.")
    if kind.top_level:
        if unspecified and age < LAX_ALLOWING_UNSAFE:
            return Prediction(
                True,
                "No SameSite and under two minutes old: Chromium's Lax-allowing-unsafe "
                "lets it ride a top-level POST (after that it behaves as Lax).",
            )
        return Prediction(False, "Lax is not sent with a cross-site top-level POST.")
    return Prediction(False, "Lax is not sent with cross-site iframes, images or fetch.")


def _firefox_unspecified(kind, third_party_cookies):
    # Firefox 153 ESR has no Lax by default: a cookie without SameSite goes with
    # every top-level request (observed for a young cookie; a POST after two
    # minutes follows from the same rule, not tested in the browser).
    if kind.top_level:
        return Prediction(
            True,
            "No SameSite, and Firefox does not treat it as Lax: it goes with every "
            "top-level request, a POST included, however old the cookie.",
        )
    if not third_party_cookies:
        return Prediction(
            False,
            "No SameSite, but this browser blocks third-party cookies here "
            "(it said Sec-Fetch-Storage-Access: none).",
        )
    return Prediction(
        True,
        "No SameSite, and Firefox does not treat it as Lax: it goes "
        "with cross-site subresources while third-party cookies are allowed.",
    )


def _partitioned(kind):
    if kind.top_level:
        return Prediction(
            True,
            "Set with the lab as top-level site, it lives in the lab's partition, the one a "
            "top-level request to the lab reads.",
        )
    return Prediction(
        False,
        "It lives in the lab's partition; embedded under the other site, the browser reads "
        "the other site's partition, which does not hold it.",
    )
