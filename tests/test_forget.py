"""Forget me: a browser deletes its own log and the cookies the lab issued to it."""

import pytest
from django.test import Client

from cookies_app.models import CookieChange, JarCookie, Request, Visitor
from tests.conftest import set_cookie_form

FORGET_URL = "/cookies/forget"


@pytest.fixture
def other_visitor(lab_url):
    other = Client()
    other.get(lab_url)
    return Visitor.objects.get(key=other.cookies["cookielab_visitor"].value)


@pytest.mark.django_db
def test_forget_deletes_this_browsers_log_only(lab_client, lab_url, other_visitor):
    lab_client.post(lab_url, set_cookie_form(path="/cookies/sub/"))
    lab_client.cookies["from_js"] = "1"
    lab_client.get(lab_url)
    mine = Visitor.objects.get(key=lab_client.cookies["cookielab_visitor"].value)

    response = lab_client.post(FORGET_URL)

    assert response.status_code == 200
    assert not Visitor.objects.filter(pk=mine.pk).exists()
    for model in (Request, JarCookie, CookieChange):
        assert not model.objects.filter(visitor_id=mine.pk).exists()
        assert model.objects.filter(visitor=other_visitor).exists()
    summary = response.content.decode()
    assert "3 requests" in summary


@pytest.mark.django_db
def test_forget_expires_what_the_lab_issued_where_it_issued_it(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(path="/cookies/sub/", samesite="Strict"))
    lab_client.cookies["from_js"] = "1"

    response = lab_client.post(FORGET_URL)

    flavor = response.cookies["flavor"]
    assert (flavor["max-age"], flavor["path"], flavor["samesite"]) == (0, "/cookies/sub/", "Strict")
    assert response.cookies["username"]["max-age"] == 0
    assert response.cookies["cookielab_visitor"]["max-age"] == 0
    assert "csrftoken" not in response.cookies
    assert "from_js" not in response.cookies
    assert response.context["kept"] == ["from_js"]


@pytest.mark.django_db
def test_forget_logs_nothing_of_its_own_request(lab_client):
    lab_client.post(FORGET_URL)

    assert not Request.objects.exists()
    assert not Visitor.objects.exists()


@pytest.mark.django_db
def test_forget_without_a_log_says_so(client):
    response = client.post(FORGET_URL)

    assert response.status_code == 200
    assert "had no log for this browser" in response.content.decode()


@pytest.mark.django_db
def test_forget_needs_post_and_a_csrf_token(lab_url):
    browser = Client(enforce_csrf_checks=True)
    browser.get(lab_url)

    assert browser.get(FORGET_URL).status_code == 405
    assert browser.post(FORGET_URL).status_code == 403
    assert Visitor.objects.exists()


@pytest.mark.django_db
def test_lab_page_offers_forget_me(lab_client, lab_url):
    content = lab_client.get(lab_url).content.decode()

    assert 'action="/cookies/forget"' in content
    assert "Forget me" in content
