from django.urls import path

from . import api, matrix_views, views

app_name = "cookies_app"

urlpatterns = [
    path("cookies", views.lab_page, name="lab"),
    # The same lab one level down, to try Path scoping.
    path("cookies/sub/", views.lab_page, name="lab-sub"),
    path("cookies/delete", views.delete_cookie, name="delete"),
    path("cookies/check", views.check_cookie, name="check"),
    path("cookies/forget", views.forget_me, name="forget"),
    # The cross-site matrix: set on the lab site, launched from the other one.
    path("cookies/matrix", matrix_views.matrix_page, name="matrix"),
    path("cookies/matrix/launch", matrix_views.launch, name="matrix-launch"),
    path("cookies/matrix/probe/<str:kind>", matrix_views.probe, name="matrix-probe"),
    path("cookies/matrix/results", matrix_views.results, name="matrix-results"),
    # httpbin-compatible: point an httpbin client at http://HOST/api.
    path("api/cookies", api.cookies, name="api-cookies"),
    path("api/cookies/set", api.set_cookies, name="api-set"),
    path("api/cookies/set/<str:name>/<str:value>", api.set_cookies, name="api-set-one"),
    path("api/cookies/delete", api.delete_cookies, name="api-delete"),
    path("api/cookies/signed", api.signed, name="api-signed"),
    path("api/cookies/export", api.export_cookies, name="api-export"),
]
