"""Hostile cookie text is inert everywhere it appears."""

import json
import re

import pytest
from django.urls import reverse

from cookies_app.models import JarCookie, Visitor

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "</script><script>alert(1)</script>",
    "x' onmouseover='alert(1)",
    'x" onmouseover="alert(1)',
]
JAVASCRIPT_URL = "javascript:alert(1)"
LINKED = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def assert_inert(content, payload):
    assert payload not in content
    assert not LINKED.search(content)


@pytest.fixture
def hostile_log(lab_client, lab_url):
    """Every payload received as a value and issued as a value."""
    for i, payload in enumerate(PAYLOADS):
        lab_client.cookies[f"p{i}"] = payload
        lab_client.post(lab_url, {"key": f"s{i}", "value": payload, "path": "/"})
    return lab_client


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_received_value_is_inert_in_the_lab_table(client, lab_url, payload):
    client.cookies["evil"] = payload

    content = client.get(lab_url).content.decode()

    assert_inert(content, payload)


@pytest.mark.django_db
def test_javascript_url_value_never_becomes_a_link(client, lab_url):
    client.cookies["evil"] = JAVASCRIPT_URL

    content = client.get(lab_url).content.decode()

    assert f"<code>{JAVASCRIPT_URL}</code>" in content
    assert not LINKED.search(content)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_received_name_is_inert_in_text_and_attributes(client, lab_url, payload):
    # A name can hold anything but ';' and '=' once it reaches request.COOKIES.
    name = payload.replace("=", "_")

    content = client.get(lab_url, HTTP_COOKIE=f"{name}=1").content.decode()

    assert_inert(content, name)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_issued_value_is_inert_in_the_set_cookie_display(lab_client, lab_url, payload):
    response = lab_client.post(lab_url, {"key": "evil", "value": payload, "path": "/"}, follow=True)

    assert response.status_code == 200
    assert response.context["sent"], "the payload should have been sent (quoted)"
    assert_inert(response.content.decode(), payload)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_refused_name_is_inert_in_the_error_page(lab_client, lab_url, payload):
    response = lab_client.post(lab_url, {"key": payload, "value": "v", "path": "/"})

    assert response.status_code == 400
    assert_inert(response.content.decode(), payload)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_json_check_is_inert(client, payload):
    response = client.get(
        "/cookies/check",
        {"key": payload, "value": payload, "domain": payload},
        HTTP_COOKIE=f"{payload.replace('=', '_')}=1",
    )

    content = response.content.decode()
    assert "<" not in content and ">" not in content
    assert json.loads(content)["findings"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changelist",
    [
        "admin:cookies_app_jarcookie_changelist",
        "admin:cookies_app_request_changelist",
        "admin:cookies_app_setcookieline_changelist",
    ],
)
def test_admin_changelists_are_inert(admin_client, hostile_log, changelist):
    content = admin_client.get(reverse(changelist)).content.decode()

    for payload in PAYLOADS:
        assert_inert(content, payload)


@pytest.mark.django_db
def test_admin_change_pages_are_inert(admin_client, hostile_log):
    pages = [
        reverse("admin:cookies_app_jarcookie_change", args=[row.pk])
        for row in JarCookie.objects.filter(name__regex=r"^[ps]\d$")
    ]
    pages += [
        reverse("admin:cookies_app_visitor_change", args=[v.pk]) for v in Visitor.objects.all()
    ]
    assert len(pages) > len(PAYLOADS)
    for url in pages:
        content = admin_client.get(url).content.decode()
        for payload in PAYLOADS:
            assert_inert(content, payload)
