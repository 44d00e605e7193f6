"""Names, values and sizes: what a Set-Cookie header can carry at all."""

import re
import string

from .model import (
    MAX_ATTRIBUTE_BYTES,
    MAX_NAME_VALUE_BYTES,
    VALUE_MAX_CHARS,
    Source,
    finding,
)

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


def name_findings(cookie, context):
    name, server = cookie.name, cookie.source == Source.SERVER
    if name == "":
        if cookie.value == "":
            yield finding(
                "refused", "NoCookieContent", "key", "The cookie has no name and no value.", "§5.7"
            )
        elif server:
            yield finding(
                "refused",
                "EmptyName",
                "key",
                "A cookie needs a name: Django's set_cookie cannot send a nameless cookie.",
                "§5.7",
            )
        else:
            yield finding(
                "warning",
                "EmptyName",
                "key",
                "A nameless cookie: the browser keeps it, but most servers cannot read it.",
                "§5.7",
            )
        return
    control = ANY_CONTROL.search(name)
    if control:
        yield finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A cookie name cannot contain {describe_char(control.group())}: it could end "
            "the header or inject another one. Remove it.",
            "§5.6",
        )
    elif server and (bad := next((c for c in name if c not in TOKEN_CHARS), None)):
        yield finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A cookie name cannot contain {describe_char(bad)}. Names are tokens: "
            "letters, digits and !#$%&'*+-.^_`|~ only.",
            "§4.1.1",
        )
    elif not server and (bad := next((c for c in name if c in ";="), None)):
        yield finding(
            "refused",
            "DisallowedCharacter",
            "key",
            f"A name containing {describe_char(bad)} would be split by the browser into "
            "a different cookie. Remove it.",
            "§5.6",
        )
    elif not server and (bad := next((c for c in name if c not in TOKEN_CHARS), None)):
        yield finding(
            "warning",
            "NameNotToken",
            "key",
            f"The name contains {describe_char(bad)}: Chromium accepts it, but it is not "
            "an RFC token and many servers will not parse it.",
            "§4.1.1",
        )
    if name.startswith("$"):
        yield finding(
            "refused" if server else "warning",
            "DollarName",
            "key",
            "A name starting with '$' reads as an RFC 2109 attribute ($Version, $Path) to "
            "older parsers, Python's http.cookies among them, which skip it silently. "
            "Drop the '$'.",
            "§4.1.1",
        )
    if name.lower() in {n.lower() for n in context.reserved_names}:
        yield finding(
            "refused",
            "ReservedName",
            "key",
            f"'{name}' is one of this site's own cookies (session, CSRF or visitor id); "
            "the lab will not set, overwrite or delete it. Pick another name.",
            "§4.1",
        )


def value_findings(cookie, context):
    value, server = cookie.value, cookie.source == Source.SERVER
    control = CONTROL.search(value)
    if control:
        yield finding(
            "refused",
            "DisallowedCharacter",
            "value",
            f"The value cannot contain {describe_char(control.group())}: browsers drop such "
            "cookies and it could inject a header. Percent-encode it (e.g. %0A).",
            "§5.6",
        )
    elif server and (bad := next((c for c in value if not c.isascii()), None)):
        yield finding(
            "refused",
            "DisallowedCharacter",
            "value",
            f"The value cannot contain {describe_char(bad)}: headers carry bytes, and "
            "Python would mangle it. Percent-encode it (e.g. %E2%82%AC for €).",
            "§4.1.1",
        )
    elif server and (bad := next((c for c in value if c not in COOKIE_OCTETS), None)):
        if not (len(value) >= 2 and value[0] == value[-1] == '"'):
            yield finding(
                "warning",
                "ValueQuoted",
                "value",
                f"The value contains {describe_char(bad)}, which a cookie value cannot hold "
                'bare: Python wraps it in double quotes ("...", with \\ escapes), and the '
                "browser stores the quotes as part of the value.",
                "§4.1.1",
            )
    elif not server and ";" in value:
        yield finding(
            "warning",
            "ValueTruncated",
            "value",
            "A ';' ends the value in document.cookie: everything after it is read as attributes.",
            "§5.6",
        )
    if len(value) > VALUE_MAX_CHARS:
        yield finding(
            "refused",
            "ValueTooLong",
            "value",
            f"The value is {len(value)} characters; the lab sends at most "
            f"{VALUE_MAX_CHARS} (browsers keep at most {MAX_NAME_VALUE_BYTES} bytes of "
            "name and value).",
            "§5.7",
        )


def size_findings(cookie, context):
    size = byte_len(cookie.name) + byte_len(cookie.value)
    if size > MAX_NAME_VALUE_BYTES:
        yield finding(
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
            yield finding(
                "warning",
                "AttributeValueExceedsMaxSize",
                field_name,
                f"{label} is {byte_len(text)} bytes; browsers ignore an attribute over "
                f"{MAX_ATTRIBUTE_BYTES} bytes, as if it were not there.",
                "§5.6",
            )


def control_in_attributes(cookie, context):
    for field_name, label, text in (
        ("path", "Path", cookie.path),
        ("domain", "Domain", cookie.domain),
    ):
        bad = next((c for c in text if c == ";" or ANY_CONTROL.match(c) or not c.isascii()), None)
        if bad is None and cookie.source == Source.SERVER:
            bad = next((c for c in text if c not in ATTRIBUTE_CHARS), None)
        if bad is not None:
            yield finding(
                "refused",
                "DisallowedCharacter",
                field_name,
                f"{label} cannot contain {describe_char(bad)}: it would end the attribute "
                "or inject another header.",
                "§4.1.1",
            )
