"""
An httpbin-compatible cookie API under /api, with attributes, findings, signed
cookies and export. Point an httpbin client at http://HOST/api.
"""

import json
import posixpath

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import export, httpbin, limits, rules
from .decorators import logs_cookies
from .http import InertJSONEncoder, json_response
from .setcookie import expire_cookie, send_cookie
from .signed import statuses as signed_statuses
from .site_cookies import env_names

FINDINGS_HEADER = "X-Cookie-Lab-Findings"
# A default nginx answers 502 past 4-8 KB of response headers in all: the
# findings header stays far below, whatever the request.
FINDINGS_HEADER_MAX = 1024
COOKIES_PER_CODE = 3
# The GET API's cookies live a day at most unless COOKIE_LAB_API_MAX_AGE says otherwise.
DEFAULT_API_MAX_AGE = 24 * 60 * 60
TRUTHY = ("1", "true", "yes", "on")
# Browsers keep about 180 cookies per site; a request setting more is a flood.
MAX_COOKIES = 50
DELETE_ATTRIBUTES = ("path", "domain", "secure", "httponly", "samesite", "partitioned")


@require_safe
@logs_cookies
def cookies(request):
    show_env = _shows_env(request)
    hidden = frozenset() if show_env else env_names()
    received, left_out = limits.shown(
        {n: v for n, v in request.COOKIES.items() if n.lower() not in hidden}
    )
    answer = {"cookies": received}
    if left_out:
        answer["left_out"] = left_out  # a flood: only the first cookies are listed
    return json_response(answer)


def _shows_env(request):
    """?show_env=1 (httpbin's): the lab's own cookies are listed too."""
    # request.GET parses the query into a QueryDict: most requests have none.
    if not request.META.get("QUERY_STRING"):
        return False
    return request.GET.get("show_env", "").lower() in TRUTHY


@require_safe
@logs_cookies
def set_cookies(request, name=None, value=None):
    pairs, raw_attributes = httpbin.split_query(request.GET.items())
    if name is not None:
        # /set/<name>/<value> sets that one, plus any pairs in the query.
        pairs[name] = value
    try:
        attributes, findings = _plan(request, pairs, raw_attributes)
    except Refused as refused:
        return _refusal(*refused.args)
    response = _to_cookies(findings)
    for key, text in pairs.items():
        try:
            send_cookie(response, attributes.proposed(key, text))
        except ValueError as error:
            return _refusal(f"{key!r} cannot be sent: {error}", findings)
    return response


@require_safe
@logs_cookies
def delete_cookies(request):
    names, raw_attributes = httpbin.split_query(request.GET.items())
    try:
        attributes, findings = _plan(
            request, dict.fromkeys(names, "deleted"), raw_attributes, DELETE_ATTRIBUTES
        )
    except Refused as refused:
        return _refusal(*refused.args)
    response = _to_cookies(findings)
    for key in names:
        try:
            expire_cookie(response, key, **attributes.scope())
        except ValueError as error:
            return _refusal(f"{key!r} cannot be deleted: {error}", findings)
    return response


@require_safe
@logs_cookies
def signed(request):
    max_age = request.GET.get("max_age")
    if max_age is not None:
        try:
            max_age = int(max_age)
        except ValueError:
            return _refusal(f"max_age must be a whole number of seconds, not {max_age!r}.")
    salt = request.GET.get("salt")
    statuses = signed_statuses(request.visit, salt=salt, max_age=max_age)
    return json_response({"signed": statuses})


@require_safe
@logs_cookies
def export_cookies(request):
    format_name = request.GET.get("format", "json")
    if format_name not in export.FORMATS:
        return _refusal(f"format must be one of {', '.join(export.FORMATS)}, not {format_name!r}.")
    content_type, filename = export.FORMATS[format_name]
    show_env = _shows_env(request)
    body = export.render(format_name, export.known_cookies(request.visit, include_env=show_env))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class Refused(Exception):
    """The API sends nothing: (message, findings) for the 400."""


