from http.cookies import CookieError

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import history, limits, retention, rules, signed, verdicts
from .attributes import ATTRIBUTES, help_html
from .cookie_log import received_stored
from .decorators import logs_cookies, with_visit
from .forms import DeleteCookieForm, SetCookieForm, blank_form_html
from .http import HttpResponseSeeOther, json_response
from .jar import forgettable_cookies
from .page_cache import PAGES, page_key, with_jar_read
from .rules import Source
from .setcookie import delete_cookie as delete_cookie_header
from .setcookie import expire_cookie, header_lines, send_cookie, set_cookie
from .site_cookies import is_env_cookie, reserved_names
from .text import byte_size

# As in the Flask tutorial, a first visit gets username=root.
DEFAULT_COOKIE = ("username", "root")


@require_http_methods(["GET", "HEAD", "POST"])
@logs_cookies
def lab_page(request):
    if request.method == "POST":
        form = SetCookieForm(request.POST, context=request.visit.context)
        if form.is_valid():
            response = _back_to_lab(request, request.path)
            try:
                data = form.cleaned_data
                send_cookie(response, form.cookie, signed=data["signed"], salt=data["salt"])
            except (CookieError, ValueError) as error:
                form.add_error(None, f"This cookie cannot be sent: {error}")
            else:
                return response
        return _render_lab(request, set_form=form, status=400)
    return _render_lab(request)


@require_POST
@logs_cookies
def delete_cookie(request):
    form = DeleteCookieForm(request.POST, context=request.visit.context)
    if form.is_valid():
        response = _back_to_lab(request, _lab_path(request.POST.get("back")))
        try:
            delete_cookie_header(response, **form.delete_cookie_kwargs())
        except (CookieError, ValueError) as error:
            form.add_error(None, f"This cookie cannot be deleted: {error}")
        else:
            return response
    return _render_lab(request, delete_form=form, status=400)


@require_POST
@with_visit
def forget_me(request):
    """Delete this browser's log and expire what the lab issued to it; nothing is logged."""
    visit = request.visit
    issued = forgettable_cookies(visit.visitor) if visit.visitor else []
    removed = retention.forget(visit.visitor) if visit.visitor else None
    response = HttpResponse()
    for cookie in issued:
        expire_cookie(
            response,
            cookie.name,
            path=cookie.path,
            domain=cookie.domain or None,
            secure=cookie.secure,
            samesite=cookie.samesite or None,
            partitioned=cookie.partitioned,
        )
    response.delete_cookie(settings.COOKIE_LAB_VISITOR_COOKIE)
    expired = {c.name for c in issued}
    context = {
        "removed": removed,
        "expired": sorted(expired),
        "kept": sorted(n for n in visit.received if n not in expired and not is_env_cookie(n)),
    }
    response.content = render_to_string("cookies_app/forgotten.html", context, request)
    return response


@require_safe
@with_visit
def check_cookie(request):
    """The rules module's findings for a proposed cookie, for the live form."""
    source = request.GET.get("source", Source.SERVER)
    if source not in Source:
        return json_response({"error": "source must be 'server' or 'script'."}, status=400)
    form = SetCookieForm(request.GET, context=request.visit.context, source=source)
    return json_response(_check_result(form))


def _lab_path(path):
    """One of the lab's own pages, whatever a form claims."""
    pages = {reverse("cookies_app:lab"), reverse("cookies_app:lab-sub")}
    return path if path in pages else reverse("cookies_app:lab")


def _back_to_lab(request, path):
    """303 to a lab page, which then shows the Set-Cookie lines this response sent."""
    query = urlencode({"sent": request.visit.seq})
    # Anchored to the result: the line sent and its verdict, beside the forms.
    return HttpResponseSeeOther(f"{path}?{query}#result")


