"""
The cross-site matrix's pages: set the test cookies (lab site), make every kind
of request back (the other site's launch page), record what arrived (probe),
and show it beside the predictions (results).
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.http import urlencode
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from . import matrix, matrix_runs, rules
from .decorators import logs_cookies
from .http import HttpResponseSeeOther

NO_OTHER_SITE = (
    "The cross-site matrix needs two site names on one server: open the lab on "
    "http://localhost:PORT or http://127.0.0.1:PORT (the other is the other site)."
)


@require_http_methods(["GET", "HEAD", "POST"])
@logs_cookies
def matrix_page(request):
    if request.method == "POST":
        response = HttpResponseSeeOther(reverse("cookies_app:matrix"))
        run_id = matrix_runs.start(response)
        response["Location"] += "?" + urlencode({"run": run_id})
        return response
    context = {"cookies": _cookie_rows(), "other_site": _other_origin(request)}
    status = 200
    if "run" in request.GET:
        try:
            run = matrix_runs.parse(request.GET["run"])
        except matrix_runs.BadRun as error:
            context["error"], status = str(error), 400
        else:
            context["run_id"] = run.id
            context["launch_url"] = _url(context["other_site"], "launch", run.id)
    return render(request, "cookies_app/matrix.html", context, status=status)


@require_safe
def launch(request):
    """The other site's page: it makes each kind of request to the lab's probe."""
    lab = _other_origin(request)
    if lab is None:
        return _bad_request(NO_OTHER_SITE)
    try:
        run = matrix_runs.parse(request.GET.get("run"))
    except matrix_runs.BadRun as error:
        return _bad_request(str(error))
    recorded = matrix_runs.probes(run)
    urls = {kind: _probe_url(lab, kind, run.id) for kind in matrix.RequestKind}
    embedded = matrix.FIRST_STEP
    context = {
        "lab": lab,
        "probe_urls": {kind: urls[kind] for kind in embedded},
        "embedded": [(k, matrix.REQUEST_LABELS[k], k in recorded) for k in embedded],
        "post_url": urls[matrix.RequestKind.FORM_POST],
        "form_post_done": matrix.RequestKind.FORM_POST in recorded,
        "link_url": urls[matrix.RequestKind.LINK],
    }
    # This page alone may reach the lab origin (exactly it: scheme, host and
    # port) from images, fetch, frames and forms. csp_override takes a fixed
    # mapping and the origin carries this request's port: decorate per request.
    view = csp_override(_launch_policy(lab))(_render_launch)
    return view(request, context)


@csrf_exempt  # A cross-site form POST is the point; it only records cookie names.
@require_http_methods(["GET", "HEAD", "POST"])
def probe(request, kind):
    try:
        kind = matrix_runs.parse_kind(kind)
        run = matrix_runs.parse(request.GET.get("run"))
    except ValueError as error:
        return _bad_request(str(error))
    matrix_runs.record(run, kind, request)
    if kind == matrix.RequestKind.LINK:
        return HttpResponseSeeOther(_url("", "results", run.id))
    if kind == matrix.RequestKind.FORM_POST:
        other = _other_origin(request)
        return HttpResponseSeeOther(_url(other, "launch", run.id) + "#step-link")
    if kind in (matrix.RequestKind.IMAGE, matrix.RequestKind.FETCH):
        return HttpResponse(status=204)
    # The iframe's answer is refused framing (X-Frame-Options, frame-ancestors):
    # the request, cookies and all, has reached the server all the same.
    return render(request, "cookies_app/matrix_probe.html", {"kind": kind, "run_id": run.id})


@require_safe
def results(request):
    try:
        run = matrix_runs.parse(request.GET.get("run"))
    except matrix_runs.BadRun as error:
        return _bad_request(str(error))
    recorded = matrix_runs.probes(run)
    engine = rules.engine_of(request.headers.get("User-Agent", ""))
    rows = matrix_runs.table(
        run,
        recorded,
        scheme=request.scheme,
        host=request.get_host(),
        now=timezone.now(),
        engine=engine,
    )
    context = {
        "run_id": run.id,
        "rows": rows,
        "kinds": [
            (kind, matrix.REQUEST_LABELS[kind], recorded.get(kind)) for kind in matrix.RequestKind
        ],
        "missing": [matrix.REQUEST_LABELS[k] for k in matrix.RequestKind if k not in recorded],
        "launch_url": _url(_other_origin(request), "launch", run.id),
        # Who ran it: a tested engine, or another browser, compared with Chromium.
        "engine": engine.label if engine else f"{engine.label}, compared with Chromium",
    }
    return render(request, "cookies_app/matrix_results.html", context)


def _render_launch(request, context):
    return render(request, "cookies_app/matrix_launch.html", context)


def _launch_policy(lab):
    policy = dict(settings.SECURE_CSP)
    policy.update(
        {
            "img-src": [CSP.SELF, "data:", lab],
            "connect-src": [CSP.SELF, lab],
            "frame-src": [lab],
            "form-action": [CSP.SELF, lab],
        }
    )
    return policy


def _other_origin(request):
    """scheme://host:port of the other site, or None where there is none."""
    other = matrix.other_site(request.get_host())
    return f"{request.scheme}://{other}" if other else None


def _url(origin, name, run_id):
    return f"{origin or ''}{reverse(f'cookies_app:matrix-{name}')}?{urlencode({'run': run_id})}"


def _probe_url(origin, kind, run_id):
    path = reverse("cookies_app:matrix-probe", args=[kind])
    return f"{origin}{path}?{urlencode({'run': run_id})}"


def _cookie_rows():
    return [(cookie.name, matrix.attributes(cookie)) for cookie in matrix.TEST_COOKIES]


def _bad_request(message):
    return HttpResponseBadRequest(message + "\n", content_type="text/plain; charset=utf-8")
