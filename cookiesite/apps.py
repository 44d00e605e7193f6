from django.contrib.admin.apps import AdminConfig


class CookieLabAdminConfig(AdminConfig):
    """django.contrib.admin, with the cookie log's dashboard as its index."""

    default_site = "cookies_app.admin_site.CookieLabAdminSite"
