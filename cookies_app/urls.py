from django.urls import path

from . import views

app_name = "cookies_app"

urlpatterns = [
    path("cookies", views.lab_page, name="lab"),
    path("cookies/delete", views.delete_cookie, name="delete"),
    path("cookies/check", views.check_cookie, name="check"),
]
