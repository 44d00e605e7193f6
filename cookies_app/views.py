from http.cookies import CookieError

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import lab
from .decorators import logs_cookies
from .forms import DeleteCookieForm, SetCookieForm, blank_form_html
from .rules import Source
from .setcookie import delete_cookie as delete_cookie_header
from .setcookie import header_lines, set_cookie

# Cookie text in JSON cannot close a <script> or open a tag, wherever it lands.
JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


class InertJSONEncoder(DjangoJSONEncoder):
    def encode(self, o):
        return super().encode(o).translate(JSON_ESCAPES)


@require_http_methods(["GET", "HEAD", "POST"])
@logs_cookies
def lab_page(request):
    if request.method == "POST":
        form = SetCookieForm(request.POST, context=lab.rules_context(request))
        if form.is_valid():
            response = _back_to_lab(request, request.path)
            try:
                set_cookie(response, **form.set_cookie_kwargs())
            except (CookieError, ValueError) as error:
                form.add_error(None, f"This cookie cannot be sent: {error}")
            else:
                return response
        return _render_lab(request, set_form=form, status=400)
    return _render_lab(request)


@require_POST
@logs_cookies
def delete_cookie(request):
    form = DeleteCookieForm(request.POST, context=lab.rules_context(request))
    if form.is_valid():
        response = _back_to_lab(request, _lab_path(request.POST.get("back")))
        try:
            delete_cookie_header(response, **form.delete_cookie_kwargs())
        except (CookieError, ValueError) as error:
            form.add_error(None, f"This cookie cannot be deleted: {error}")
        else:
            return response
    return _render_lab(request, delete_form=form, status=400)


@require_safe
def check_cookie(request):
    """The rules module's findings for a proposed cookie, for the live form."""
    source = request.GET.get("source", Source.SERVER)
    if source not in Source:
        return json_response({"error": "source must be 'server' or 'script'."}, status=400)
    form = SetCookieForm(request.GET, context=lab.rules_context(request), source=source)
    return json_response(lab.check_result(form))


def json_response(data, status=200):
    return JsonResponse(data, status=status, encoder=InertJSONEncoder)


def _lab_path(path):
    """One of the lab's own pages, whatever a form claims."""
    pages = {reverse("cookies_app:lab"), reverse("cookies_app:lab-sub")}
    return path if path in pages else reverse("cookies_app:lab")


def _back_to_lab(request, path):
    """303 to a lab page, which then shows the Set-Cookie lines this response sent."""
    query = urlencode({"sent": request.cookie_log.request_id})
    return HttpResponseSeeOther(f"{path}?{query}")


def _render_lab(request, set_form=None, delete_form=None, status=200):
    response = HttpResponse(status=status)
    name, value = lab.DEFAULT_COOKIE
    # As in the Flask tutorial, a first visit gets username=root; a failed
    # POST sets nothing at all.
    if status == 200 and name not in request.COOKIES:
        set_cookie(response, name, value)
    rules_context = lab.rules_context(request)
    context = {
        # The bound form (with its errors) after a refused POST, else None.
        "set_form": set_form,
        "delete_form": delete_form,
        "set_form_html": set_form.as_div() if set_form else blank_form_html(SetCookieForm),
        "delete_form_html": (
            delete_form.as_div() if delete_form else blank_form_html(DeleteCookieForm)
        ),
        "received": lab.received_cookies(request),
        "reserved_names": sorted(lab.reserved_names()),
        "sent": lab.sent_cookies(request, rules_context),
        "response_headers": header_lines(response),
        "check_url": reverse("cookies_app:check"),
        "signed": lab.signed_cookie_statuses(request),
        "round_trip": lab.round_trip(request, rules_context),
        "lab_pages": [reverse("cookies_app:lab"), reverse("cookies_app:lab-sub")],
        "export_url": reverse("cookies_app:api-export"),
    }
    response.content = render_to_string("cookies_app/lab.html", context, request)
    if status >= 400 and settings.CSRF_COOKIE_NAME in request.COOKIES:
        # {% csrf_token %} asks CsrfViewMiddleware to re-send the unchanged
        # cookie; a refused request should carry no Set-Cookie at all.
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return response
