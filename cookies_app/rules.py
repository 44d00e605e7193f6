"""
Cookie rules: what a server may send and what a browser will do with it.

Plain Python, no Django: a proposed cookie and the request context go in,
findings come out. Each finding has a severity, a stable code (Chromium's
exclusion or warning reason where one exists), the form field it concerns, a
plain explanation and the spec section (RFC 6265bis; the layered-cookies draft
for the __Http- prefixes).
"""

import ipaddress
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from publicsuffixlist import PublicSuffixList

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


# Python's http.cookies accepts RFC 7230 token characters plus ':' in a name;
# anything else cannot be put in a Set-Cookie header from Django.
TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:")
# cookie-octet: what a value may hold without quoting (RFC 6265 §4.1.1).
COOKIE_OCTETS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('",;\\')
# What an unquoted attribute value may hold for header parsers such as Python's
# http.cookies; a space or a quote ends the attribute there.
ATTRIBUTE_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/<>@,=?(){}[]")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is tolerated inside values
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
HOSTNAME = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
PREFIXES = ("__Host-Http-", "__Http-", "__Host-", "__Secure-")


def describe_char(char):
    """A character as a person can read it, even when it is invisible."""
    if char == " ":
        return "a space"
    if ANY_CONTROL.match(char):
        return f"the control character U+{ord(char):04X}"
    if not char.isascii():
        return f"the non-ASCII character {char!r} (U+{ord(char):04X})"
    return f"'{char}'"


def byte_len(text):
    return len(text.encode("utf-8", "surrogatepass"))


@cache
def _public_suffixes():
    return PublicSuffixList()


def host_without_port(host):
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def ip_address(host):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_potentially_trustworthy(scheme, host):
    """HTTPS, or a loopback host that Chromium treats as secure over plain HTTP."""
    if scheme == "https":
        return True
    host = host_without_port(host)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = ip_address(host)
    return address is not None and address.is_loopback


def domain_matches(host, domain):
    """RFC 6265bis §5.1.3: host is domain, or a name under it (not an IP)."""
    return host == domain or (ip_address(host) is None and host.endswith("." + domain))


