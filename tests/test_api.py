"""The httpbin-compatible API, with Django's test client."""

import json

import pytest

from cookies_app import api
from cookies_app.models import ChangeKind, CookieChange, JarCookie


def body(response):
    return json.loads(response.content)


def attributes(response, name):
    return response.cookies[name].OutputString().split("; ")


@pytest.mark.django_db
def test_get_cookies_returns_the_received_cookies(client):
    client.cookies["k1"] = "v1"

    response = client.get("/api/cookies")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body(response) == {"cookies": {"k1": "v1"}}


@pytest.mark.django_db
def test_env_cookies_are_hidden_unless_show_env(client):
    client.cookies["k1"] = "v1"
    client.cookies["csrftoken"] = "t"
    client.cookies["cookielab_visitor"] = "a" * 32

    hidden = body(client.get("/api/cookies"))["cookies"]
    shown = body(client.get("/api/cookies", {"show_env": "1"}))["cookies"]

    assert hidden == {"k1": "v1"}
    assert set(shown) == {"k1", "csrftoken", "cookielab_visitor"}


@pytest.mark.django_db
def test_set_redirects_and_sets_each_pair_under_the_api_path(client):
    response = client.get("/api/cookies/set", {"k1": "v1", "k2": "v2"})

    assert response.status_code == 302
    assert response["Location"] == "/api/cookies"
    assert response.cookies["k1"].OutputString() == "k1=v1; Path=/api"
    assert response.cookies["k2"].OutputString() == "k2=v2; Path=/api"


@pytest.mark.django_db
def test_set_then_follow_returns_the_cookies(client):
    response = client.get("/api/cookies/set", {"k1": "v1", "k2": "v2"}, follow=True)

    assert body(response) == {"cookies": {"k1": "v1", "k2": "v2"}}


@pytest.mark.django_db
def test_set_one_by_path(client):
    response = client.get("/api/cookies/set/flavor/chip")

    assert response.status_code == 302
    assert response.cookies["flavor"].OutputString() == "flavor=chip; Path=/api"


@pytest.mark.django_db
def test_set_one_by_path_keeps_query_pairs_too(client):
    response = client.get("/api/cookies/set/flavor/chip?extra=1&attr[HttpOnly]=1")

    assert set(response.cookies) >= {"flavor", "extra"}
    assert "HttpOnly" in attributes(response, "flavor")


@pytest.mark.django_db
def test_delete_expires_each_cookie(client):
    client.cookies["k1"] = "v1"
    client.cookies["k2"] = "v2"

    response = client.get("/api/cookies/delete?k1&k2")

    assert response.status_code == 302
    assert response["Location"] == "/api/cookies"
    for name in ("k1", "k2"):
        assert "Max-Age=0" in attributes(response, name)
        assert "Path=/api" in attributes(response, name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("attr[Path]=/api/cookies", "Path=/api/cookies"),
        ("attr[path]=/cookies", "Path=/cookies"),
        ("attr[Domain]=testserver", "Domain=testserver"),
        ("attr[Secure]=1", "Secure"),
        ("ATTR[SECURE]=true", "Secure"),
        ("attr[HttpOnly]", "HttpOnly"),
        ("attr[httponly]=on", "HttpOnly"),
        ("attr[SameSite]=strict", "SameSite=Strict"),
        ("attr[SameSite]=Lax", "SameSite=Lax"),
        ("attr[Max-Age]=60", "Max-Age=60"),
        ("attr[max-age]=0", "Max-Age=0"),
        ("attr[Expires]=Wed, 21 Oct 2020 07:28:00 GMT", "expires=Wed, 21 Oct 2020 07:28:00 GMT"),
        ("attr[Expires]=2020-01-31T12:00:00Z", "expires=Fri, 31 Jan 2020 12:00:00 GMT"),
        ("attr[Partitioned]=1&attr[Secure]=1", "Partitioned"),
    ],
)
def test_attribute_syntax(client, query, expected):
    response = client.get(f"/api/cookies/set?k=v&{query}")

    assert response.status_code == 302, response.content
    assert expected in attributes(response, "k")
    assert not any(name.lower().startswith("attr[") for name in response.cookies)