def _plan(request, cookies, raw_attributes, allowed=httpbin.KNOWN):
    """(attributes, findings) for ``cookies`` ({name: value}), or Refused."""
    if len(cookies) > MAX_COOKIES:
        raise Refused(f"At most {MAX_COOKIES} cookies per request; this one has {len(cookies)}.")
    policy = _policy(request)
    try:
        attributes = httpbin.parse_attributes(
            raw_attributes,
            secure_default=request.is_secure(),
            allowed=allowed,
            path_default=policy.default_path,
        )
    except httpbin.BadAttribute as error:
        raise Refused(str(error)) from None
    context = request.visit.context
    findings = _findings(
        {k: rules.evaluate(attributes.proposed(k, v), context) for k, v in cookies.items()}
    )
    if refusal := _first_refused(findings):
        raise Refused(refusal["message"], findings)
    try:
        # After the rules, so that an injection attempt is named as such.
        policy.check(attributes)
    except httpbin.BadAttribute as error:
        raise Refused(str(error), findings) from None
    return attributes, findings


def _policy(request):
    """The planting policy for this request: this host, the lab's paths, a short life."""
    configured = getattr(settings, "COOKIE_LAB_API_DOMAIN", "").strip().lower().removeprefix(".")
    # Every API endpoint lives under /api/cookies: its parent is the API's prefix.
    api = posixpath.dirname(reverse("cookies_app:api-cookies"))
    return httpbin.Policy(
        domains=frozenset({rules.host_without_port(request.get_host()), configured} - {""}),
        paths=(reverse("cookies_app:lab"), api),
        default_path=api,
        max_age=int(getattr(settings, "COOKIE_LAB_API_MAX_AGE", DEFAULT_API_MAX_AGE)),
        now=request.visit.at,
    )


def _to_cookies(findings):
    """
    httpbin's 302 to /api/cookies. Its JSON body holds every finding (a client
    following the redirect never reads it; curl without -L prints it); the
    header holds a summary any proxy passes.
    """
    response = HttpResponseRedirect(
        reverse("cookies_app:api-cookies"),
        content=json.dumps({"findings": findings}, cls=InertJSONEncoder),
        content_type="application/json",
    )
    if findings:
        response[FINDINGS_HEADER] = findings_summary(findings)
    return response


def findings_summary(findings):
    """
    One entry per code, most severe first: severity, count and the first few
    cookies, as JSON of at most FINDINGS_HEADER_MAX bytes (cookie names go
    first, then the least severe codes; the body always has everything).
    """
    by_code = {}
    for finding in findings:
        entry = by_code.setdefault(
            finding["code"],
            {"code": finding["code"], "severity": finding["severity"], "count": 0, "cookies": []},
        )
        entry["count"] += 1
        if len(entry["cookies"]) < COOKIES_PER_CODE and finding["cookie"] not in entry["cookies"]:
            entry["cookies"].append(finding["cookie"])
    order = rules.SEVERITY_ORDER
    shown = []
    for entry in sorted(by_code.values(), key=lambda e: order.index(e["severity"])):
        for candidate in (entry, {**entry, "cookies": []}):
            if len(_compact([*shown, candidate])) <= FINDINGS_HEADER_MAX:
                shown.append(candidate)
                break
    return _compact(shown)


def _compact(data):
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def _findings(by_cookie):
    """Every finding but `info`, each naming its cookie."""
    return [
        {"cookie": name, **finding.as_dict()}
        for name, findings in by_cookie.items()
        for finding in findings
        if finding.severity != rules.Severity.INFO
    ]


def _first_refused(findings):
    return next((f for f in findings if f["severity"] == rules.Severity.REFUSED), None)


def _refusal(message, findings=()):
    return json_response({"error": message, "findings": list(findings)}, status=400)
