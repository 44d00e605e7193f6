"""Response helpers: 303 See Other, and JSON that cookie text cannot break out of."""

import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import DisallowedRedirect
from django.http import HttpResponseRedirect

from cookies_app.http import HttpResponseSeeOther, json_response

HOSTILE = [
    "</script><script>alert(1)</script>",
    "<!--",
    "a&b",
    "&amp;&lt;",
    "]]>",
    "\\u003c",  # the escape's own text, literally
    "\u2028\u2029",
    "caf\u00e9 \U0001f36a",
]


def test_see_other_is_a_303_redirect():
    response = HttpResponseSeeOther("/cookies?sent=2")

    assert response.status_code == 303
    assert response["Location"] == "/cookies?sent=2"
    assert isinstance(response, HttpResponseRedirect)


def test_see_other_refuses_an_unsafe_scheme():
    with pytest.raises(DisallowedRedirect):
        HttpResponseSeeOther("javascript:alert(1)")


def test_json_response_is_json_with_its_status():
    response = json_response({"error": "nope"}, status=400)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "nope"}


def test_json_response_defaults_to_200():
    assert json_response({}).status_code == 200


@pytest.mark.parametrize("text", HOSTILE)
def test_json_response_never_carries_markup_characters(text):
    response = json_response({text: [text, {"value": text}]})

    assert not set(b"<>&") & set(response.content)


@pytest.mark.parametrize("text", HOSTILE)
def test_json_response_round_trips(text):
    data = {"cookies": {text: text}, "list": [text]}

    assert json.loads(json_response(data).content) == data


def test_json_response_escapes_as_unicode_escapes():
    content = json_response({"v": "<a&b>"}).content

    assert content == b'{"v": "\\u003ca\\u0026b\\u003e"}'


def test_json_response_encodes_datetimes():
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert json.loads(json_response({"at": at}).content) == {"at": "2030-01-02T03:04:05Z"}
