import json

import pytest
from django.http import HttpResponse

from cookies_app.models import JarCookie


def signed_report(client, **params):
    response = client.get("/api/cookies/signed", params)
    assert response.status_code == 200
    return json.loads(response.content)["signed"]


def sign(name, value, salt=""):
    """A value exactly as Django's set_signed_cookie writes it."""
    response = HttpResponse()
    response.set_signed_cookie(name, value, salt=salt)
    return response.cookies[name].value


@pytest.mark.django_db
def test_lab_form_sets_a_signed_cookie(lab_client, lab_url):
    response = lab_client.post(
        lab_url, {"key": "token_like", "value": "42", "path": "/", "signed": "on", "salt": "s1"}
    )

    assert response.status_code == 303
    raw = response.cookies["token_like"].value
    assert raw.startswith("42:") and raw.count(":") == 2
    row = JarCookie.objects.get(name="token_like")
    assert (row.signed, row.salt) == (True, "s1")


@pytest.mark.django_db
def test_valid_signed_cookie_reports_its_value(client):
    client.cookies["flavor"] = sign("flavor", "chip")

    assert signed_report(client) == {"flavor": {"status": "valid", "value": "chip"}}


@pytest.mark.django_db
def test_tampered_signed_cookie_is_flagged(client):
    client.cookies["flavor"] = sign("flavor", "chip").replace("chip", "mint")

    assert signed_report(client) == {"flavor": {"status": "tampered"}}


@pytest.mark.django_db
def test_signed_report_honours_max_age(client, monkeypatch):
    import time

    client.cookies["flavor"] = sign("flavor", "chip")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)

    report = signed_report(client, max_age="60")

    assert report == {"flavor": {"status": "expired"}}


@pytest.mark.django_db
def test_signed_report_uses_the_salt_param(client):
    client.cookies["flavor"] = sign("flavor", "chip", salt="pepper")

    assert signed_report(client)["flavor"]["status"] == "tampered"
    assert signed_report(client, salt="pepper")["flavor"]["status"] == "valid"


@pytest.mark.django_db
def test_unsigned_cookies_are_not_listed(client):
    client.cookies["plain"] = "chip"

    assert signed_report(client) == {}


@pytest.mark.django_db
def test_bad_max_age_is_a_400(client):
    response = client.get("/api/cookies/signed", {"max_age": "soon"})

    assert response.status_code == 400
    assert "max_age must be a whole number" in json.loads(response.content)["error"]


@pytest.mark.django_db
def test_lab_shows_signature_status_with_the_issued_salt(lab_client, lab_url):
    lab_client.post(
        lab_url, {"key": "sig", "value": "42", "path": "/", "signed": "on", "salt": "s1"}
    )
    good = lab_client.get(lab_url)
    lab_client.cookies["sig"] = lab_client.cookies["sig"].value.replace("42:", "43:")
    bad = lab_client.get(lab_url)

    assert good.context["signed"] == {"sig": {"status": "valid", "value": "42"}}
    assert bad.context["signed"] == {"sig": {"status": "tampered"}}
    assert 'class="signature tampered"' in bad.content.decode()
