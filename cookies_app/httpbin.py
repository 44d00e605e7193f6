"""
httpbin's cookie query syntax, extended: ``?k1=v1&k2=v2&attr[Path]=/x``.

go-httpbin's ``attr[Name]`` keys carry attributes for every cookie of the
request; names are case-insensitive and never become cookies themselves.
``Policy`` keeps what such a GET may plant inside the lab.
"""

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import unquote

from . import rules
from .rules import expiry

ATTR_KEY = re.compile(r"attr\[([^\]]*)\]", re.IGNORECASE)
FLAGS = ("secure", "httponly", "partitioned")
KNOWN = ("path", "domain", "secure", "httponly", "samesite", "max-age", "expires", "partitioned")
SPELLING = "attr[Path], attr[Domain], attr[Secure], attr[HttpOnly], attr[SameSite], " + (
    "attr[Max-Age], attr[Expires], attr[Partitioned]"
)
# The log's column lengths, which keep a response's headers within a proxy's limits.
PATH_LIMIT = 512
DOMAIN_LIMIT = 255
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


def parse_attributes(raw, secure_default=False, allowed=KNOWN, path_default="/"):
    """Attributes from ``{lower-case name: text}``; BadAttribute says what is wrong."""
    for name in raw:
        if name not in allowed:
            spelled = ", ".join(f"attr[{a}]" for a in allowed) if allowed != KNOWN else SPELLING
            raise BadAttribute(f"Unknown attribute attr[{name}]: use {spelled}.")
    values = {"secure": secure_default, "path": path_default}
    for flag in FLAGS:
        if flag in raw:
            values[flag] = _flag(flag, raw[flag])
    for name, limit in (("path", PATH_LIMIT), ("domain", DOMAIN_LIMIT)):
        if name in raw:
            if len(raw[name]) > limit:
                # Repeated on each of up to 50 Set-Cookie lines, a long one makes
                # response headers a proxy refuses; the log keeps this much too.
                raise BadAttribute(
                    f"attr[{name.capitalize()}] may be at most {limit} characters, "
                    f"not {len(raw[name])}."
                )
            values[name] = raw[name]
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
    label = "attr[Expires]"
    try:
        return expiry.parse_http_date(text, label) or expiry.to_utc(_iso(text), label)
    except expiry.ExpiryError as error:
        raise BadAttribute(str(error)) from None


def _iso(text):
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadAttribute(
            "attr[Expires] must be an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT' or "
            f"ISO 8601 such as 2026-10-21T07:28:00Z, {expiry.RANGE}; not {text!r}."
        ) from None


# Why the GET API is narrower than the lab's POST form (which has CSRF protection).
PLANTING = "Any web page can make a visitor's browser call this GET API (an image tag is enough)"
FORM_HINT = "The lab's form (POST /cookies) accepts any"


@dataclass(frozen=True)
class Policy:
    """
    What a GET may plant: cookies for this host only (or a configured lab
    domain), under the lab's and the API's paths, living briefly. The site's
    own cookie names are refused by the rules for every source.
    """

    domains: frozenset[str]  # lower case, without a leading dot
    paths: tuple[str, ...]  # prefixes, e.g. ("/cookies", "/api")
    default_path: str  # the API's prefix, so httpbin clients get their cookies back
    max_age: int  # seconds
    now: datetime

    def check(self, attributes):
        """BadAttribute, saying what is allowed, when ``attributes`` reach beyond the lab."""
        self._domain(attributes.domain)
        self._path(attributes.path)
        self._lifetime(attributes)

    def _domain(self, domain):
        if not domain or domain.strip().lower().removeprefix(".") in self.domains:
            return
        raise BadAttribute(
            f"attr[Domain] may only be {' or '.join(sorted(self.domains))} here, not "
            f"{domain!r}: a Domain shares the cookie with every host under it. {PLANTING}, "
            "so its cookies stay on the lab's host. Leave attr[Domain] out for a host-only "
            f"cookie. {FORM_HINT} Domain."
        )

    def _path(self, path):
        # Blank: no Path attribute, so the browser uses the request's directory (under /api).
        if not path:
            return
        allowed = " or ".join(self.paths)
        if not any(rules.path_matches(prefix, path) for prefix in self.paths):
            raise BadAttribute(
                f"attr[Path] must be {allowed} or a path under them, such as "
                f"{self.default_path}/cookies, not {path!r}. {PLANTING}, "
                f"so its cookies stay inside the lab, never on / (every page) or /admin. "
                f"{FORM_HINT} Path."
            )
        if {".", ".."} & set(unquote(path).split("/")):
            raise BadAttribute(
                f"attr[Path] cannot contain '.' or '..' segments ({path!r}): browsers compare "
                f"a cookie's Path as text, so it would match no page. Use {allowed} or a "
                "path under them, written out."
            )

    def _lifetime(self, attributes):
        limit = _seconds(self.max_age)
        why = f"{PLANTING}, so its cookies are short-lived. {FORM_HINT} lifetime."
        if attributes.max_age is not None and attributes.max_age > self.max_age:
            raise BadAttribute(
                f"attr[Max-Age] may be at most {limit} here, not {attributes.max_age}. {why}"
            )
        if attributes.expires and (attributes.expires - self.now).total_seconds() > self.max_age:
            raise BadAttribute(
                f"attr[Expires] may be at most {limit} from now, not "
                f"{attributes.expires:%Y-%m-%d %H:%M:%S} UTC. {why}"
            )


def _seconds(seconds):
    """86400 → '86400 seconds (1 day)'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{seconds} seconds ({count} {unit}{'' if count == 1 else 's'})"
    return f"{seconds} seconds"
