"""The rules' vocabulary: severities, findings, the cookie and its context."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .fixes import fix_for

RFC = "RFC 6265bis"
LAYERED = "draft-ietf-httpbis-layered-cookies"

# Browser limits (RFC 6265bis §5.7, Chromium's CanonicalCookie).
MAX_NAME_VALUE_BYTES = 4096
MAX_ATTRIBUTE_BYTES = 1024
MAX_LIFETIME = timedelta(days=400)
# The lab's own cap: room to demonstrate an oversize drop, no more.
VALUE_MAX_CHARS = 8192


class Severity(StrEnum):
    REFUSED = "refused"  # the server will not send it
    ERROR = "error"  # it can be sent, the browser will drop it
    WARNING = "warning"  # it works but is risky or will be altered
    INFO = "info"


SEVERITY_ORDER = list(Severity)


class SameSite(StrEnum):
    """The attribute's values as Set-Cookie spells them; blank means not set."""

    LAX = "Lax"
    STRICT = "Strict"
    NONE = "None"

    @classmethod
    def parse(cls, text):
        """The value ``text`` names, in any case, or None (unset or not a value)."""
        return next((value for value in cls if value.lower() == text.strip().lower()), None)

    @classmethod
    def effective(cls, text):
        """What a browser applies: an unset or unknown SameSite behaves as Lax."""
        return cls.parse(text) or cls.LAX


SAMESITE_CHOICES = [("", "(not set)"), *((value.value, value.value) for value in SameSite)]


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
    # What each tested browser engine does with such a cookie (engines.py).
    engines: tuple = ()

    @property
    def fix(self):
        """A one-line fix for this code."""
        return fix_for(self.code)

    def as_dict(self):
        return {
            "severity": str(self.severity),
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "spec": self.spec,
            "fix": self.fix,
            "engines": [note.as_dict() for note in self.engines],
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
    host: str = "localhost"  # as in the Host header, port allowed
    path: str = "/"
    # The site's own cookies (session, CSRF, visitor id): never set by the lab.
    reserved_names: frozenset[str] = field(default_factory=frozenset)
    # Names the browser sent with this request, and those known to be HttpOnly.
    received_names: frozenset[str] = field(default_factory=frozenset)
    httponly_names: frozenset[str] = field(default_factory=frozenset)
    now: datetime | None = None
    # The browser's Sec-Fetch-Site and the method: SameSite decides on them.
    fetch_site: str = ""
    method: str = "GET"
    # The engine that sent the request (engines.engine_of its User-Agent): the
    # rules judge by its behaviour where the tested engines differ.
    engine: str = ""


# Python's http.cookies accepts RFC 7230 token characters plus ':' in a name;
# anything else cannot be put in a Set-Cookie header from Django.


def finding(severity, code, field_name, message, section, spec=RFC):
    return Finding(Severity(severity), code, field_name, message, f"{spec} {section}")
