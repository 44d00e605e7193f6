"""Hosts, domains and paths as RFC 6265bis and Chromium compare them."""

import ipaddress
from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def public_suffixes():
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


def path_matches(cookie_path, request_path):
    """RFC 6265bis §5.1.4: whether a cookie with ``cookie_path`` is sent to ``request_path``."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )
