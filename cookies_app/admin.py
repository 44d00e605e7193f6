from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from .models import CookieEvent, IssuedCookie, ReceivedCookie

VALUE_PREVIEW = 60


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """A log is evidence: staff read it and may delete it, never write it."""

    date_hierarchy = "observed_at"
    search_fields = ["name", "value", "visitor_id"]
    ordering = ["-observed_at", "-id"]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a big log is slow

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="value")
    def value_preview(self, obj):
        if len(obj.value) <= VALUE_PREVIEW:
            return obj.value
        return f"{obj.value[:VALUE_PREVIEW]}…"

    @admin.display(description="visitor", ordering="visitor_id")
    def visitor(self, obj):
        url = reverse("admin:cookies_app_cookieevent_changelist")
        query = urlencode({"visitor_id": obj.visitor_id})
        return format_html(
            '<a href="{}?{}" title="Everything issued to and received from this visitor">{}</a>',
            url,
            query,
            obj.visitor_id[:8],
        )


@admin.register(CookieEvent)
class CookieEventAdmin(ReadOnlyLogAdmin):
    """The visitor timeline: issued and received cookies side by side."""

    list_display = [
        "observed_at",
        "visitor",
        "direction",
        "method",
        "path",
        "name",
        "value_preview",
        "header",
        "redacted",
    ]
    list_filter = ["direction", "observed_at", "method", "redacted", "truncated"]


@admin.register(ReceivedCookie)
class ReceivedCookieAdmin(ReadOnlyLogAdmin):
    list_display = [
        "observed_at",
        "visitor",
        "method",
        "path",
        "name",
        "value_preview",
        "size",
        "redacted",
        "truncated",
        "unlogged_in_request",
    ]
    list_filter = ["observed_at", "method", "redacted", "truncated"]


@admin.register(IssuedCookie)
class IssuedCookieAdmin(ReadOnlyLogAdmin):
    list_display = [
        "observed_at",
        "visitor",
        "method",
        "name",
        "value_preview",
        "header",
        "redacted",
    ]
    list_filter = [
        "observed_at",
        "method",
        "redacted",
        "secure",
        "httponly",
        "samesite",
        "partitioned",
    ]
    search_fields = [*ReadOnlyLogAdmin.search_fields, "header"]
