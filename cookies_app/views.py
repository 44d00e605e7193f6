from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from . import lab
from .decorators import logs_cookies
from .forms import DeleteCookieForm, SetCookieForm
from .setcookie import header_lines, set_cookie


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@require_http_methods(["GET", "POST"])
@logs_cookies
def lab_page(request):
    if request.method == "POST":
        form = SetCookieForm(request.POST, context=lab.rules_context(request))
        if form.is_valid():
            response = _back_to_lab(request)
            set_cookie(response, **form.set_cookie_kwargs())
            return response
        return _render_lab(request, set_form=form, status=400)
    return _render_lab(request)


@require_POST
@logs_cookies
def delete_cookie(request):
    form = DeleteCookieForm(request.POST, context=lab.rules_context(request))
    if form.is_valid():
        response = _back_to_lab(request)
        response.delete_cookie(**form.delete_cookie_kwargs())
        return response
    return _render_lab(request, delete_form=form, status=400)


def _back_to_lab(request):
    """303 to the lab, which then shows the Set-Cookie lines this response sent."""
    query = urlencode({"sent": request.cookie_log.request_id})
    return HttpResponseSeeOther(f"{reverse('cookies_app:lab')}?{query}")


def _render_lab(request, set_form=None, delete_form=None, status=200):
    response = HttpResponse(status=status)
    name, value = lab.DEFAULT_COOKIE
    # As in the Flask tutorial, a first visit gets username=root; a failed
    # POST sets nothing at all.
    if status == 200 and name not in request.COOKIES:
        set_cookie(response, name, value)
    context = {
        "set_form": set_form or SetCookieForm(),
        "delete_form": delete_form or DeleteCookieForm(),
        "received": lab.received_cookies(request),
        "reserved_names": sorted(lab.reserved_names()),
        "sent_headers": lab.sent_headers(request),
        "response_headers": header_lines(response),
    }
    response.content = render_to_string("cookies_app/lab.html", context, request)
    if status >= 400 and settings.CSRF_COOKIE_NAME in request.COOKIES:
        # {% csrf_token %} asks CsrfViewMiddleware to re-send the unchanged
        # cookie; a refused request should carry no Set-Cookie at all.
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return response
