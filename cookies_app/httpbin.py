"""
httpbin's cookie query syntax, extended: ``?k1=v1&k2=v2&attr[Path]=/x``.

go-httpbin's ``attr[Name]`` keys carry attributes for every cookie of the
request; names are case-insensitive and never become cookies themselves.
"""

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from . import rules

ATTR_KEY = re.compile(r"attr\[([^\]]*)\]", re.IGNORECASE)
FLAGS = ("secure", "httponly", "partitioned")
KNOWN = ("path", "domain", "secure", "httponly", "samesite", "max-age", "expires", "partitioned")
SPELLING = "attr[Path], attr[Domain], attr[Secure], attr[HttpOnly], attr[SameSite], " + (
    "attr[Max-Age], attr[Expires], attr[Partitioned]"
)
TRUE = ("", "1", "true", "on", "yes")
FALSE = ("0", "false", "off", "no")


class BadAttribute(ValueError):
    """An attr[...] the API cannot use; its message says what to send instead."""


@dataclass(frozen=True)
class Attributes:
    path: str = "/"
    domain: str = ""
    secure: bool = False
    httponly: bool = False
    samesite: str = ""
    max_age: int | None = None
    expires: datetime | None = None
    partitioned: bool = False

    def scope(self):
        """The attributes a deletion repeats, so it matches the cookie it replaces."""
        return {
            "path": self.path,
            "domain": self.domain or None,
            "secure": self.secure,
            "httponly": self.httponly,
            "samesite": self.samesite or None,
            "partitioned": self.partitioned,
        }

    def proposed(self, name, value):
        # The attribute names are the rules module's own.
        return rules.ProposedCookie(name=name, value=value, **asdict(self))


def split_query(items):
    """(cookies, raw attributes) from query items; the last of a repeated key wins."""
    cookies, attributes = {}, {}
    for key, value in items:
        match = ATTR_KEY.fullmatch(key)
        if match:
            attributes[match.group(1).lower()] = value
        else:
            cookies[key] = value
    return cookies, attributes


def parse_attributes(raw, secure_default=False, allowed=KNOWN):
    """Attributes from ``{lower-case name: text}``; BadAttribute says what is wrong."""
    for name in raw:
        if name not in allowed:
            spelled = ", ".join(f"attr[{a}]" for a in allowed) if allowed != KNOWN else SPELLING
            raise BadAttribute(f"Unknown attribute attr[{name}]: use {spelled}.")
    values = {"secure": secure_default}
    for flag in FLAGS:
        if flag in raw:
            values[flag] = _flag(flag, raw[flag])
    if "path" in raw:
        values["path"] = raw["path"]
    if "domain" in raw:
        values["domain"] = raw["domain"]
    if "samesite" in raw:
        values["samesite"] = _samesite(raw["samesite"])
    if "max-age" in raw:
        values["max_age"] = _max_age(raw["max-age"])
    if "expires" in raw:
        values["expires"] = _expires(raw["expires"])
    return Attributes(**values)


def _flag(name, text):
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise BadAttribute(f"attr[{name}] must be 1/true/on or 0/false/off, not {text!r}.")


def _samesite(text):
    if text == "":
        return ""
    if (value := rules.SameSite.parse(text)) is not None:
        return str(value)
    raise BadAttribute(f"attr[SameSite] must be Lax, Strict or None, not {text!r}.")


def _max_age(text):
    try:
        value = int(text)
    except ValueError:
        raise BadAttribute(
            f"attr[Max-Age] must be a whole number of seconds, not {text!r}."
        ) from None
    if abs(value) > 2**31 - 1:
        raise BadAttribute("attr[Max-Age] must be within ±2147483647 seconds.")
    return value


def _expires(text):
    """An HTTP date (Wed, 21 Oct 2026 07:28:00 GMT) or ISO 8601; naive means UTC."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise BadAttribute(
                f"attr[Expires] must be an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT' "
                f"or ISO 8601 such as 2026-10-21T07:28:00Z, not {text!r}."
            ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
