"""Hostile input of every kind gets a page or a 4xx, never a 500."""

import socket
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse

from cookies_app.models import JarCookie
from cookies_app.setcookie import delete_cookie, set_cookie

HOSTILE_HEADERS = {
    "hundreds of cookies": "; ".join(f"c{i}=v{i}" for i in range(500)),
    "a 16 KiB value": "big=" + "x" * 16384,
    "invalid UTF-8": "bad=\xff\xfe\xc3(; ok=1",
    "pairs without =": "novalue; other=1; =empty",
    "duplicate names": "dup=1; dup=2; dup=3",
    "control characters": "ctl=a\x01b\x7fc; tab=a\tb",
    "separators": 'q="quoted"; s=a,b; e==x=',
}


@pytest.mark.django_db
@pytest.mark.parametrize("header", HOSTILE_HEADERS.values(), ids=HOSTILE_HEADERS.keys())
def test_hostile_cookie_headers_render_and_log(client, lab_url, header):
    response = client.get(lab_url, HTTP_COOKIE=header)

    assert response.status_code == 200
    assert JarCookie.objects.filter(present=True).exists()
    for row in JarCookie.objects.all():
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in row.name + row.value)


@pytest.mark.django_db
def test_control_characters_are_logged_and_shown_escaped(client, lab_url):
    response = client.get(lab_url, HTTP_COOKIE="ctl=a\x01b")

    assert JarCookie.objects.get(name="ctl").value == "a\\x01b"
    assert "a\\x01b" in response.content.decode()
    assert "a\x01b" not in response.content.decode()


@pytest.mark.django_db
def test_duplicate_names_keep_the_last_as_django_does(client, lab_url):
    response = client.get(lab_url, HTTP_COOKIE="dup=1; dup=2")

    assert [r["value"] for r in response.context["received"] if r["name"] == "dup"] == ["2"]


@pytest.mark.django_db(transaction=True)
def test_raw_invalid_bytes_on_the_wire(live_server):
    """Bytes no test client can send: invalid UTF-8 and controls in a real request."""
    host, port = urlsplit(live_server.url).netloc.split(":")
    request = (
        b"GET /cookies HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b"Cookie: raw=\xff\xfe\x80; ctl=\x01\x02; plain=1\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk

    assert reply.startswith(b"HTTP/1.1 200")
    assert JarCookie.objects.filter(name="plain", value="1").exists()
    assert JarCookie.objects.get(name="ctl").value == "\\x01\\x02"


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"path": "/\r\nSet-Cookie: evil=1"},
        {"domain": "a\nb"},
        {"expires": "Thu, 01 Jan 2030 00:00:00 GMT\r\nX: y"},
    ],
)
def test_set_cookie_refuses_control_characters_in_attributes(kwargs):
    """The last line of defence, whatever the Python build lets through."""
    response = HttpResponse()

    with pytest.raises(ValueError, match="control character"):
        set_cookie(response, "k", "v", **kwargs)

    assert "k" not in response.cookies


def test_delete_cookie_refuses_control_characters():
    response = HttpResponse()

    with pytest.raises(ValueError, match="control character"):
        delete_cookie(response, "k", path="/\nx")


@pytest.mark.django_db
def test_set_cookie_errors_become_a_400(lab_client, lab_url, monkeypatch):
    from http.cookies import CookieError

    from cookies_app import views

    def explode(*args, **kwargs):
        raise CookieError("Illegal key 'k'")

    monkeypatch.setattr(views, "send_cookie", explode)

    response = lab_client.post(lab_url, {"key": "k", "value": "v", "path": "/"})

    assert response.status_code == 400
    assert "This cookie cannot be sent: Illegal key" in response.content.decode()
    assert not response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["csrftoken", "CSRFTOKEN", "sessionid", "SessionId"])
def test_site_cookies_cannot_be_set_or_deleted(lab_client, lab_url, name):
    set_response = lab_client.post(lab_url, {"key": name, "value": "x", "path": "/"})
    delete_response = lab_client.post("/cookies/delete", {"key": name, "path": "/"})

    for response in (set_response, delete_response):
        assert response.status_code == 400
        assert "this site's own cookies" in response.content.decode().replace("&#x27;", "'")
        assert not response.cookies
