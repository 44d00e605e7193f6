"""
A browser's cookies in the formats other tools read: Cookie-Editor's JSON, the
Netscape cookies.txt of curl and wget, and a Cookie header.
"""

import json
from dataclasses import dataclass

from .http import JSON_ESCAPES
from .limits import shown
from .rules import SameSite, host_without_port
from .site_cookies import is_env_cookie

NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n# Exported by Cookie Lab.\n"
# Cookie-Editor's names for SameSite.
SAMESITE = {SameSite.LAX: "lax", SameSite.STRICT: "strict", SameSite.NONE: "no_restriction"}
FORMATS = {
    "json": ("application/json", "cookies.json"),
    "netscape": ("text/plain; charset=utf-8", "cookies.txt"),
    "header": ("text/plain; charset=utf-8", "cookie-header.txt"),
}


@dataclass(frozen=True)
class KnownCookie:
    """A cookie as the server knows it: the value received, attributes as issued."""

    name: str
    value: str
    host: str
    domain: str = ""  # blank: host-only
    path: str = "/"
    secure: bool = False
    httponly: bool = False
    samesite: str = ""
    expires_at: float | None = None  # epoch seconds; None for a session cookie

    @property
    def host_only(self):
        return not self.domain

    @property
    def effective_domain(self):
        return self.domain.lstrip(".") if self.domain else self.host


def known_cookies(visit, include_env=False):
    """The browser's cookies as the server knows them: values received, attributes as issued."""
    host = host_without_port(visit.context.host)
    cookies, _left_out = shown(
        {n: v for n, v in visit.received.items() if include_env or not is_env_cookie(n)}
    )
    return [_known(name, value, host, visit.issued_row(name)) for name, value in cookies.items()]


def _known(name, value, host, row):
    if row is None:
        # Set by JavaScript or another site: the server knows only name and value.
        return KnownCookie(name=name, value=value, host=host)
    return KnownCookie(
        name=name,
        value=value,
        host=host,
        domain=row.domain,
        path=row.path or "/",
        secure=row.secure,
        httponly=row.httponly,
        samesite=row.samesite,
        expires_at=row.expires_at.timestamp() if row.expires_at else None,
    )


def to_json(cookies):
    """Cookie-Editor's export: a list of objects with its field names."""
    text = json.dumps(
        [
            {
                "domain": c.effective_domain if c.host_only else f".{c.effective_domain}",
                **({"expirationDate": c.expires_at} if c.expires_at is not None else {}),
                "hostOnly": c.host_only,
                "httpOnly": c.httponly,
                "name": c.name,
                "path": c.path,
                "sameSite": SAMESITE.get(SameSite.parse(c.samesite), "unspecified"),
                "secure": c.secure,
                "session": c.expires_at is None,
                "storeId": None,
                "value": c.value,
            }
            for c in cookies
        ],
        indent=2,
    )
    # Cookie text cannot close a <script> or open a tag wherever the file is shown.
    return text.translate(JSON_ESCAPES)


def to_netscape(cookies):
    """cookies.txt: tab-separated, #HttpOnly_ before HttpOnly domains, 0 for session."""
    lines = [NETSCAPE_HEADER]
    for c in cookies:
        domain = c.effective_domain if c.host_only else f".{c.effective_domain}"
        if c.httponly:
            domain = f"#HttpOnly_{domain}"
        fields = [
            domain,
            "FALSE" if c.host_only else "TRUE",
            c.path,
            "TRUE" if c.secure else "FALSE",
            str(int(c.expires_at)) if c.expires_at is not None else "0",
            c.name,
            c.value,
        ]
        lines.append("\t".join(_one_line(f) for f in fields) + "\n")
    return "".join(lines)


def to_header(cookies):
    return "Cookie: " + "; ".join(f"{c.name}={c.value}" for c in cookies) + "\n"


def _one_line(text):
    """Tabs and newlines would break the format; a cookie cannot hold them anyway."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def render(format_name, cookies):
    return {"json": to_json, "netscape": to_netscape, "header": to_header}[format_name](cookies)
