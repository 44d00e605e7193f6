"""The admin site, whose index is the dashboard of the cookie log."""

from django.contrib import admin

from . import dashboard


class CookieLabAdminSite(admin.AdminSite):
    site_header = "Cookie Lab administration"
    site_title = "Cookie Lab admin"
    index_title = "The cookie log"
    index_template = "admin/cookies_app/dashboard.html"

    def index(self, request, extra_context=None):
        form = dashboard.RangeForm(request.GET or None, initial={"range": dashboard.DEFAULT_PRESET})
        valid = form.is_valid() if request.GET else True
        context = {**(extra_context or {}), "range_form": form}
        if valid:
            data = form.cleaned_data if request.GET else {"range": dashboard.DEFAULT_PRESET}
            context.update(dashboard.build(dashboard.chosen_period(data)))
        response = super().index(request, context)
        if not valid:
            # The form says what is wrong; the status says it too.
            response.status_code = 400
        return response
