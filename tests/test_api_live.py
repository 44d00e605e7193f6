"""Real HTTP clients against a real server: curl and requests end as httpbin's do."""

import json
import subprocess
from http.cookiejar import MozillaCookieJar

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)


def curl(*args, jar):
    # -g: no URL globbing, so attr[...] reaches the server as typed.
    result = subprocess.run(
        ["curl", "-g", "-s", "-c", str(jar), "-b", str(jar), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_curl_round_trip(live_server, tmp_path):
    jar = tmp_path / "jar"
    base = f"{live_server.url}/api"

    after_set = json.loads(curl("-L", f"{base}/cookies/set?k1=v1&k2=v2", jar=jar))
    read = json.loads(curl(f"{base}/cookies", jar=jar))
    after_delete = json.loads(curl("-L", f"{base}/cookies/delete?k1&k2", jar=jar))

    assert after_set == {"cookies": {"k1": "v1", "k2": "v2"}}
    assert read == {"cookies": {"k1": "v1", "k2": "v2"}}
    assert after_delete == {"cookies": {}}


def test_curl_sees_attributes_in_its_jar(live_server, tmp_path):
    jar = tmp_path / "jar"

    curl(f"{live_server.url}/api/cookies/set?k=v&attr[HttpOnly]=1&attr[Max-Age]=600", jar=jar)

    cookies = MozillaCookieJar(str(jar))
    cookies.load(ignore_discard=True)
    [k] = [c for c in cookies if c.name == "k"]
    assert k.value == "v"
    assert k.expires is not None and k.expires > 0
    assert "#HttpOnly_" in jar.read_text()


def test_requests_session_round_trip(live_server):
    session = requests.Session()
    base = f"{live_server.url}/api"

    after_set = session.get(f"{base}/cookies/set", params={"k1": "v1", "k2": "v2"}, timeout=10)
    after_one = session.get(f"{base}/cookies/set/k3/v3", timeout=10)
    after_delete = session.get(f"{base}/cookies/delete?k1&k3", timeout=10)

    assert after_set.json() == {"cookies": {"k1": "v1", "k2": "v2"}}
    assert after_one.json() == {"cookies": {"k1": "v1", "k2": "v2", "k3": "v3"}}
    assert after_delete.json() == {"cookies": {"k2": "v2"}}
    assert [r.status_code for r in after_delete.history] == [302]


def test_requests_sees_findings_header(live_server):
    response = requests.get(
        f"{live_server.url}/api/cookies/set?k=v&attr[SameSite]=None",
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 302
    assert json.loads(response.headers["X-Cookie-Lab-Findings"])[0]["code"] == (
        "SameSiteNoneInsecure"
    )


def test_exported_cookies_txt_is_used_by_curl(live_server, tmp_path):
    session = requests.Session()
    session.get(f"{live_server.url}/api/cookies/set?k1=v1&k2=v2&attr[Max-Age]=600", timeout=10)
    exported = session.get(f"{live_server.url}/api/cookies/export?format=netscape", timeout=10)
    cookies_txt = tmp_path / "cookies.txt"
    cookies_txt.write_text(exported.text)

    result = subprocess.run(
        ["curl", "-s", "-b", str(cookies_txt), f"{live_server.url}/api/cookies"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert json.loads(result.stdout) == {"cookies": {"k1": "v1", "k2": "v2"}}
