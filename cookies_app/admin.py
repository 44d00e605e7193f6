"""
The log in the admin: the jars (Cookies), the Requests, every Set-Cookie
issued, and a page per visitor with its jar, verdicts and timeline.

Every list is read-only and answers in bounded time at millions of requests:
no full COUNT(*) on the big tables, searches that use indexes, and related
rows fetched once per page.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from . import rollup, streaming, verdicts
from .middleware import is_query_error
from .models import (
    SET_COOKIE_KINDS,
    CookieChange,
    JarCookie,
    Panel,
    Request,
    SetCookieLine,
    Tally,
    UserAgent,
    Visitor,
)
from .paginator import EstimatedCountPaginator
from .site_cookies import reserved_names

VALUE_PREVIEW = 60
EXPORT_FORMATS = {
    "csv": (streaming.csv_lines, "text/csv; charset=utf-8"),
    "json": (streaming.json_array, "application/json"),
}
EXPORT_CHUNK = 2000
UNSAFE_LOOKUPS = {"regex", "iregex"}
TIMELINE_LENGTH = 200
SHORT_TIME = "%Y-%m-%d %H:%M"
JAR_LENGTH = 200


def preview(text):
    return text if len(text) <= VALUE_PREVIEW else f"{text[:VALUE_PREVIEW]}…"


def visitor_link(visitor):
    url = reverse("admin:cookies_app_visitor_change", args=[visitor.pk])
    return format_html(
        '<a href="{}" title="This browser\'s jar and timeline">{}</a>', url, visitor.key[:8]
    )


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """A log is evidence: staff read it and may delete it, never write it."""

    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a big log is slow
    paginator = EstimatedCountPaginator
    change_list_template = "admin/cookies_app/log_change_list.html"
    # (column name, ORM path) for the CSV/JSON export.
    export_fields = ()

    class Media:
        css = {"all": ["cookies_app/admin.css"]}

    def lookup_allowed(self, lookup, value, request=None):
        # A regex from the URL would reach the database as is: an invalid one
        # is an error there, and a crafted one a slow scan. Django answers a
        # refused lookup with 400.
        if lookup.split(LOOKUP_SEP)[-1] in UNSAFE_LOOKUPS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        export = path(
            "export/<str:format_name>/", self.admin_site.admin_view(self.export_view), name=name
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if self.export_fields:
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
        if format_name not in EXPORT_FORMATS or not self.export_fields:
            return HttpResponseBadRequest(
                "Export format must be csv or json.", content_type="text/plain"
            )
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                "The filters in the URL are not valid for this log.", content_type="text/plain"
            )
        names = [name for name, _ in self.export_fields]
        lookups = [lookup for _, lookup in self.export_fields]
        try:
            # A filter the database refuses is a 400 now, not an error in the
            # middle of a download.
            queryset.exists()
        except Exception as error:
            if not is_query_error(error):
                raise
            return HttpResponseBadRequest(
                "The filters in the URL are not valid for this log.", content_type="text/plain"
            )
        # values_list + iterator: rows stream from the cursor a chunk at a time.
        rows = queryset.values_list(*lookups).iterator(chunk_size=EXPORT_CHUNK)
        lines, content_type = EXPORT_FORMATS[format_name]
        response = StreamingHttpResponse(lines(names, rows), content_type=content_type)
        filename = f"{self.opts.model_name}-log.{format_name}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def has_add_permission(self, request):
        return False

    @admin.display(description="visitor", ordering="visitor__key")
    def visitor_key(self, obj):
        return visitor_link(obj.visitor)

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class IssuedFilter(admin.SimpleListFilter):
    title = "issued by the lab"
    parameter_name = "issued"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No: set by JavaScript or another site")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(issued_at__isnull=self.value() == "no")
        return queryset


@admin.register(JarCookie)
class JarCookieAdmin(ReadOnlyLogAdmin):
    """The jars: one row per cookie a visitor holds or held."""

    list_display = [
        "name",
        "visitor_key",
        "scope",
        "value_preview",
        "flags",
        "seen",
        "verdict",
    ]
    list_filter = [
        "present",
        IssuedFilter,
        "secure",
        "httponly",
        "samesite",
        "partitioned",
        "signed",
        "redacted",
    ]
    search_fields = ["name", "value"]
    list_select_related = ["visitor", "visitor__latest_request"]
    ordering = ["-id"]
    export_fields = [
        ("id", "id"),
        ("visitor", "visitor__key"),
        ("name", "name"),
        ("domain", "domain"),
        ("path", "path"),
        ("value", "value"),
        ("size", "size"),
        ("redacted", "redacted"),
        ("first_seen", "first_seen"),
        ("present", "present"),
        ("issued_at", "issued_at"),
        ("max_age", "max_age"),
        ("expires", "expires"),
        ("secure", "secure"),
        ("httponly", "httponly"),
        ("samesite", "samesite"),
        ("partitioned", "partitioned"),
        ("signed", "signed"),
        ("header", "header"),
    ]

    @admin.display(description="domain / path")
    def scope(self, obj):
        if not obj.path:
            return format_html(
                '<span title="{}">unknown</span>', "Set by JavaScript or another site"
            )
        return f"{obj.domain or '(host-only)'} {obj.path}"

    @admin.display(description="latest value")
    def value_preview(self, obj):
        return preview(obj.value or obj.issued_value)

    @admin.display(description="attributes")
    def flags(self, obj):
        if obj.issued_at is None:
            return "never issued"
        parts = [
            label
            for label, on in (
                ("Secure", obj.secure),
                ("HttpOnly", obj.httponly),
                ("Partitioned", obj.partitioned),
                ("signed", obj.signed),
            )
            if on
        ]
        if obj.samesite:
            parts.append(f"SameSite={obj.samesite}")
        if obj.max_age is not None:
            parts.append(f"Max-Age={obj.max_age}")
        elif obj.expires:
            parts.append("Expires")
        return ", ".join(parts) or "(none)"

    @admin.display(description="seen")
    def seen(self, obj):
        if obj.first_seen is None:
            return "never came back"
        last = timezone.localtime(obj.seen_last).strftime(SHORT_TIME)
        return f"{obj.times_seen}×, last {last}"

    @admin.display(description="verdict")
    def verdict(self, obj):
        if obj.issued_at is None:
            return "—"
        [found] = verdicts.visitor_round_trip(obj.visitor, [obj]) or [None]
        return found.status if found else "—"


class FixedChoicesFilter(admin.SimpleListFilter):
    """A filter whose choices are known in advance, so rendering it reads nothing."""

    options = ()

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in dict(self.options):
            raise IncorrectLookupParameters(f"Unknown {self.parameter_name}: {value!r}")
        return queryset.filter(**self.lookup(value))


class MethodFilter(FixedChoicesFilter):
    title = "method"
    parameter_name = "method"
    options = [(m, m) for m in ("GET", "HEAD", "POST")]

    def lookup(self, value):
        return {"method": value}


class StatusFilter(FixedChoicesFilter):
    title = "status"
    parameter_name = "status"
    options = [("2", "2xx"), ("3", "3xx"), ("4", "4xx"), ("5", "5xx")]

    def lookup(self, value):
        low = int(value) * 100
        return {"status__gte": low, "status__lt": low + 100}


class FetchSiteFilter(FixedChoicesFilter):
    title = "Sec-Fetch-Site"
    parameter_name = "fetch_site"
    # As the dashboard labels them; "-" stands for the header's absence.
    options = [(value or "-", label) for value, label in rollup.FETCH_SITE_LABELS.items()]

    def queryset(self, request, queryset):
        if self.value() == rollup.OTHER_FETCH_SITE:
            return queryset.exclude(fetch_site__in=[*rollup.STANDARD_FETCH_SITES, ""])
        return super().queryset(request, queryset)

    def lookup(self, value):
        return {"fetch_site": "" if value == "-" else value}


class TallyLabelsFilter(admin.SimpleListFilter):
    """
    A filter whose choices are the labels the dashboard counted for ``panel``:
    a label per day, not a row per request (or per User-Agent, which a client
    may vary at will).
    """

    panel = None

    def lookups(self, request, model_admin):
        labels = Tally.objects.filter(panel=self.panel).values_list("label", flat=True)
        return [(label, label) for label in labels.order_by("label").distinct()]


class BrowserFilter(TallyLabelsFilter):
    """Requests by browser family, as the dashboard counts them."""

    title = "browser"
    parameter_name = "browser"
    panel = Panel.BROWSER

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(user_agent__in=UserAgent.objects.filter(family=self.value()))


class LineKindFilter(FixedChoicesFilter):
    """The kinds a Set-Cookie line has: the field's own filter would offer every change kind."""

    title = "kind"
    parameter_name = "kind"
    options = [(k.value, k.label) for k in SET_COOKIE_KINDS]

    def lookup(self, value):
        return {"kind": value}


