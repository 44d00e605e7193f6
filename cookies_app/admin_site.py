"""The admin site, whose index is the dashboard of the cookie log."""

from django.contrib import admin

from . import dashboard
from .dashboard_range import DEFAULT_PRESET, RangeForm, chosen_period


class CookieLabAdminSite(admin.AdminSite):
    site_header = "Cookie Lab administration"
    site_title = "Cookie Lab admin"
    index_title = "The cookie log"
    index_template = "admin/cookies_app/dashboard.html"

    def index(self, request, extra_context=None):
        context = dict(extra_context or {})
        # The figures are the log's: staff who may not read the log see the app list only.
        if request.user.has_module_perms("cookies_app"):
            form = RangeForm(request.GET or None, initial={"range": DEFAULT_PRESET})
            context["range_form"] = form
            if not form.is_bound or form.is_valid():
                data = form.cleaned_data if form.is_bound else form.initial
                context.update(dashboard.build(chosen_period(data)))
        response = super().index(request, context)
        if "range_form" in context and "period" not in context:
            # The form says what is wrong; the status says it too.
            response.status_code = 400
        return response