@pytest.mark.django_db
def test_attributes_are_never_set_as_cookies(client):
    response = client.get("/api/cookies/set?k=v&attr[Path]=/api&attr[HttpOnly]=1")

    assert set(response.cookies) == {"k", "cookielab_visitor"}


@pytest.mark.django_db
def test_secure_defaults_on_over_https(client):
    plain = client.get("/api/cookies/set?k=v")
    secure = client.get("/api/cookies/set?k=v", secure=True)
    forced_off = client.get("/api/cookies/set?k=v&attr[Secure]=0", secure=True)

    assert "Secure" not in attributes(plain, "k")
    assert "Secure" in attributes(secure, "k")
    assert "Secure" not in attributes(forced_off, "k")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("attr[Bogus]=1", "Unknown attribute attr[bogus]"),
        ("attr[SameSite]=Sometimes", "attr[SameSite] must be Lax, Strict or None"),
        ("attr[Max-Age]=soon", "attr[Max-Age] must be a whole number of seconds"),
        ("attr[Max-Age]=99999999999", "within ±2147483647"),
        ("attr[Expires]=someday", "attr[Expires] must be an HTTP date"),
        ("attr[Secure]=maybe", "attr[secure] must be 1/true/on or 0/false/off"),
        ("attr[Path]=/%0d%0aSet-Cookie:%20evil=1", "Path cannot contain the control character"),
        ("attr[Domain]=a;b", "Domain cannot contain ';'"),
    ],
)
def test_invalid_attributes_answer_400_and_set_nothing(client, query, message):
    response = client.get(f"/api/cookies/set?k=v&{query}")

    assert response.status_code == 400
    result = body(response)
    assert message in result["error"]
    assert "findings" in result
    assert "k" not in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/cookies/set?a%20b=1", "DisallowedCharacter"),
        ("/api/cookies/set?k=a%0Ab", "DisallowedCharacter"),
        ("/api/cookies/set?csrftoken=x", "ReservedName"),
        ("/api/cookies/set?SESSIONID=x", "ReservedName"),
        ("/api/cookies/set/cookielab_visitor/x", "ReservedName"),
        ("/api/cookies/delete?csrftoken", "ReservedName"),
        ("/api/cookies/delete?a%3Bb", "DisallowedCharacter"),
    ],
)
def test_refused_cookies_answer_400_json_with_findings(client, path, code):
    response = client.get(path)

    assert response.status_code == 400
    result = body(response)
    assert result["error"]
    assert code in [f["code"] for f in result["findings"]]
    assert not response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["set", "delete"])
def test_too_many_cookies_in_one_request_is_a_400(client, endpoint):
    query = "&".join(f"c{i}=v" for i in range(51))

    response = client.get(f"/api/cookies/{endpoint}?{query}")

    assert response.status_code == 400
    assert body(response)["error"] == "At most 50 cookies per request; this one has 51."
    assert not response.cookies


@pytest.mark.django_db
def test_predicted_drops_are_sent_with_a_summary_header_and_findings_in_the_body(client):
    response = client.get("/api/cookies/set?k=v&attr[SameSite]=None")

    assert response.status_code == 302
    assert "SameSite=None" in attributes(response, "k")
    assert json.loads(response["X-Cookie-Lab-Findings"]) == [
        {"code": "SameSiteNoneInsecure", "severity": "error", "count": 1, "cookies": ["k"]}
    ]
    assert [(f["cookie"], f["code"], f["severity"]) for f in body(response)["findings"]] == [
        ("k", "SameSiteNoneInsecure", "error")
    ]


