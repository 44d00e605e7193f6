"""
Cookie rules: what a server may send and what a browser will do with it.

Plain Python, no Django: a proposed cookie and the request context go in,
findings come out. Each finding has a severity, a stable code (Chromium's
exclusion or warning reason where one exists), the form field it concerns, a
plain explanation and the spec section (RFC 6265bis; the layered-cookies draft
for the __Http- prefixes).
"""

from dataclasses import replace

from . import expiry, scope, syntax
from .engines import Engine, engine_of, notes_for
from .hosts import (
    default_path,
    domain_matches,
    host_without_port,
    is_potentially_trustworthy,
    path_matches,
)
from .model import (
    LAYERED,
    MAX_ATTRIBUTE_BYTES,
    MAX_LIFETIME,
    MAX_NAME_VALUE_BYTES,
    RFC,
    SAMESITE_CHOICES,
    VALUE_MAX_CHARS,
    Finding,
    ProposedCookie,
    RequestContext,
    SameSite,
    Severity,
    Source,
)

SEVERITY_ORDER = list(Severity)
CHECKS = (
    syntax.name_findings,
    syntax.value_findings,
    syntax.size_findings,
    syntax.control_in_attributes,
    scope.lifetime,
    scope.path,
    scope.domain,
    scope.secure,
    scope.samesite,
    scope.prefix,
    scope.partitioned,
    scope.script_only,
    scope.existing,
)


def evaluate(cookie, context=None):
    """All findings for ``cookie`` set in ``context``, most severe first, with engine notes."""
    context = context or RequestContext()
    findings = [finding for check in CHECKS for finding in check(cookie, context)]
    if cookie.source == Source.SERVER:  # the engines' proofs set cookies from the server
        findings = [f if f.engines else replace(f, engines=notes_for(f.code)) for f in findings]
    return sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity))


def worst(findings):
    """The most severe severity among ``findings``, or None."""
    return min((f.severity for f in findings), key=SEVERITY_ORDER.index, default=None)


def refused(findings):
    return [f for f in findings if f.severity == Severity.REFUSED]


__all__ = [
    "CHECKS",
    "Engine",
    "LAYERED",
    "MAX_ATTRIBUTE_BYTES",
    "MAX_LIFETIME",
    "MAX_NAME_VALUE_BYTES",
    "RFC",
    "SAMESITE_CHOICES",
    "SEVERITY_ORDER",
    "VALUE_MAX_CHARS",
    "Finding",
    "ProposedCookie",
    "RequestContext",
    "SameSite",
    "Severity",
    "Source",
    "default_path",
    "domain_matches",
    "engine_of",
    "evaluate",
    "expiry",
    "host_without_port",
    "is_potentially_trustworthy",
    "path_matches",
    "refused",
    "worst",
]
