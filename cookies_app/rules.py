"""
Cookie rules: what a server may send and what a browser will do with it.

Plain Python, no Django: a proposed cookie and the request context go in,
findings come out. Each finding has a severity, a stable code (Chromium's
exclusion reason where one exists), the form field it concerns, a plain
explanation and the spec section.
"""

import re
import string
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

RFC6265BIS = "RFC 6265bis"


class Severity(StrEnum):
    REFUSED = "refused"  # the server will not send it
    ERROR = "error"  # it can be sent, the browser will drop it
    WARNING = "warning"  # it works but is risky or will be altered
    INFO = "info"


class Source(StrEnum):
    SERVER = "server"  # a Set-Cookie header
    SCRIPT = "script"  # an assignment to document.cookie


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    field: str
    message: str
    spec: str

    def as_dict(self):
        return {
            "severity": str(self.severity),
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "spec": self.spec,
        }


@dataclass(frozen=True)
class ProposedCookie:
    name: str
    value: str = ""
    max_age: int | None = None
    expires: datetime | None = None
    path: str = ""
    domain: str = ""
    secure: bool = False
    httponly: bool = False
    samesite: str = ""
    partitioned: bool = False
    source: Source = Source.SERVER


@dataclass(frozen=True)
class RequestContext:
    scheme: str = "http"
    host: str = "localhost"
    path: str = "/"
    # The site's own cookies (session, CSRF, visitor id): never set by the lab.
    reserved_names: frozenset[str] = field(default_factory=frozenset)


# The characters Python's http.cookies accepts in a name: RFC 7230 token
# characters plus ':'. Anything else cannot be put in a Set-Cookie header.
NAME_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
VALUE_MAX_CHARS = 8192


def describe_char(char):
    """A character as a person can read it, even when it is invisible."""
    if char == " ":
        return "a space"
    if CONTROL.match(char):
        return f"the control character U+{ord(char):04X}"
    if not char.isascii():
        return f"the non-ASCII character {char!r} (U+{ord(char):04X})"
    return f"'{char}'"


def evaluate(cookie, context=None):
    """All findings for ``cookie`` set in ``context``, most severe first."""
    context = context or RequestContext()
    findings = [*_name_findings(cookie, context), *_value_findings(cookie)]
    findings += _attribute_findings(cookie)
    return sorted(findings, key=lambda f: list(Severity).index(f.severity))


def refused(findings):
    return [f for f in findings if f.severity == Severity.REFUSED]


def _refuse(code, field_name, message, section):
    return Finding(Severity.REFUSED, code, field_name, message, f"{RFC6265BIS} {section}")


def _name_findings(cookie, context):
    name = cookie.name
    if name == "":
        if cookie.value == "":
            yield _refuse(
                "NoCookieContent", "key", "The cookie has neither a name nor a value.", "§5.7"
            )
        else:
            yield _refuse(
                "EmptyName",
                "key",
                "A cookie needs a name: Django's set_cookie cannot send a nameless cookie.",
                "§5.7",
            )
        return
    bad = next((c for c in name if c not in NAME_CHARS), None)
    if bad is not None:
        yield _refuse(
            "DisallowedCharacter",
            "key",
            f"A cookie name cannot contain {describe_char(bad)}. Names are tokens: "
            "letters, digits and !#$%&'*+-.^_`|~ only.",
            "§4.1.1",
        )
    if name.lower() in {n.lower() for n in context.reserved_names}:
        yield _refuse(
            "ReservedName",
            "key",
            f"'{name}' is one of this site's own cookies (session, CSRF or visitor id); "
            "the lab will not set, overwrite or delete it. Pick another name.",
            "§4.1",
        )


def _value_findings(cookie):
    value = cookie.value
    bad = next((c for c in value if CONTROL.match(c) or not c.isascii()), None)
    if bad is not None:
        yield _refuse(
            "DisallowedCharacter",
            "value",
            f"The value cannot contain {describe_char(bad)}: it cannot be sent safely in "
            "a Set-Cookie header. Percent-encode it (e.g. %0A, %E2%82%AC) instead.",
            "§4.1.1",
        )
    if len(value) > VALUE_MAX_CHARS:
        yield _refuse(
            "ValueTooLong",
            "value",
            f"The value is {len(value)} characters; the lab sends at most "
            f"{VALUE_MAX_CHARS} (browsers keep at most 4096 bytes of name and value).",
            "§5.7",
        )


def _attribute_findings(cookie):
    for field_name, label, text in (
        ("path", "Path", cookie.path),
        ("domain", "Domain", cookie.domain),
    ):
        bad = next((c for c in text if c == ";" or CONTROL.match(c) or not c.isascii()), None)
        if bad is not None:
            yield _refuse(
                "DisallowedCharacter",
                field_name,
                f"{label} cannot contain {describe_char(bad)}: it would end the attribute "
                "or inject another header.",
                "§4.1.1",
            )