class SameSiteFilter(FixedChoicesFilter):
    title = "SameSite"
    parameter_name = "same_site"
    options = [(s, s) for s in rollup.SAMESITE_LABELS]

    def lookup(self, value):
        return {"samesite": "" if value == "unset" else value}


class PrefixFilter(FixedChoicesFilter):
    """Name prefixes as browsers match them: case-insensitively, the longest first."""

    title = "name prefix"
    parameter_name = "prefix"
    options = [(p, p) for p in (*rollup.PREFIXES, rollup.NO_PREFIX)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in dict(self.options):
            raise IncorrectLookupParameters(f"Unknown prefix: {value!r}")
        # A name matches the first of PREFIXES it starts with. Matched in the
        # jars first: a rare prefix then costs a look-up, not a walk of every line.
        earlier = Q()
        for prefix in rollup.PREFIXES:
            if prefix == value:
                names = JarCookie.objects.filter(name__istartswith=prefix).exclude(earlier)
                return queryset.filter(cookie__in=names.values("id"))
            earlier |= Q(name__istartswith=prefix)
        return queryset.filter(cookie__in=JarCookie.objects.exclude(earlier).values("id"))


class LifetimeFilter(FixedChoicesFilter):
    title = "lifetime"
    parameter_name = "lifetime_bucket"
    options = [(label, label) for label in rollup.LIFETIME_LABELS]

    def lookup(self, value):
        return rollup.lifetime_lookup(value)


class DropFilter(TallyLabelsFilter):
    """Lines by a rule code that predicts a drop (one of their space-separated codes)."""

    title = "predicted drop"
    parameter_name = "drop"
    panel = Panel.DROP

    def queryset(self, request, queryset):
        code = self.value()
        if code is None:
            return queryset
        if not code or " " in code:
            raise IncorrectLookupParameters("A drop code is one word, such as SecureRequired.")
        return queryset.filter(
            Q(drops=code)
            | Q(drops__startswith=f"{code} ")
            | Q(drops__endswith=f" {code}")
            | Q(drops__contains=f" {code} ")
        )


class RoundTripFilter(FixedChoicesFilter):
    title = "round trip"
    parameter_name = "round_trip"
    options = [(s.value, s.value) for s in verdicts.Status] + [("-", "not judged yet")]

    def lookup(self, value):
        return {"verdict": "" if value == "-" else value}


class RequestChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # The names each request carried, for the whole page in one query.
        ids = {i for r in self.result_list for i in r.carried_ids}
        names = dict(JarCookie.objects.filter(id__in=ids).values_list("id", "name"))
        for r in self.result_list:
            r.carried_names = [names.get(i, "(pruned)") for i in r.carried_ids]


@admin.register(Request)
class RequestAdmin(ReadOnlyLogAdmin):
    """One row per logged request, with the cookies it carried."""

    list_display = [
        "at",
        "visitor_key",
        "method",
        "host",
        "path",
        "status",
        "fetch_site",
        "cookies",
    ]
    # Fixed choices: a field's own filter would list its values with a
    # DISTINCT over every request.
    list_filter = [MethodFilter, StatusFilter, FetchSiteFilter, BrowserFilter]
    search_fields = ["visitor__key"]
    search_help_text = "A visitor id (the cookielab_visitor value)."
    date_hierarchy = "at"
    list_select_related = ["visitor"]
    ordering = ["-at", "-id"]
    export_fields = [
        ("id", "id"),
        ("at", "at"),
        ("visitor", "visitor__key"),
        ("seq", "seq"),
        ("method", "method"),
        ("host", "host"),
        ("path", "path"),
        ("status", "status"),
        ("fetch_site", "fetch_site"),
        ("user_agent", "user_agent__text"),
        ("cookie_count", "cookie_count"),
        ("carried", "carried"),
    ]

    def get_changelist(self, request, **kwargs):
        return RequestChangeList

    def get_search_results(self, request, queryset, search_term):
        """By exact visitor id: an index lookup, where a LIKE would read every request."""
        if not search_term:
            return queryset, False
        return queryset.filter(visitor__key=search_term.strip().lower()), False

    @admin.display(description="cookies carried")
    def cookies(self, obj):
        names = getattr(obj, "carried_names", None)
        if names is None:
            names = [c.name for c in JarCookie.objects.filter(id__in=obj.carried_ids)]
        extra = obj.cookie_count - len(names)
        shown = ", ".join(names)
        return f"{shown} (+{extra} not logged)" if extra > 0 else shown or "—"


@admin.register(SetCookieLine)
class SetCookieLineAdmin(ReadOnlyLogAdmin):
    """Every Set-Cookie the lab sent."""

    list_display = ["at", "visitor_key", "cookie_name", "kind", "line", "verdict", "drops"]
    list_filter = [
        LineKindFilter,
        RoundTripFilter,
        DropFilter,
        "secure",
        "httponly",
        SameSiteFilter,
        "partitioned",
        "signed",
        PrefixFilter,
        LifetimeFilter,
    ]
    search_fields = ["cookie__name"]
    date_hierarchy = "at"
    list_select_related = ["cookie", "visitor"]
    ordering = ["-at", "-id"]
    export_fields = [
        ("id", "id"),
        ("at", "at"),
        ("visitor", "visitor__key"),
        ("name", "cookie__name"),
        ("kind", "kind"),
        ("value", "value"),
        ("max_age", "max_age"),
        ("expires", "expires"),
        ("domain", "cookie__domain"),
        ("path", "cookie__path"),
        ("secure", "secure"),
        ("httponly", "httponly"),
        ("samesite", "samesite"),
        ("partitioned", "partitioned"),
        ("signed", "signed"),
        ("header", "header"),
        ("lifetime", "lifetime"),
        ("predicted_drops", "drops"),
        ("round_trip", "verdict"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).set_cookie_lines()

    def get_search_results(self, request, queryset, search_term):
        """By cookie name or value: the jar's names first, then their lines (both indexed)."""
        if not search_term:
            return queryset, False
        cookies = JarCookie.objects.filter(name=search_term).values("id")
        return queryset.filter(cookie__in=cookies), False

    @admin.display(description="name", ordering="cookie__name")
    def cookie_name(self, obj):
        return obj.cookie.name

    @admin.display(description="Set-Cookie")
    def line(self, obj):
        return format_html('<code class="set-cookie">{}</code>', obj.header)


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyLogAdmin):
    """Browsers; each one's page shows its jar, verdicts and timeline."""

    list_display = ["key", "first_seen", "last_seen", "requests"]
    search_fields = ["key"]
    search_help_text = "A visitor id (the cookielab_visitor value)."

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return queryset.filter(key=search_term.strip().lower()), False

    ordering = ["-id"]
    change_form_template = "admin/cookies_app/visitor_change_form.html"
    # The write path's bookkeeping (round-trip verdicts, the unchanged-request
    # fingerprint, the jar cache's version): nothing to read here.
    bookkeeping = ("awaiting_request", "awaiting_since", "jar_digest", "carried", "jar_version")

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f not in self.bookkeeping]

    def get_exclude(self, request, obj=None):
        return self.bookkeeping

    def change_view(self, request, object_id, form_url="", extra_context=None):
        visitor = self.get_object(request, object_id)
        if visitor is not None:
            extra_context = {**(extra_context or {}), **visitor_page(visitor)}
        return super().change_view(request, object_id, form_url, extra_context)


def visitor_page(visitor):
    """The jar, the verdicts as of the latest request and the latest changes."""
    jar = list(
        JarCookie.objects.filter(visitor=visitor).order_by("-issued_at", "name")[:JAR_LENGTH]
    )
    for cookie in jar:
        cookie.visitor = visitor
    reserved = reserved_names()
    issued = [c for c in jar if c.issued_at is not None and c.name not in reserved]
    timeline = (
        CookieChange.objects.filter(visitor=visitor)
        .select_related("cookie", "request")
        .order_by("-at", "-id")[:TIMELINE_LENGTH]
    )
    return {
        "jar": jar,
        "round_trip": verdicts.visitor_round_trip(visitor, issued),
        "timeline": timeline,
        "requests_url": reverse("admin:cookies_app_request_changelist")
        + "?"
        + urlencode({"visitor__id__exact": visitor.pk}),
    }