@pytest.mark.django_db
def test_clean_cookies_carry_no_findings_header(client):
    response = client.get("/api/cookies/set?k=v")

    assert "X-Cookie-Lab-Findings" not in response
    assert body(response) == {"findings": []}


@pytest.mark.django_db
def test_delete_keeps_attributes_so_it_matches_the_cookie(client):
    response = client.get(
        "/api/cookies/delete?k&attr[Path]=/api&attr[Partitioned]=1&attr[Secure]=1"
    )

    assert {"Max-Age=0", "Path=/api", "Partitioned", "Secure"} <= set(attributes(response, "k"))


@pytest.mark.django_db
def test_delete_refuses_lifetime_attributes(client):
    response = client.get("/api/cookies/delete?k&attr[Max-Age]=60")

    assert response.status_code == 400
    assert "Unknown attribute attr[max-age]" in body(response)["error"]


@pytest.mark.django_db
def test_api_traffic_is_logged_like_the_labs(client):
    client.cookies["seen"] = "1"

    client.get("/api/cookies/set?k=v&attr[HttpOnly]=1")
    client.get("/api/cookies")

    issued = CookieChange.objects.select_related("request").get(
        cookie__name="k", kind=ChangeKind.ISSUED
    )
    assert (issued.request.path, issued.httponly, issued.header) == (
        "/api/cookies/set",
        True,
        "k=v; HttpOnly; Path=/api",
    )
    assert JarCookie.objects.get(name="k").present
    appeared = dict(
        CookieChange.objects.filter(kind=ChangeKind.APPEARED).values_list(
            "cookie__name", "request__path"
        )
    )
    assert appeared["seen"] == "/api/cookies/set"
    assert appeared["k"] == "/api/cookies"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/cookies", "/api/cookies/set", "/api/cookies/delete"])
def test_api_refuses_post(client, path):
    assert client.post(path).status_code == 405


def flood_of_findings():
    """50 cookies with long names, each with four findings (two predicted drops)."""
    names = [f"__Secure-c{i:02d}-" + "n" * 200 for i in range(50)]
    query = "&".join(f"{name}=a%20b" for name in names)
    return names, f"/api/cookies/set?{query}&attr[SameSite]=None&attr[Partitioned]=1"


@pytest.mark.django_db
def test_findings_header_stays_small_whatever_the_request(client):
    names, url = flood_of_findings()

    response = client.get(url)

    assert response.status_code == 302
    header = response["X-Cookie-Lab-Findings"]
    assert len(header.encode()) <= 1024 < 4096
    summary = json.loads(header)
    assert {e["code"]: e["count"] for e in summary} == {
        "InvalidPrefix": 50,
        "SameSiteNoneInsecure": 50,
        "InvalidPartitioned": 50,
        "ValueQuoted": 50,
    }
    assert [e["severity"] for e in summary] == ["error", "error", "error", "warning"]
    assert all(set(e["cookies"]) <= set(names) for e in summary)


@pytest.mark.django_db
def test_full_findings_are_in_the_redirects_json_body(client):
    names, url = flood_of_findings()

    response = client.get(url)

    assert response["Content-Type"] == "application/json"
    findings = body(response)["findings"]
    assert len(findings) == 200
    assert {f["cookie"] for f in findings} == set(names)
    fields = {"cookie", "severity", "code", "field", "message", "spec", "fix", "engines"}
    assert set(findings[0]) == fields


def test_findings_summary_fits_however_many_codes():
    findings = [
        {"cookie": "c" * 100, "code": f"Code{i:03d}" + "x" * 40, "severity": "error"}
        for i in range(100)
    ]

    summary = api.findings_summary(findings)

    assert len(summary) <= api.FINDINGS_HEADER_MAX
    assert json.loads(summary)[0] == {
        "code": "Code000" + "x" * 40,
        "severity": "error",
        "count": 1,
        "cookies": ["c" * 100],
    }