def _render_lab(request, set_form=None, delete_form=None, status=200):
    response = HttpResponse(status=status)
    name, value = DEFAULT_COOKIE
    # A failed POST sets nothing at all.
    first_visit = status == 200 and name not in request.COOKIES
    if first_visit:
        set_cookie(response, name, value)
    # Fresh for every response, cached page or not: the CSP nonce and one
    # masked CSRF token for every form on the page (a dozen with a full jar:
    # masking one costs 32 reads of os.urandom).
    nonce = get_nonce(request)
    secrets = (get_token(request), *([str(nonce)] if nonce is not None else []))
    # A reload that changes nothing: no form, no ?sent=N, nothing set.
    reload = status == 200 and not first_visit and not request.GET
    key = page_key(request.visit) if reload else None
    html = PAGES.get(key, request.visit.at, secrets) if key else None
    if html is None:
        forms = (set_form, delete_form)
        context = _lab_context(request, forms, response, secrets[0], first_visit)
        html = render_to_string("cookies_app/lab.html", context, request)
        if key:
            # Kept under the version it was rendered from: the row read meanwhile
            # may be newer than the one PostgreSQL had told of (jar_versions).
            key = with_jar_read(key, request.visit)
            PAGES.put(key, html, secrets, until=verdicts.next_change(request.visit))
    response.content = html
    if status >= 400 and settings.CSRF_COOKIE_NAME in request.COOKIES:
        # {% csrf_token %} asks CsrfViewMiddleware to re-send the unchanged
        # cookie; a refused request should carry no Set-Cookie at all.
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return response


def _lab_context(request, forms, response, csrf_token, first_visit):
    set_form, delete_form = forms
    visit = request.visit
    received, left_out = limits.shown(visit.received)
    sent = history.sent_lines(visit, request.GET.get("sent"))
    round_trip = verdicts.round_trip(visit, received_stored(visit.received))
    sent_names = {line["name"] for line in sent or ()}
    rows = _received_rows(received, visit)
    return {
        # The bound form (with its errors) after a refused POST, else None.
        "set_form": set_form,
        "delete_form": delete_form,
        "set_form_html": set_form.as_div() if set_form else blank_form_html(SetCookieForm),
        "delete_form_html": (
            delete_form.as_div() if delete_form else blank_form_html(DeleteCookieForm)
        ),
        "error_summary": _error_summary(set_form) + _error_summary(delete_form),
        "first_visit": first_visit,
        "default_cookie": "=".join(DEFAULT_COOKIE),
        "received": rows,
        # Where each issued cookie lives, for the JavaScript panel's Delete.
        "cookie_scopes": {
            r["name"]: {"path": r["delete_path"], "domain": r["delete_domain"]}
            for r in rows
            if r["issued"]
        },
        "received_left_out": left_out,
        "reserved_names": sorted(reserved_names()),
        "sent": sent,
        "sent_verdicts": [v for v in round_trip if v.name in sent_names],
        "response_headers": header_lines(response),
        "check_url": reverse("cookies_app:check"),
        # Reversed once, not once a cookie row.
        "urls": {name: reverse(f"cookies_app:{name}") for name in ("delete", "forget", "matrix")},
        "signed": signed.statuses(visit),
        "round_trip": round_trip,
        "lab_pages": [reverse("cookies_app:lab"), reverse("cookies_app:lab-sub")],
        "export_url": reverse("cookies_app:api-export"),
        "retention_days": settings.COOKIE_LAB_LOG_RETENTION_DAYS,
        "attribute_help": {key: help_html(key) for key in ATTRIBUTES},
        "csrf_field": format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token
        ),
    }


def _error_summary(form):
    """(field id, label, message) of each error, for the summary at the top."""
    if form is None or not form.errors:
        return []
    summary = []
    for name, messages in form.errors.items():
        field = form.fields.get(name)
        target = form[name].id_for_label if field else ""
        label = field.label if field else "cookie"
        summary += [(target, label, message) for message in messages]
    return summary


def _received_rows(cookies, visit):
    """
    request.COOKIES as table rows, in the order the browser sent them, each
    with the attributes it was issued with, as DevTools shows them (unknown for
    a cookie the lab never issued: set by JavaScript or another site).
    """
    reserved = {name.lower() for name in reserved_names()}
    rows = []
    for name, value in cookies.items():
        issued = visit.issued_row(name)
        rows.append(
            {
                "name": name,
                "value": value,
                "size": byte_size(name) + byte_size(value),
                "reserved": name.lower() in reserved,
                "issued": issued,
                # Delete what is there: the Path and Domain it was issued with.
                "delete_path": issued.path if issued else "/",
                "delete_domain": issued.domain if issued else "",
            }
        )
    return rows


def _check_result(form):
    """The JSON answer of the live check: the same rules the form applies."""
    valid = form.is_valid()
    findings = form.findings
    return {
        "source": str(form.source),
        "verdict": rules.worst(findings),
        "blocked": not valid,
        "findings": [f.as_dict() for f in findings],
        "errors": {field: list(messages) for field, messages in form.errors.items()},
    }
