"""Every bad input to the server form answers 400, says what is wrong, sets nothing."""

import pytest

from tests.conftest import set_cookie_form

INVALID = [
    ({"key": "a b"}, "key", "cannot contain a space"),
    ({"key": "a;b"}, "key", "cannot contain ';'"),
    ({"key": ""}, "key", "A cookie needs a name"),
    ({"key": "", "value": ""}, "key", "has no name and no value"),
    ({"key": "a=b"}, "key", "cannot contain '='"),
    ({"key": "new\nline"}, "key", "control character U+000A"),
    ({"key": "caf\u00e9"}, "key", "non-ASCII character"),
    ({"value": "a\nb"}, "value", "control character U+000A"),
    ({"value": "a\x00b"}, "value", "control character U+0000"),
    ({"value": "\u20ac"}, "value", "non-ASCII character"),
    ({"value": "x" * 9000}, "value", "the lab sends at most 8192"),
    ({"path": "/;x"}, "path", "Path cannot contain ';'"),
    ({"path": "/\r\nSet-Cookie: evil=1"}, "path", "control character U+000D"),
    ({"path": "/\x7f"}, "path", "control character U+007F"),
    ({"domain": "example.com;x"}, "domain", "Domain cannot contain ';'"),
    ({"domain": "a\x01.com"}, "domain", "control character U+0001"),
    ({"samesite": "Bogus"}, "samesite", "samesite must be Lax, Strict or None"),
    ({"max_age": "abc"}, "max_age", "max_age must be a whole number of seconds"),
    ({"max_age": "1.5"}, "max_age", "max_age must be a whole number of seconds"),
    ({"max_age": "99999999999"}, "max_age", "less than or equal to"),
    ({"expires": "tomorrow"}, "expires", "expires must be a UTC date and time"),
    ({"max_age": "60", "expires": "2030-01-01T00:00"}, "expires", "not both"),
    ({"key": "csrftoken"}, "key", "this site's own cookies"),
    ({"key": "SessionID"}, "key", "this site's own cookies"),
    ({"key": "cookielab_visitor"}, "key", "this site's own cookies"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field", "message"), INVALID)
def test_invalid_input_answers_400_with_a_field_message(
    lab_client, lab_url, fields, field, message
):
    response = lab_client.post(lab_url, set_cookie_form(**fields))

    assert response.status_code == 400
    errors = response.context["set_form"].errors[field]
    assert any(message in error for error in errors), errors
    assert not response.cookies, "a refused cookie must set nothing"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "a b"}, "key", "cannot contain a space"),
        ({"key": "csrftoken"}, "key", "this site's own cookies"),
        ({"key": "x", "path": "/\nx"}, "path", "control character U+000A"),
        ({"key": "x", "domain": "a;b"}, "domain", "Domain cannot contain ';'"),
    ],
)
def test_invalid_delete_answers_400_and_sets_nothing(lab_client, fields, field, message):
    response = lab_client.post("/cookies/delete", fields)

    assert response.status_code == 400
    errors = response.context["delete_form"].errors[field]
    assert any(message in error for error in errors), errors
    assert not response.cookies


@pytest.mark.django_db
def test_error_message_is_shown_on_the_page(lab_client, lab_url):
    response = lab_client.post(lab_url, set_cookie_form(samesite="Bogus"))

    assert "samesite must be Lax, Strict or None" in response.content.decode()