def default_path(request_path):
    """RFC 6265bis §5.1.4: the request path up to, not including, its last '/'."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def evaluate(cookie, context=None):
    """All findings for ``cookie`` set in ``context``, most severe first."""
    context = context or RequestContext()
    checks = (
        _name,
        _value,
        _size,
        _control_in_attributes,
        _lifetime,
        _path,
        _domain,
        _secure,
        _samesite,
        _prefix,
        _partitioned,
        _script_only,
        _existing,
    )
    findings = [finding for check in checks for finding in check(cookie, context)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity))


def worst(findings):
    """The most severe severity among ``findings``, or None."""
    return min((f.severity for f in findings), key=SEVERITY_ORDER.index, default=None)


def refused(findings):
    return [f for f in findings if f.severity == Severity.REFUSED]


def errors(findings):
    return [f for f in findings if f.severity == Severity.ERROR]


def _finding(severity, code, field_name, message, section, spec=RFC):
    return Finding(Severity(severity), code, field_name, message, f"{spec} {section}")


def _name(cookie, context):
    name, server = cookie.name, cookie.source == Source.SERVER
    if name == "":
        if cookie.value == "":
            yield _finding(
                "refused", "NoCookieContent", "key", "The cookie has no name and no value.", "§5.7"
            )
        elif server:
            yield _finding(
                "refused",
                "EmptyName",
                "key",
                "A cookie needs a name: Django's set_cookie cannot send a nameless cookie.",
                "§5.7",
            )
        else:
            yield _finding(
                "warning",
                "EmptyName",
                "key",
                "A nameless cookie: the browser keeps it, but most servers cannot read it.",
                "§5.7",
            )
        return
    control = ANY_CONTROL.search(name)
    if control:
        yield _finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A cookie name cannot contain {describe_char(control.group())}: it could end "
            "the header or inject another one. Remove it.",
            "§5.6",
        )
    elif server and (bad := next((c for c in name if c not in TOKEN_CHARS), None)):
        yield _finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A cookie name cannot contain {describe_char(bad)}. Names are tokens: "
            "letters, digits and !#$%&'*+-.^_`|~ only.",
            "§4.1.1",
        )
    elif not server and (bad := next((c for c in name if c in ";="), None)):
        yield _finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A name containing {describe_char(bad)} would be split by the browser into "
            "a different cookie. Remove it.",
            "§5.6",
        )
    elif not server and (bad := next((c for c in name if c not in TOKEN_CHARS), None)):
        yield _finding(
            "warning",
            "NameNotToken",
            "key",
            f"The name contains {describe_char(bad)}: Chromium accepts it, but it is not "
            "an RFC token and many servers will not parse it.",
            "§4.1.1",
        )
    if name.startswith("$"):
        yield _finding(
            "refused" if server else "warning",
            "DollarName",
            "key",
            "A name starting with '$' reads as an RFC 2109 attribute ($Version, $Path) to "
            "older parsers, Python's http.cookies among them, which skip it silently. "
            "Drop the '$'.",
            "§4.1.1",
        )
    if name.lower() in {n.lower() for n in context.reserved_names}:
        yield _finding(
            "refused",
            "ReservedName",
            "key",
            f"'{name}' is one of this site's own cookies (session, CSRF or visitor id); "
            "the lab will not set, overwrite or delete it. Pick another name.",
            "§4.1",
        )


def _value(cookie, context):
    value, server = cookie.value, cookie.source == Source.SERVER
    control = CONTROL.search(value)
    if control:
        yield _finding(
            "refused",
            "DisallowedCharacter",
            "value",
            f"The value cannot contain {describe_char(control.group())}: browsers drop such "
            "cookies and it could inject a header. Percent-encode it (e.g. %0A).",
            "§5.6",
        )
    elif server and (bad := next((c for c in value if not c.isascii()), None)):
        yield _finding(
            "refused",
            "DisallowedCharacter",
            "value",
            f"The value cannot contain {describe_char(bad)}: headers carry bytes, and "
            "Python would mangle it. Percent-encode it (e.g. %E2%82%AC for €).",
            "§4.1.1",
        )
    elif server and (bad := next((c for c in value if c not in COOKIE_OCTETS), None)):
        if not (len(value) >= 2 and value[0] == value[-1] == '"'):
            yield _finding(
                "warning",
                "ValueQuoted",
                "value",
                f"The value contains {describe_char(bad)}, which a cookie value cannot hold "
                'bare: Python wraps it in double quotes ("...", with \\ escapes), and the '
                "browser stores the quotes as part of the value.",
                "§4.1.1",
            )
    elif not server and ";" in value:
        yield _finding(
            "warning",
            "ValueTruncated",
            "value",
            "A ';' ends the value in document.cookie: everything after it is read as attributes.",
            "§5.6",
        )
    if len(value) > VALUE_MAX_CHARS:
        yield _finding(
            "refused",
            "ValueTooLong",
            "value",
            f"The value is {len(value)} characters; the lab sends at most "
            f"{VALUE_MAX_CHARS} (browsers keep at most {MAX_NAME_VALUE_BYTES} bytes of "
            "name and value).",
            "§5.7",
        )


def _size(cookie, context):
    size = byte_len(cookie.name) + byte_len(cookie.value)
    if size > MAX_NAME_VALUE_BYTES:
        yield _finding(
            "error",
            "NameValuePairExceedsMaxSize",
            "value",
            f"Name and value are {size} bytes together; browsers drop a cookie over "
            f"{MAX_NAME_VALUE_BYTES} bytes.",
            "§5.7",
        )
    for field_name, label, text in (
        ("path", "Path", cookie.path),
        ("domain", "Domain", cookie.domain),
    ):
        if byte_len(text) > MAX_ATTRIBUTE_BYTES:
            yield _finding(
                "warning",
                "AttributeValueExceedsMaxSize",
                field_name,
                f"{label} is {byte_len(text)} bytes; browsers ignore an attribute over "
                f"{MAX_ATTRIBUTE_BYTES} bytes, as if it were not there.",
                "§5.6",
            )


def _control_in_attributes(cookie, context):
    for field_name, label, text in (
        ("path", "Path", cookie.path),
        ("domain", "Domain", cookie.domain),
    ):
        bad = next((c for c in text if c == ";" or ANY_CONTROL.match(c) or not c.isascii()), None)
        if bad is None and cookie.source == Source.SERVER:
            bad = next((c for c in text if c not in ATTRIBUTE_CHARS), None)
        if bad is not None:
            yield _finding(
                "refused",
                "DisallowedCharacter",
                field_name,
                f"{label} cannot contain {describe_char(bad)}: it would end the attribute "
                "or inject another header.",
                "§4.1.1",
            )


def _lifetime(cookie, context):
    now = context.now or datetime.now(UTC)
    if cookie.max_age is not None:
        if cookie.max_age <= 0:
            yield _finding(
                "info",
                "Deletes",
                "max_age",
                "Max-Age of 0 or less expires the cookie at once: this deletes it.",
                "§5.6.2",
            )
        elif cookie.max_age > MAX_LIFETIME.total_seconds():
            yield _lifetime_capped("max_age", "Max-Age")
    elif cookie.expires is not None:
        expires = cookie.expires if cookie.expires.tzinfo else cookie.expires.replace(tzinfo=UTC)
        if expires <= now:
            yield _finding(
                "info",
                "Deletes",
                "expires",
                "Expires is in the past: the browser deletes the cookie at once.",
                "§5.6.1",
            )
        elif expires - now > MAX_LIFETIME:
            yield _lifetime_capped("expires", "Expires")


def _lifetime_capped(field_name, label):
    seconds = int(MAX_LIFETIME.total_seconds())
    return _finding(
        "warning",
        "LifetimeCapped",
        field_name,
        f"{label} is more than 400 days away: browsers cap a cookie's lifetime at 400 "
        f"days (Max-Age={seconds}) from when it is set.",
        "§5.6.1",
    )


def _path(cookie, context):
    if cookie.path and not cookie.path.startswith("/"):
        yield _finding(
            "warning",
            "PathIgnored",
            "path",
            f"Path '{cookie.path}' does not start with '/': the browser ignores it and uses "
            f"the default path '{default_path(context.path)}' (the request's directory).",
            "§5.6.4",
        )


def _domain(cookie, context):
    domain = cookie.domain.strip().lower()
    if not domain or ANY_CONTROL.search(domain) or ";" in domain or not domain.isascii():
        return
    host = host_without_port(context.host)
    if domain.startswith("."):
        domain = domain[1:]
        yield _finding(
            "info",
            "LeadingDot",
            "domain",
            "The leading dot is ignored: Domain=.example.com means example.com and its subdomains.",
            "§5.6.3",
        )
    if not HOSTNAME.fullmatch(domain):
        yield _finding(
            "error",
            "InvalidDomain",
            "domain",
            f"'{cookie.domain}' is not a host name: the browser drops the cookie.",
            "§5.6.3",
        )
        return
    address = ip_address(domain)
    if address is not None:
        if domain == host.strip("[]") or domain == host:
            yield _finding(
                "info",
                "DomainIsAddress",
                "domain",
                "Domain is this IP address: the cookie stays host-only (an address has no "
                "subdomains to share with).",
                "§5.7",
            )
        else:
            yield _finding(
                "error",
                "InvalidDomain",
                "domain",
                f"Domain {domain} is an IP address other than this host ({host}): the "
                "browser drops the cookie.",
                "§5.7",
            )
        return
    if not domain_matches(host, domain):
        yield _finding(
            "error",
            "InvalidDomain",
            "domain",
            f"This page's host {host} is not {domain} or under it: the browser drops a "
            "cookie for another site.",
            "§5.7",
        )
        return
    if _public_suffixes().is_public(domain):
        if domain == host:
            where = "localhost" if domain == "localhost" else f"'{domain}'"
            yield _finding(
                "info",
                "DomainIsPublicSuffix",
                "domain",
                f"{where} has no registrable domain (it is a public suffix): Chromium "
                "accepts Domain equal to the host but keeps the cookie host-only.",
                "§5.7",
            )
        else:
            yield _finding(
                "error",
                "InvalidDomain",
                "domain",
                f"{domain} is a public suffix: browsers drop a cookie that would be shared "
                "by every site under it.",
                "§5.7",
            )


def _secure(cookie, context):
    if not cookie.secure or context.scheme == "https":
        return
    if is_potentially_trustworthy(context.scheme, context.host):
        yield _finding(
            "info",
            "SecureOnLocalhost",
            "secure",
            "This page is plain HTTP, but Chromium treats localhost and 127.0.0.0/8 as "
            "secure, so it keeps a Secure cookie here (other browsers may not).",
            "§5.7",
        )
    else:
        yield _finding(
            "error",
            "SecureOnly",
            "secure",
            "A Secure cookie cannot be set from a plain-HTTP page: the browser drops it. "
            "Use HTTPS.",
            "§5.7",
        )


def _samesite(cookie, context):
    samesite = cookie.samesite.strip()
    if not samesite:
        yield _finding(
            "info",
            "SameSiteUnspecified",
            "samesite",
            "No SameSite: browsers treat the cookie as Lax (sent on same-site requests and "
            "top-level navigations).",
            "§5.6.7",
        )
    elif samesite.lower() not in ("lax", "strict", "none"):
        if cookie.source == Source.SERVER:
            yield _finding(
                "refused",
                "InvalidSameSite",
                "samesite",
                f"SameSite must be Lax, Strict or None, not '{samesite}': Django's "
                "set_cookie refuses anything else.",
                "§5.6.7",
            )
        else:
            yield _finding(
                "warning",
                "InvalidSameSite",
                "samesite",
                f"'{samesite}' is not a SameSite value: the browser ignores it and treats "
                "the cookie as Lax.",
                "§5.6.7",
            )
    elif samesite.lower() == "none" and not cookie.secure:
        yield _finding(
            "error",
            "SameSiteNoneInsecure",
            "samesite",
            "SameSite=None without Secure: browsers drop the cookie. Tick secure.",
            "§5.6.7",
        )


def _prefix(cookie, context):
    name = cookie.name
    prefix = next((p for p in PREFIXES if name.lower().startswith(p.lower())), None)
    if prefix is None:
        return
    trustworthy = is_potentially_trustworthy(context.scheme, context.host)
    case = "" if name.startswith(prefix) else f" (matched case-insensitively as {prefix})"
    problems = []
    if not cookie.secure:
        problems.append("it must be Secure")
    if not trustworthy:
        problems.append("it must be set from a secure (HTTPS) page")
    spec, section = (RFC, "§4.1.3")
    if prefix.startswith("__Host-"):
        if cookie.domain:
            problems.append("it must not have a Domain")
        if cookie.path != "/":
            problems.append("its Path must be /")
    if "Http-" in prefix:
        spec, section = (LAYERED, "§4.1.3")
        if cookie.source == Source.SCRIPT:
            problems.append("it cannot be set from document.cookie")
        elif not cookie.httponly:
            problems.append("it must be HttpOnly")
    if problems:
        yield _finding(
            "error",
            "InvalidPrefix",
            "key",
            f"A {prefix} cookie{case} is dropped unless its rules hold: {'; '.join(problems)}.",
            section,
            spec,
        )


def _partitioned(cookie, context):
    if cookie.partitioned and not cookie.secure:
        yield _finding(
            "error",
            "InvalidPartitioned",
            "partitioned",
            "Partitioned (CHIPS) cookies must be Secure: the browser drops this one. Tick secure.",
            "§5.6.8",
        )


def _script_only(cookie, context):
    if cookie.source != Source.SCRIPT:
        return
    if cookie.httponly:
        yield _finding(
            "error",
            "HttpOnly",
            "httponly",
            "document.cookie cannot create an HttpOnly cookie: the browser ignores the "
            "assignment. Set it from the server.",
            "§5.7",
        )
    if cookie.name in context.httponly_names:
        yield _finding(
            "error",
            "OverwriteHttpOnly",
            "key",
            f"An HttpOnly cookie named '{cookie.name}' exists: document.cookie cannot "
            "overwrite or delete it, so the browser ignores the assignment.",
            "§5.7",
        )


def _existing(cookie, context):
    if cookie.name and cookie.name in context.received_names:
        yield _finding(
            "info",
            "DuplicateName",
            "key",
            f"A cookie named '{cookie.name}' already exists. It is replaced only if "
            "Domain and Path match; otherwise the browser keeps both and sends both, the "
            "longer Path first, and Django's request.COOKIES keeps the last one sent.",
            "§5.7",
        )
