"""Lifetime, scope and security attributes: what the browser will keep."""

from dataclasses import replace
from datetime import UTC, datetime

from .engines import HOST_PREFIX_OWN_DOMAIN, Engine, compat_notes
from .expiry import RANGE, in_range
from .hosts import (
    default_path,
    domain_matches,
    host_without_port,
    ip_address,
    is_potentially_trustworthy,
    public_suffixes,
)
from .model import LAYERED, MAX_LIFETIME, RFC, SameSite, Source, finding
from .syntax import ANY_CONTROL, HOSTNAME, PREFIXES


def lifetime(cookie, context):
    if cookie.expires is not None and not in_range(cookie.expires):
        # The parsers refuse these first; a caller that builds the cookie itself
        # gets the same answer instead of an overflow when it is sent.
        yield finding(
            "refused",
            "ExpiresOutOfRange",
            "expires",
            f"Expires must be {RANGE}: a date beyond them cannot be converted or sent "
            "reliably. Use 1970-01-01 00:00:00 UTC to delete the cookie.",
            "§5.1.1",
        )
        return
    now = context.now or datetime.now(UTC)
    if cookie.max_age is not None:
        if cookie.max_age <= 0:
            yield finding(
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
            yield finding(
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
    return finding(
        "warning",
        "LifetimeCapped",
        field_name,
        f"{label} is more than 400 days away: browsers cap a cookie's lifetime at 400 "
        f"days (Max-Age={seconds}) from when it is set.",
        "§5.6.1",
    )


def path(cookie, context):
    if cookie.path and not cookie.path.startswith("/"):
        yield finding(
            "warning",
            "PathIgnored",
            "path",
            f"Path '{cookie.path}' does not start with '/': the browser ignores it and uses "
            f"the default path '{default_path(context.path)}' (the request's directory).",
            "§5.6.4",
        )


def domain(cookie, context):
    domain = cookie.domain.strip().lower()
    if not domain or ANY_CONTROL.search(domain) or ";" in domain or not domain.isascii():
        return
    host = host_without_port(context.host)
    if domain.startswith("."):
        domain = domain[1:]
        yield finding(
            "info",
            "LeadingDot",
            "domain",
            "The leading dot is ignored: Domain=.example.com means example.com and its subdomains.",
            "§5.6.3",
        )
    if not HOSTNAME.fullmatch(domain):
        yield finding(
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
            yield finding(
                "info",
                "DomainIsAddress",
                "domain",
                "Domain is this IP address: the cookie stays host-only (an address has no "
                "subdomains to share with).",
                "§5.7",
            )
        else:
            yield _invalid_domain(
                f"Domain {domain} is an IP address other than this host ({host}): the "
                "browser drops the cookie."
            )
        return
    if not domain_matches(host, domain):
        yield _invalid_domain(
            f"This page's host {host} is not {domain} or under it: the browser drops a "
            "cookie for another site."
        )
        return
    if public_suffixes().is_public(domain):
        if domain == host:
            where = "localhost" if domain == "localhost" else f"'{domain}'"
            yield finding(
                "info",
                "DomainIsPublicSuffix",
                "domain",
                f"{where} has no registrable domain (it is a public suffix): Chromium "
                "accepts Domain equal to the host but keeps the cookie host-only.",
                "§5.7",
            )
        else:
            yield _invalid_domain(
                f"{domain} is a public suffix: browsers drop a cookie that would be shared "
                "by every site under it."
            )


def secure(cookie, context):
    if not cookie.secure or context.scheme == "https":
        return
    if is_potentially_trustworthy(context.scheme, context.host):
        yield finding(
            "info",
            "SecureOnLocalhost",
            "secure",
            "This page is plain HTTP, but Chromium treats localhost and 127.0.0.0/8 as "
            "secure, so it keeps a Secure cookie here (other browsers may not).",
            "§5.7",
        )
    else:
        yield finding(
            "error",
            "SecureOnly",
            "secure",
            "A Secure cookie cannot be set from a plain-HTTP page: the browser drops it. "
            "Use HTTPS.",
            "§5.7",
        )


def samesite(cookie, context):
    samesite = cookie.samesite.strip()
    if not samesite:
        yield finding(
            "info",
            "SameSiteUnspecified",
            "samesite",
            "No SameSite: Chromium treats the cookie as Lax (sent on same-site requests and "
            "top-level navigations); Firefox keeps it with no SameSite.",
            "§5.6.7",
        )
    elif SameSite.parse(samesite) is None:
        if cookie.source == Source.SERVER:
            yield finding(
                "refused",
                "InvalidSameSite",
                "samesite",
                f"SameSite must be Lax, Strict or None, not '{samesite}': Django's "
                "set_cookie refuses anything else.",
                "§5.6.7",
            )
        else:
            yield finding(
                "warning",
                "InvalidSameSite",
                "samesite",
                f"'{samesite}' is not a SameSite value: the browser ignores it and treats "
                "the cookie as Lax.",
                "§5.6.7",
            )
    elif SameSite.parse(samesite) == SameSite.NONE and not cookie.secure:
        yield finding(
            "error",
            "SameSiteNoneInsecure",
            "samesite",
            "SameSite=None without Secure: browsers drop the cookie. Tick secure.",
            "§5.6.7",
        )


def prefix(cookie, context):
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
    own_domain = False
    if prefix.startswith("__Host-"):
        host = host_without_port(context.host).lower()
        if cookie.domain and not (ip_address(host) and cookie.domain.lower() == host):
            # (An address as Domain on that address is a host-only cookie to
            # both engines, which keep it: tested.)
            problems.append("it must not have a Domain")
            # Proven for a Set-Cookie line; document.cookie is not tested in Firefox.
            own_domain = cookie.source == Source.SERVER and _firefox_keeps_host_domain(
                cookie.domain, host
            )
        if cookie.path != "/":
            problems.append("its Path must be /")
    if "Http-" in prefix:
        spec, section = (LAYERED, "§4.1.3")
        if cookie.source == Source.SCRIPT:
            problems.append("it cannot be set from document.cookie")
        elif not cookie.httponly:
            problems.append("it must be HttpOnly")
    if problems == ["it must not have a Domain"] and own_domain:
        # Only Chromium drops it: judged by the engine that asks.
        kept = context.engine == Engine.FIREFOX
        yield replace(
            finding(
                "warning" if kept else "error",
                "InvalidPrefix",
                "key",
                f"A {prefix} cookie{case} must not have a Domain: Chromium drops it; Firefox "
                "keeps it when the Domain names this very host (a name without dots). Drop "
                "Domain for every browser.",
                section,
                spec,
            ),
            engines=HOST_PREFIX_OWN_DOMAIN + compat_notes("InvalidPrefix"),
        )
    elif problems:
        yield finding(
            "error",
            "InvalidPrefix",
            "key",
            f"A {prefix} cookie{case} is dropped unless its rules hold: {'; '.join(problems)}.",
            section,
            spec,
        )


def _firefox_keeps_host_domain(domain, host):
    """
    Whether Firefox keeps a __Host- cookie despite this Domain: one naming the
    host itself (a leading dot or not), when the host has no dot (localhost, as
    tested). For a dotted name Firefox stores the Domain with a leading dot and
    drops the cookie, as Chromium does.
    """
    return "." not in host and domain.lower().removeprefix(".") == host


def partitioned(cookie, context):
    if cookie.partitioned and not cookie.secure:
        yield finding(
            "error",
            "InvalidPartitioned",
            "partitioned",
            "Partitioned (CHIPS) cookies must be Secure: the browser drops this one. Tick secure.",
            "§5.6.8",
        )


def script_only(cookie, context):
    if cookie.source != Source.SCRIPT:
        return
    if cookie.httponly:
        yield finding(
            "error",
            "HttpOnly",
            "httponly",
            "document.cookie cannot create an HttpOnly cookie: the browser ignores the "
            "assignment. Set it from the server.",
            "§5.7",
        )
    if cookie.name in context.httponly_names:
        yield finding(
            "error",
            "OverwriteHttpOnly",
            "key",
            f"An HttpOnly cookie named '{cookie.name}' exists: document.cookie cannot "
            "overwrite or delete it, so the browser ignores the assignment.",
            "§5.7",
        )


def existing(cookie, context):
    if cookie.name and cookie.name in context.received_names:
        yield finding(
            "info",
            "DuplicateName",
            "key",
            f"A cookie named '{cookie.name}' already exists. It is replaced only if "
            "Domain and Path match; otherwise the browser keeps both and sends both, the "
            "longer Path first, and Django's request.COOKIES keeps the last one sent.",
            "§5.7",
        )


def _invalid_domain(message):
    """The browser drops the cookie: its Domain does not fit this host (§5.7)."""
    return finding("error", "InvalidDomain", "domain", message, "§5.7")
