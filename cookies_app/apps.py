from django.apps import AppConfig


class CookiesAppConfig(AppConfig):
    name = "cookies_app"
    verbose_name = "Cookie Lab"
