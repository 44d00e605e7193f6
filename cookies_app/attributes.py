"""
What each set_cookie parameter does, shown where it is set: the browser's
behaviour, the default, and where MDN and RFC 6265bis say so.
"""

from dataclasses import dataclass
from functools import cache

from django.utils.html import format_html

MDN = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Set-Cookie"
RFC = "https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis"
CHIPS = "https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Privacy_sandbox/Partitioned_cookies"


@dataclass(frozen=True)
class Attribute:
    does: str
    default: str
    mdn: str  # the URL of its MDN section
    spec: str  # "RFC 6265bis §x.y", or another document's name
    spec_url: str

    def help_html(self):
        return format_html(
            '{} Default: {} <a href="{}">MDN</a> · <a href="{}">{}</a>',
            self.does,
            self.default,
            self.mdn,
            self.spec_url,
            self.spec,
        )


def _rfc(section, title):
    return f"RFC 6265bis §{section} {title}", f"{RFC}#section-{section}"


ATTRIBUTES = {
    "key": Attribute(
        "The cookie's name: letters, digits and !#$%&'*+-.^_`|~; __Secure-, __Host- and "
        "__Http- prefixes add rules the browser enforces.",
        "none: required.",
        f"{MDN}#cookie-namecookie-value",
        *_rfc("4.1.1", "syntax"),
    ),
    "value": Attribute(
        "Sent back verbatim with every matching request; name and value together stay "
        "under 4096 bytes.",
        "empty.",
        f"{MDN}#cookie-namecookie-value",
        *_rfc("4.1.1", "syntax"),
    ),
    "max_age": Attribute(
        "Seconds the browser keeps it; 0 or less deletes it now. Wins over expires; "
        "browsers cap it at 400 days.",
        "none: a session cookie, gone when the browser closes.",
        f"{MDN}#max-agenumber",
        *_rfc("5.6.2", "Max-Age"),
    ),
    "expires": Attribute(
        "The moment it expires, in UTC (the picker shows no time zone: enter UTC). "
        "Ignored when max_age is set; capped at 400 days.",
        "none: a session cookie.",
        f"{MDN}#expiresdate",
        *_rfc("5.6.1", "Expires"),
    ),
    "path": Attribute(
        "The browser sends it only to URLs at or under this path.",
        "blank means the page's directory (here /).",
        f"{MDN}#pathpath-value",
        *_rfc("5.6.4", "Path"),
    ),
    "domain": Attribute(
        "Also send it to this domain's subdomains: it must be this host or a parent, never "
        "a public suffix or an IP address.",
        "blank: host-only, this exact host.",
        f"{MDN}#domaindomain-value",
        *_rfc("5.6.3", "Domain"),
    ),
    "secure": Attribute(
        "Send it only over HTTPS (browsers count localhost as secure).",
        "off.",
        f"{MDN}#secure",
        *_rfc("5.6.5", "Secure"),
    ),
    "httponly": Attribute(
        "Keep it out of document.cookie: scripts (and XSS) cannot read or overwrite it.",
        "off.",
        f"{MDN}#httponly",
        *_rfc("5.6.6", "HttpOnly"),
    ),
    "samesite": Attribute(
        "Strict: same-site requests only. Lax: also top-level GET navigations from other "
        "sites. None: every request, and it needs Secure.",
        "unset, which browsers treat as Lax.",
        f"{MDN}#samesitesamesite-value",
        *_rfc("5.6.7", "SameSite"),
    ),
    "partitioned": Attribute(
        "Keep a separate jar per top-level site (CHIPS), so an embed on another site gets "
        "its own copy. Needs Secure.",
        "off.",
        f"{MDN}#partitioned",
        "CHIPS (MDN)",
        CHIPS,
    ),
}


@cache
def help_html(name):
    """The help of one attribute, as markup: the same for every page, built once."""
    attribute = ATTRIBUTES.get(name)
    return attribute.help_html() if attribute else ""
