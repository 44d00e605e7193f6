"""
cookiesite/wsgi.py, Django's application with two differences: a Content-Type
Django cannot read is a 400, and a body in memory leaves as one list.
"""

import json
from io import BytesIO

import pytest

from cookiesite.wsgi import application


@pytest.mark.django_db
def test_unparsable_content_type_is_a_400_at_the_wsgi_entry_point():
    started = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/cookies",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset*=bogus''x",
        "CONTENT_LENGTH": "0",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": BytesIO(),
    }

    body = b"".join(application(environ, lambda status, headers: started.append(status)))

    assert started == ["400 Bad Request"]
    assert body.startswith(b"Bad Request: Invalid Content-Type header.")


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "hex"])
def test_non_text_codec_as_charset_is_a_400_at_the_wsgi_entry_point(charset):
    started = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/cookies",
        "QUERY_STRING": "x=1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": f"text/plain; charset={charset}",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": BytesIO(),
    }

    body = b"".join(application(environ, lambda status, headers: started.append(status)))

    assert started == ["400 Bad Request"], body[:200]
    assert b"charset=utf-8" in body


def wsgi_get(path):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "HTTP_COOKIE": "flavor=chip",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": BytesIO(),
    }


@pytest.fixture
def finished_requests():
    """
    The requests Django ended, counted; the test database stays open (as
    Django's test client does, the signals do not close its connection).
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    finished = []
    receiver = lambda **kwargs: finished.append(True)  # noqa: E731
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_finished.connect(receiver)
    yield finished
    request_finished.disconnect(receiver)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_a_body_in_memory_leaves_as_one_list_and_the_request_ends(finished_requests):
    started = []
    body = application(wsgi_get("/api/cookies"), lambda s, h: started.append(s))
    finished = finished_requests

    assert started == ["200 OK"]
    assert isinstance(body, list) and len(body) == 1
    assert json.loads(body[0])["cookies"] == {"flavor": "chip"}
    assert finished == [True], "closed, as the server would have after sending it"


def test_a_streamed_body_is_left_to_the_server(monkeypatch):
    from django.http import StreamingHttpResponse

    from cookiesite import wsgi

    streamed = StreamingHttpResponse(iter([b"a", b"b"]))
    monkeypatch.setattr(wsgi, "django_application", lambda environ, start_response: streamed)

    assert wsgi.application(wsgi_get("/anything"), lambda s, h: None) is streamed
