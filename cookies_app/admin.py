from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from . import lab, streaming
from .decorators import valid_visitor_id
from .models import CookieEvent, Direction, IssuedCookie, ReceivedCookie

VALUE_PREVIEW = 60
EXPORT_FIELDS = [
    "id",
    "observed_at",
    "direction",
    "visitor_id",
    "request_id",
    "method",
    "path",
    "user_agent",
    "name",
    "value",
    "size",
    "redacted",
    "truncated",
    "unlogged_in_request",
    "max_age",
    "expires",
    "cookie_path",
    "domain",
    "secure",
    "httponly",
    "samesite",
    "partitioned",
    "signed",
    "header",
]
EXPORT_FORMATS = {
    "csv": (streaming.csv_lines, "text/csv; charset=utf-8"),
    "json": (streaming.json_array, "application/json"),
}
EXPORT_CHUNK = 2000


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """A log is evidence: staff read it and may delete it, never write it."""

    date_hierarchy = "observed_at"
    search_fields = ["name", "value", "visitor_id"]
    ordering = ["-observed_at", "-id"]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a big log is slow

    change_list_template = "admin/cookies_app/log_change_list.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        export = path(
            "export/<str:format_name>/", self.admin_site.admin_view(self.export_view), name=name
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
        extra_context = {
            **(extra_context or {}),
            "export_urls": {f: reverse(name, args=[f]) for f in EXPORT_FORMATS},
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request, format_name):
        """The current (filtered, searched) changelist, streamed as CSV or JSON."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if format_name not in EXPORT_FORMATS:
            return HttpResponseBadRequest(
                f"Export format must be csv or json, not {format_name!r}."
            )
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("The filters in the URL are not valid for this log.")
        # values_list + iterator: rows stream from the cursor a chunk at a time.
        rows = queryset.values_list(*EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK)
        lines, content_type = EXPORT_FORMATS[format_name]
        response = StreamingHttpResponse(lines(EXPORT_FIELDS, rows), content_type=content_type)
        filename = f"{self.opts.model_name}-log.{format_name}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

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
        "arrow",
        "method",
        "path",
        "name",
        "value_preview",
        "redacted",
    ]
    list_filter = ["direction", "observed_at", "method", "redacted", "truncated"]

    @admin.display(description="direction", ordering="direction")
    def arrow(self, obj):
        return "→ issued" if obj.direction == Direction.ISSUED else "← received"

    def changelist_view(self, request, extra_context=None):
        """Filtered to one visitor, the timeline opens with the round-trip verdicts."""
        visitor = valid_visitor_id(request.GET.get("visitor_id", ""))
        if visitor:
            extra_context = {
                **(extra_context or {}),
                "visitor": visitor,
                "round_trip": lab.visitor_round_trip(visitor),
            }
        return super().changelist_view(request, extra_context)


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
