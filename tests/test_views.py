import html

import pytest
from django.test import Client

from tests.conftest import set_cookie_form, set_cookie_header


@pytest.mark.django_db
def test_first_visit_sets_username_root(client, lab_url):
    response = client.get(lab_url)

    assert response.status_code == 200
    assert set_cookie_header(response, "username") == "username=root; Path=/"


@pytest.mark.django_db
def test_username_is_not_reset_when_the_browser_has_one(client, lab_url):
    client.cookies["username"] = "alice"

    response = client.get(lab_url)

    assert "username" not in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"key": "flavor", "value": "chip"}, "flavor=chip"),
        ({"max_age": "3600"}, "Max-Age=3600"),
        ({"expires": "2030-01-31T12:00"}, "expires=Thu, 31 Jan 2030 12:00:00 GMT"),
        ({"expires": "2030-01-31T12:00:05"}, "expires=Thu, 31 Jan 2030 12:00:05 GMT"),
        ({"path": "/cookies"}, "Path=/cookies"),
        ({"domain": "testserver"}, "Domain=testserver"),
        ({"secure": "on"}, "Secure"),
        ({"httponly": "on"}, "HttpOnly"),
        ({"samesite": "Lax"}, "SameSite=Lax"),
        ({"samesite": "Strict"}, "SameSite=Strict"),
        ({"samesite": "None", "secure": "on"}, "SameSite=None"),
        ({"partitioned": "on", "secure": "on"}, "Partitioned"),
    ],
)
def test_each_parameter_appears_in_set_cookie(lab_client, lab_url, fields, expected):
    # Over HTTPS, where a browser would keep every one of these.
    response = lab_client.post(lab_url, set_cookie_form(**fields), secure=True)

    assert response.status_code == 303
    assert expected in set_cookie_header(response, "flavor").split("; ")


@pytest.mark.django_db
@pytest.mark.parametrize("flag", ["secure", "httponly", "partitioned"])
def test_unchecked_flags_are_left_out(lab_client, lab_url, flag):
    response = lab_client.post(lab_url, set_cookie_form())

    attributes = [a.lower() for a in set_cookie_header(response, "flavor").split("; ")]
    assert flag not in attributes


@pytest.mark.django_db
def test_blank_path_sends_no_path_attribute(lab_client, lab_url):
    response = lab_client.post(lab_url, set_cookie_form(path=""))

    assert set_cookie_header(response, "flavor") == "flavor=chip"


@pytest.mark.django_db
def test_post_redirects_with_303_to_the_lab(lab_client, lab_url):
    response = lab_client.post(lab_url, set_cookie_form())

    assert response.status_code == 303
    assert response["Location"].startswith(f"{lab_url}?sent=")


@pytest.mark.django_db
def test_lab_shows_the_set_cookie_line_the_previous_response_sent(lab_client, lab_url):
    response = lab_client.post(lab_url, set_cookie_form(httponly="on", max_age="60"), follow=True)

    [sent] = response.context["sent"]
    line = sent["line"]
    assert line.startswith("Set-Cookie: flavor=chip; expires=")
    assert line.endswith("; HttpOnly; Max-Age=60; Path=/")
    assert html.escape(line) in response.content.decode()


@pytest.mark.django_db
def test_sent_lines_are_private_to_the_visitor(lab_client, lab_url):
    location = lab_client.post(lab_url, set_cookie_form())["Location"]

    stranger = Client()
    response = stranger.get(location)

    assert response.context["sent"] == []


@pytest.mark.django_db
def test_malformed_sent_parameter_is_ignored_with_a_note(lab_client, lab_url):
    response = lab_client.get(lab_url, {"sent": "not-a-uuid"})

    assert response.status_code == 200
    assert "No Set-Cookie line is on record" in response.content.decode()


@pytest.mark.django_db
def test_received_cookies_table_lists_name_value_and_size(client, lab_url):
    client.cookies["flavor"] = "chocolate"

    response = client.get(lab_url)

    row = next(r for r in response.context["received"] if r["name"] == "flavor")
    assert row == {
        "name": "flavor",
        "value": "chocolate",
        "size": 15,
        "reserved": False,
        # Never issued by the lab: where it lives is unknown, Delete tries /.
        "issued": None,
        "delete_path": "/",
        "delete_domain": "",
    }
    content = response.content.decode()
    assert '<tr data-cookie-name="flavor">' in content
    assert "unknown — set by JavaScript or another site" in content


