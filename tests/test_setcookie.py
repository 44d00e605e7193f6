"""The Partitioned attribute Django lacks, checked in the morsel and on the wire."""

import http.client
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse

from cookies_app.setcookie import (
    header_lines,
    morsel_attributes,
    send_cookie,
    set_cookie,
    signed_salts,
)


def test_partitioned_is_emitted_when_asked():
    response = HttpResponse()

    set_cookie(response, "chip", "1", secure=True, samesite="None", partitioned=True)

    assert header_lines(response) == [
        "Set-Cookie: chip=1; Partitioned; Path=/; SameSite=None; Secure"
    ]


def test_partitioned_is_absent_by_default():
    response = HttpResponse()

    set_cookie(response, "chip", "1", secure=True)

    assert "Partitioned" not in header_lines(response)[0]


def test_partitioned_keeps_every_other_attribute():
    response = HttpResponse()

    set_cookie(
        response,
        "chip",
        "a b",
        max_age=60,
        path="/x",
        domain="localhost",
        secure=True,
        httponly=True,
        samesite="Strict",
        partitioned=True,
    )

    assert morsel_attributes(response.cookies["chip"]) == {
        "max_age": 60,
        "expires": response.cookies["chip"]["expires"],
        "path": "/x",
        "domain": "localhost",
        "secure": True,
        "httponly": True,
        "samesite": "Strict",
        "partitioned": True,
    }
    assert response.cookies["chip"].value == "a b"


@pytest.mark.django_db(transaction=True)
def test_partitioned_reaches_the_wire(live_server):
    """The raw header a real server sends, not just what Django holds."""
    client = http.client.HTTPConnection(urlsplit(live_server.url).netloc, timeout=10)
    client.request("GET", "/cookies")
    page = client.getresponse()
    cookies = page.getheader("Set-Cookie") or ""
    page.read()
    token = next(p for p in cookies.split("csrftoken=")[1:]).split(";")[0]

    body = "key=chip&value=1&path=%2F&secure=on&samesite=None&partitioned=on"
    body += f"&csrfmiddlewaretoken={token}"
    client.request(
        "POST",
        "/cookies",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
        },
    )
    response = client.getresponse()

    assert response.status == 303
    lines = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    assert "chip=1; Partitioned; Path=/; SameSite=None; Secure" in lines


def test_send_cookie_sets_a_proposed_cookie_with_every_attribute():
    from datetime import UTC, datetime

    from cookies_app.rules import ProposedCookie

    response = HttpResponse()
    cookie = ProposedCookie(
        name="k",
        value="v",
        expires=datetime(2030, 1, 31, 12, 0, tzinfo=UTC),
        path="",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )

    send_cookie(response, cookie)

    assert header_lines(response) == [
        "Set-Cookie: k=v; Domain=example.com; expires=Thu, 31 Jan 2030 12:00:00 GMT; HttpOnly; "
        "Partitioned; SameSite=None; Secure"
    ]


def test_send_cookie_signs_with_the_salt():
    from cookies_app.rules import ProposedCookie

    response = HttpResponse()

    send_cookie(response, ProposedCookie(name="k", value="v", path="/"), signed=True, salt="s")

    assert response.cookies["k"].value.startswith("v:")
    assert signed_salts(response) == {"k": "s"}
