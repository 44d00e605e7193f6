"""
An httpbin-compatible cookie API under /api, with attributes, findings, signed
cookies and export. Point an httpbin client at http://HOST/api.
"""

import json

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import export, httpbin, rules
from .decorators import logs_cookies
from .http import json_response
from .setcookie import expire_cookie, send_cookie
from .signed import statuses as signed_statuses
from .site_cookies import is_env_cookie

FINDINGS_HEADER = "X-Cookie-Lab-Findings"
TRUTHY = ("1", "true", "yes", "on")
# Browsers keep about 180 cookies per site; a request setting more is a flood.
MAX_COOKIES = 50
DELETE_ATTRIBUTES = ("path", "domain", "secure", "httponly", "samesite", "partitioned")


@require_safe
@logs_cookies
def cookies(request):
    show_env = request.GET.get("show_env", "").lower() in TRUTHY
    received = {
        name: value
        for name, value in request.COOKIES.items()
        if show_env or not is_env_cookie(name)
    }
    return json_response({"cookies": received})


@require_safe
@logs_cookies
def set_cookies(request, name=None, value=None):
    pairs, raw_attributes = httpbin.split_query(request.GET.items())
    if name is not None:
        # /set/<name>/<value> sets that one, plus any pairs in the query.
        pairs[name] = value
    if len(pairs) > MAX_COOKIES:
        return _refusal(f"At most {MAX_COOKIES} cookies per request; this one has {len(pairs)}.")
    try:
        attributes = httpbin.parse_attributes(raw_attributes, secure_default=request.is_secure())
    except httpbin.BadAttribute as error:
        return _refusal(str(error))
    context = request.visit.context
    findings = _findings(
        {k: rules.evaluate(attributes.proposed(k, v), context) for k, v in pairs.items()}
    )
    if refusal := _first_refused(findings):
        return _refusal(refusal["message"], findings)
    response = _to_cookies()
    for key, text in pairs.items():
        try:
            send_cookie(response, attributes.proposed(key, text))
        except ValueError as error:
            return _refusal(f"{key!r} cannot be sent: {error}", findings)
    return _with_findings(response, findings)


@require_safe
@logs_cookies
def delete_cookies(request):
    names, raw_attributes = httpbin.split_query(request.GET.items())
    if len(names) > MAX_COOKIES:
        return _refusal(f"At most {MAX_COOKIES} cookies per request; this one has {len(names)}.")
    try:
        attributes = httpbin.parse_attributes(
            raw_attributes, secure_default=request.is_secure(), allowed=DELETE_ATTRIBUTES
        )
    except httpbin.BadAttribute as error:
        return _refusal(str(error))
    context = request.visit.context
    findings = _findings(
        {k: rules.evaluate(attributes.proposed(k, "deleted"), context) for k in names}
    )
    if refusal := _first_refused(findings):
        return _refusal(refusal["message"], findings)
    response = _to_cookies()
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
    show_env = request.GET.get("show_env", "").lower() in TRUTHY
    body = export.render(format_name, export.known_cookies(request.visit, include_env=show_env))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _to_cookies():
    return HttpResponseRedirect(reverse("cookies_app:api-cookies"))


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


def _with_findings(response, findings):
    """Predicted drops travel with the response, as JSON in one header."""
    if findings:
        response[FINDINGS_HEADER] = json.dumps(findings, ensure_ascii=True)
    return response
