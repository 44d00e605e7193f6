"""Export formats, parsed back by the tools that read them."""

import json
from http.cookiejar import MozillaCookieJar

import pytest

from cookies_app import export
from cookies_app.export import KnownCookie


@pytest.fixture
def exported(client):
    """A browser holding cookies the lab issued, with attributes, plus one from JS."""
    client.get(
        "/api/cookies/set?plain=1&attr[Max-Age]=600",
    )
    client.get("/api/cookies/set?locked=2&attr[HttpOnly]=1&attr[SameSite]=Strict")
    client.get("/api/cookies/set?wide=3&attr[Domain]=testserver&attr[Path]=/cookies")
    client.cookies["from_js"] = "4"
    return client


def fetch(client, format_name, **params):
    response = client.get("/api/cookies/export", {"format": format_name, **params})
    assert response.status_code == 200
    return response


@pytest.mark.django_db
def test_json_has_cookie_editor_fields(exported):
    response = fetch(exported, "json")

    cookies = {c["name"]: c for c in json.loads(response.content)}
    assert response["Content-Disposition"] == 'attachment; filename="cookies.json"'
    assert set(cookies) == {"plain", "locked", "wide", "from_js"}
    assert set(cookies["plain"]) == {
        "domain",
        "expirationDate",
        "hostOnly",
        "httpOnly",
        "name",
        "path",
        "sameSite",
        "secure",
        "session",
        "storeId",
        "value",
    }
    assert cookies["plain"]["session"] is False and cookies["plain"]["expirationDate"] > 0
    assert (cookies["locked"]["httpOnly"], cookies["locked"]["sameSite"]) == (True, "strict")
    assert (cookies["wide"]["domain"], cookies["wide"]["hostOnly"]) == (".testserver", False)
    assert cookies["from_js"]["session"] is True and "expirationDate" not in cookies["from_js"]


@pytest.mark.django_db
def test_netscape_file_loads_in_mozilla_cookie_jar(exported, tmp_path):
    path = tmp_path / "cookies.txt"
    path.write_text(fetch(exported, "netscape").content.decode())

    jar = MozillaCookieJar(str(path))
    jar.load(ignore_discard=True, ignore_expires=True)

    cookies = {c.name: c for c in jar}
    assert {n: c.value for n, c in cookies.items()} == {
        "plain": "1",
        "locked": "2",
        "wide": "3",
        "from_js": "4",
    }
    assert cookies["plain"].expires > 0
    assert not cookies["from_js"].expires, "session cookies carry 0, as curl writes them"
    assert cookies["wide"].domain == ".testserver" and cookies["wide"].domain_specified
    assert cookies["locked"].has_nonstandard_attr("HTTPOnly")  # how Python reads #HttpOnly_


@pytest.mark.django_db
def test_header_format(exported):
    response = fetch(exported, "header")

    text = response.content.decode()
    assert text.startswith("Cookie: ") and text.endswith("\n")
    pairs = dict(p.split("=") for p in text.removeprefix("Cookie: ").strip().split("; "))
    assert pairs == {"plain": "1", "locked": "2", "wide": "3", "from_js": "4"}


@pytest.mark.django_db
def test_env_cookies_are_left_out_unless_asked(exported):
    default = fetch(exported, "header").content.decode()
    with_env = fetch(exported, "header", show_env="1").content.decode()

    assert "cookielab_visitor" not in default
    assert "cookielab_visitor" in with_env


@pytest.mark.django_db
def test_unknown_format_is_a_400(client):
    response = client.get("/api/cookies/export", {"format": "xml"})

    assert response.status_code == 400
    assert "format must be one of json, netscape, header" in json.loads(response.content)["error"]


def test_netscape_lines_cannot_be_split_by_a_value():
    text = export.to_netscape([KnownCookie(name="n", value="a\tb\nc", host="h")])

    [line] = [ln for ln in text.splitlines() if not ln.startswith("#") and ln]
    assert line.split("\t") == ["h", "FALSE", "/", "FALSE", "0", "n", "a b c"]


@pytest.mark.django_db
def test_lab_links_to_every_export_format(client):
    content = client.get("/cookies").content.decode()

    for format_name in export.FORMATS:
        assert f"/api/cookies/export?format={format_name}" in content


def test_json_export_escapes_markup():
    text = export.to_json([KnownCookie(name="k", value="</script><b>&", host="localhost")])

    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)[0]["value"] == "</script><b>&"
