"""Every cookie rule, table-driven: the code and severity each case must produce."""

from datetime import UTC, datetime, timedelta

import pytest

from cookies_app import rules
from cookies_app.rules import ProposedCookie, RequestContext, Severity, Source

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HTTP = RequestContext(scheme="http", host="lab.example", path="/cookies", now=NOW)
HTTPS = RequestContext(scheme="https", host="lab.example", path="/cookies", now=NOW)
LOCAL = RequestContext(scheme="http", host="localhost:8000", path="/cookies", now=NOW)
LOOPBACK = RequestContext(scheme="http", host="127.0.0.1:8000", path="/cookies", now=NOW)
SERVER, SCRIPT = Source.SERVER, Source.SCRIPT

REFUSED, ERROR, WARNING, INFO = Severity.REFUSED, Severity.ERROR, Severity.WARNING, Severity.INFO

CASES = [
    # Names: token characters, controls, whitespace, non-ASCII, quotes, empty.
    ("space in name", {"name": "a b"}, HTTP, "DisallowedCharacter", REFUSED),
    ("semicolon in name", {"name": "a;b"}, HTTP, "DisallowedCharacter", REFUSED),
    ("equals in name", {"name": "a=b"}, HTTP, "DisallowedCharacter", REFUSED),
    ("quote in name", {"name": 'a"b'}, HTTP, "DisallowedCharacter", REFUSED),
    ("tab in name", {"name": "a\tb"}, HTTP, "DisallowedCharacter", REFUSED),
    ("newline in name", {"name": "a\nb"}, HTTP, "DisallowedCharacter", REFUSED),
    ("non-ASCII name", {"name": "caf\u00e9"}, HTTP, "DisallowedCharacter", REFUSED),
    ("dollar name", {"name": "$Version"}, HTTP, "DollarName", REFUSED),
    ("dollar script name", {"name": "$x", "source": SCRIPT}, HTTP, "DollarName", WARNING),
    ("space in script name", {"name": "a b", "source": SCRIPT}, HTTP, "NameNotToken", WARNING),
    (
        "semicolon in script name",
        {"name": "a;b", "source": SCRIPT},
        HTTP,
        "DisallowedCharacter",
        REFUSED,
    ),
    ("empty name", {"name": "", "value": "v"}, HTTP, "EmptyName", REFUSED),
    (
        "empty script name",
        {"name": "", "value": "v", "source": SCRIPT},
        HTTP,
        "EmptyName",
        WARNING,
    ),
    ("no name, no value", {"name": "", "value": ""}, HTTP, "NoCookieContent", REFUSED),
    # Values: cookie-octet, controls, whitespace, non-ASCII, quotes.
    ("newline in value", {"value": "a\nb"}, HTTP, "DisallowedCharacter", REFUSED),
    ("NUL in value", {"value": "a\x00b"}, HTTP, "DisallowedCharacter", REFUSED),
    ("DEL in value", {"value": "a\x7fb"}, HTTP, "DisallowedCharacter", REFUSED),
    ("non-ASCII value", {"value": "\u20ac"}, HTTP, "DisallowedCharacter", REFUSED),
    ("space in value", {"value": "a b"}, HTTP, "ValueQuoted", WARNING),
    ("comma in value", {"value": "a,b"}, HTTP, "ValueQuoted", WARNING),
    ("quote in value", {"value": 'a"b'}, HTTP, "ValueQuoted", WARNING),
    ("backslash in value", {"value": "a\\b"}, HTTP, "ValueQuoted", WARNING),
    (
        "semicolon in script value",
        {"value": "a;b", "source": SCRIPT},
        HTTP,
        "ValueTruncated",
        WARNING,
    ),
    ("value over the lab cap", {"value": "v" * 9000}, HTTP, "ValueTooLong", REFUSED),
    # Sizes.
    (
        "name+value over 4096",
        {"name": "n", "value": "v" * 4096},
        HTTP,
        "NameValuePairExceedsMaxSize",
        ERROR,
    ),
    ("path over 1024", {"path": "/" + "p" * 1024}, HTTP, "AttributeValueExceedsMaxSize", WARNING),
    (
        "domain over 1024",
        {"domain": "a." * 512 + "lab.example"},
        HTTP,
        "AttributeValueExceedsMaxSize",
        WARNING,
    ),
    # Lifetimes.
    ("max-age over 400 days", {"max_age": 401 * 86400}, HTTP, "LifetimeCapped", WARNING),
    (
        "expires over 400 days",
        {"expires": NOW + timedelta(days=401)},
        HTTP,
        "LifetimeCapped",
        WARNING,
    ),
    ("max-age zero deletes", {"max_age": 0}, HTTP, "Deletes", INFO),
    ("negative max-age deletes", {"max_age": -1}, HTTP, "Deletes", INFO),
    ("past expires deletes", {"expires": NOW - timedelta(days=1)}, HTTP, "Deletes", INFO),
    # Path.
    ("relative path", {"path": "cookies"}, HTTP, "PathIgnored", WARNING),
    ("semicolon in path", {"path": "/a;b"}, HTTP, "DisallowedCharacter", REFUSED),
    ("CRLF in path", {"path": "/\r\nSet-Cookie: x=1"}, HTTP, "DisallowedCharacter", REFUSED),
    # Domain.
    ("foreign domain", {"domain": "other.example"}, HTTP, "InvalidDomain", ERROR),
    ("sibling domain", {"domain": "b.lab.example"}, HTTP, "InvalidDomain", ERROR),
    ("leading dot", {"domain": ".lab.example"}, HTTP, "LeadingDot", INFO),
    (
        "public suffix",
        {"domain": "co.uk"},
        RequestContext(host="shop.example.co.uk"),
        "InvalidDomain",
        ERROR,
    ),
    (
        "private public suffix",
        {"domain": "github.io"},
        RequestContext(host="me.github.io"),
        "InvalidDomain",
        ERROR,
    ),
    ("localhost domain on localhost", {"domain": "localhost"}, LOCAL, "DomainIsPublicSuffix", INFO),
    ("localhost domain elsewhere", {"domain": "localhost"}, HTTP, "InvalidDomain", ERROR),
    ("IP domain on that IP", {"domain": "127.0.0.1"}, LOOPBACK, "DomainIsAddress", INFO),
    ("other IP domain", {"domain": "127.0.0.2"}, LOOPBACK, "InvalidDomain", ERROR),
    ("IP host, name domain", {"domain": "0.0.1"}, LOOPBACK, "InvalidDomain", ERROR),
    ("not a host name", {"domain": "lab example"}, HTTP, "InvalidDomain", ERROR),
    ("semicolon in domain", {"domain": "a;b"}, HTTP, "DisallowedCharacter", REFUSED),
    # Secure.
    ("secure from http", {"secure": True}, HTTP, "SecureOnly", ERROR),
    ("secure from localhost", {"secure": True}, LOCAL, "SecureOnLocalhost", INFO),
    ("secure from 127.0.0.1", {"secure": True}, LOOPBACK, "SecureOnLocalhost", INFO),
    # SameSite.
    ("SameSite=None without Secure", {"samesite": "None"}, HTTPS, "SameSiteNoneInsecure", ERROR),
    ("unknown SameSite", {"samesite": "Bogus"}, HTTP, "InvalidSameSite", REFUSED),
    (
        "unknown SameSite from script",
        {"samesite": "Bogus", "source": SCRIPT},
        HTTP,
        "InvalidSameSite",
        WARNING,
    ),
    ("no SameSite", {}, HTTP, "SameSiteUnspecified", INFO),
    # Prefixes.
    ("__Secure- without Secure", {"name": "__Secure-a"}, HTTPS, "InvalidPrefix", ERROR),
    ("__Secure- from http", {"name": "__Secure-a", "secure": True}, HTTP, "InvalidPrefix", ERROR),
    ("__secure- lower case", {"name": "__secure-a"}, HTTPS, "InvalidPrefix", ERROR),
    (
        "__Host- with Domain",
        {"name": "__Host-a", "secure": True, "path": "/", "domain": "lab.example"},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    (
        "__Host- with Path /x",
        {"name": "__Host-a", "secure": True, "path": "/x"},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    (
        "__HOST- upper case",
        {"name": "__HOST-a", "secure": True, "path": "/x"},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    (
        "__Http- without HttpOnly",
        {"name": "__Http-a", "secure": True},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    (
        "__Http- from script",
        {"name": "__Http-a", "secure": True, "source": SCRIPT},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    (
        "__Host-Http- with Path /x",
        {"name": "__Host-Http-a", "secure": True, "httponly": True, "path": "/x"},
        HTTPS,
        "InvalidPrefix",
        ERROR,
    ),
    # Partitioned.
    ("partitioned without secure", {"partitioned": True}, HTTPS, "InvalidPartitioned", ERROR),
    # HttpOnly and JavaScript.
    ("httponly from script", {"httponly": True, "source": SCRIPT}, HTTP, "HttpOnly", ERROR),
    (
        "script overwrites HttpOnly",
        {"name": "sid_x", "source": SCRIPT},
        RequestContext(httponly_names=frozenset({"sid_x"})),
        "OverwriteHttpOnly",
        ERROR,
    ),
    # The same name again.
    (
        "name already held",
        {"name": "flavor", "path": "/cookies"},
        RequestContext(received_names=frozenset({"flavor"})),
        "DuplicateName",
        INFO,
    ),
    # The site's own cookies.
    (
        "site cookie",
        {"name": "CSRFTOKEN"},
        RequestContext(reserved_names=frozenset({"csrftoken"})),
        "ReservedName",
        REFUSED,
    ),
]


@pytest.mark.parametrize(
    ("cookie", "context", "code", "severity"),
    [pytest.param(c, ctx, code, sev, id=name) for name, c, ctx, code, sev in CASES],
)
def test_rule(cookie, context, code, severity):
    proposed = ProposedCookie(**{"name": "n", "value": "v", "path": "/", **cookie})

    findings = rules.evaluate(proposed, context)

    matching = [f for f in findings if f.code == code]
    assert matching, f"no {code} in {[f.code for f in findings]}"
    assert {f.severity for f in matching} == {severity}
    assert all(f.message and f.spec.startswith(("RFC 6265bis", "draft-")) for f in matching)


VALID = [
    ("plain", {}, HTTP),
    ("secure over https", {"secure": True, "samesite": "Lax"}, HTTPS),
    ("__Secure- done right", {"name": "__Secure-a", "secure": True}, HTTPS),
    ("__Host- done right", {"name": "__Host-a", "secure": True, "path": "/"}, HTTPS),
    (
        "__Host-Http- done right",
        {"name": "__Host-Http-a", "secure": True, "httponly": True, "path": "/"},
        HTTPS,
    ),
    ("partitioned and secure", {"secure": True, "partitioned": True, "samesite": "None"}, HTTPS),
    ("subdomain of host", {"domain": "lab.example"}, RequestContext(host="www.lab.example")),
    ("400 days exactly", {"max_age": 400 * 86400}, HTTP),
    ("quoted value", {"value": '"a b"'}, HTTP),
]


@pytest.mark.parametrize(
    ("cookie", "context"), [pytest.param(c, ctx, id=name) for name, c, ctx in VALID]
)
def test_valid_cookie_has_no_warning_or_worse(cookie, context):
    proposed = ProposedCookie(**{"name": "n", "value": "v", "path": "/", **cookie})

    findings = rules.evaluate(proposed, context)

    assert [f.code for f in findings if f.severity != INFO] == []


def test_findings_come_most_severe_first():
    proposed = ProposedCookie(name="a b", value="v", samesite="None", max_age=0)

    severities = [f.severity for f in rules.evaluate(proposed, HTTP)]

    assert severities == sorted(severities, key=rules.SEVERITY_ORDER.index)
    assert rules.worst(rules.evaluate(proposed, HTTP)) == REFUSED


def test_lifetime_cap_names_the_capped_value():
    [finding] = [
        f
        for f in rules.evaluate(ProposedCookie(name="n", max_age=10**9), HTTP)
        if f.code == "LifetimeCapped"
    ]

    assert "400 days (Max-Age=34560000)" in finding.message


def test_relative_path_names_the_default_path():
    [finding] = [
        f
        for f in rules.evaluate(ProposedCookie(name="n", path="x"), RequestContext(path="/a/b/c"))
        if f.code == "PathIgnored"
    ]

    assert "'/a/b'" in finding.message


def test_duplicate_name_says_which_one_django_keeps():
    context = RequestContext(received_names=frozenset({"n"}))
    [finding] = [
        f for f in rules.evaluate(ProposedCookie(name="n"), context) if f.code == "DuplicateName"
    ]

    assert "request.COOKIES keeps the last one" in finding.message


def test_the_rules_package_knows_nothing_of_django():
    import ast
    from pathlib import Path

    imported = set()
    for source in Path(rules.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)

    assert "publicsuffixlist" in imported, "the walk should see the package's imports"
    assert not any(m.startswith("django") for m in imported)


@pytest.mark.parametrize(
    ("path", "expected"), [("/", "/"), ("/cookies", "/"), ("/a/b", "/a"), ("x", "/")]
)
def test_default_path(path, expected):
    assert rules.default_path(path) == expected


def test_every_finding_code_has_a_one_line_fix():
    import re
    from pathlib import Path

    from cookies_app.rules.fixes import FIXES

    source = "".join(p.read_text() for p in Path("cookies_app/rules").glob("*.py"))
    # Every code passed to finding(...): the second argument, a CamelCase string.
    codes = set(re.findall(r'finding\(\s*"\w+",\s*"([A-Z]\w+)"', source))
    codes |= set(re.findall(r'\n\s+"(?:refused|error|warning|info)",\n\s+"([A-Z]\w+)"', source))
    assert len(codes) > 25
    assert sorted(codes - FIXES.keys()) == []
    assert all(fix.endswith(".") and "\n" not in fix for fix in FIXES.values())