@pytest.mark.django_db
def test_received_cookies_show_their_issued_attributes_and_delete_there(client):
    client.get("/cookies/sub/")
    client.post(
        "/cookies/sub/",
        set_cookie_form(
            key="deep", value="1", path="/cookies/sub/", samesite="Strict", httponly="on"
        ),
    )
    response = client.get("/cookies/sub/")
    row = next(r for r in response.context["received"] if r["name"] == "deep")
    content = response.content.decode()

    assert row["issued"].path == "/cookies/sub/"
    assert (row["delete_path"], row["delete_domain"]) == ("/cookies/sub/", "")
    assert 'name="path" value="/cookies/sub/"' in content
    assert "SameSite=Strict" in content and "HttpOnly" in content
    # The Delete button deletes it where it lives.
    deleted = client.post(
        "/cookies/delete", {"key": "deep", "path": row["delete_path"], "back": "/cookies/sub/"}
    )
    assert deleted.cookies["deep"]["path"] == "/cookies/sub/"
    assert deleted.cookies["deep"]["max-age"] == 0


@pytest.mark.django_db
def test_hostile_cookie_value_is_rendered_as_inert_text(client, lab_url):
    client.cookies["evil"] = "<script>alert(1)</script>"

    response = client.get(lab_url)

    content = response.content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


@pytest.mark.django_db
def test_site_cookies_have_no_delete_button(lab_client, lab_url):
    response = lab_client.get(lab_url)

    [row] = [r for r in response.context["received"] if r["name"] == "csrftoken"]
    assert row["reserved"] is True


@pytest.mark.django_db
def test_delete_expires_the_cookie(lab_client):
    response = lab_client.post("/cookies/delete", {"key": "flavor", "path": "/"})

    assert response.status_code == 303
    header = set_cookie_header(response, "flavor")
    assert header.startswith('flavor=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0')
    assert "Path=/" in header.split("; ")


@pytest.mark.django_db
def test_delete_honours_path_and_domain(lab_client):
    response = lab_client.post(
        "/cookies/delete", {"key": "flavor", "path": "/cookies", "domain": "localhost"}
    )

    attributes = set_cookie_header(response, "flavor").split("; ")
    assert "Path=/cookies" in attributes
    assert "Domain=localhost" in attributes


@pytest.mark.django_db
def test_delete_requires_post(client):
    assert client.get("/cookies/delete").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/cookies", "/cookies/sub/", "/api/cookies", "/cookies/check"])
def test_head_is_answered_like_get_without_a_body(client, path):
    response = client.head(path)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_lab_refuses_other_methods(client, lab_url):
    assert client.put(lab_url).status_code == 405


@pytest.mark.django_db
def test_set_form_is_csrf_protected(lab_url):
    client = Client(enforce_csrf_checks=True)
    client.get(lab_url)

    response = client.post(lab_url, set_cookie_form())

    assert response.status_code == 403
    assert "flavor" not in response.cookies


@pytest.mark.django_db
def test_lab_sends_a_nonce_csp_and_every_script_carries_the_nonce(client, lab_url):
    response = client.get(lab_url)

    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    content = response.content.decode()
    scripts = content.count("<script")
    assert "script-src 'self' 'nonce-" in policy
    assert scripts >= 2
    assert content.count(f'nonce="{nonce}"') >= scripts - content.count("application/json")
    assert "onclick" not in content and "onsubmit" not in content


@pytest.mark.django_db
def test_root_redirects_to_the_lab(client, lab_url):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == lab_url


def test_blank_forms_render_once_and_match_a_fresh_render():
    from cookies_app.forms import DeleteCookieForm, SetCookieForm, blank_form_html

    for form_class in (SetCookieForm, DeleteCookieForm):
        assert blank_form_html(form_class) is blank_form_html(form_class)
        assert blank_form_html(form_class) == form_class().as_div()
