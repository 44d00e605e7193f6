"""GET /cookies/check: the live form's findings, from the same rules and form."""

import json

import pytest


def check(client, **params):
    response = client.get("/cookies/check", params)
    assert response["Content-Type"] == "application/json"
    return response, json.loads(response.content)


@pytest.mark.django_db
def test_a_plain_cookie_is_not_blocked(client):
    response, result = check(client, key="flavor", value="chip", path="/")

    assert response.status_code == 200
    assert result["blocked"] is False
    assert result["verdict"] == "info"
    assert [f["code"] for f in result["findings"]] == ["SameSiteUnspecified"]


@pytest.mark.django_db
def test_refused_cookie_is_blocked_with_its_message(client):
    _, result = check(client, key="a b", value="v")

    assert result["blocked"] is True
    assert result["verdict"] == "refused"
    assert any("cannot contain a space" in m for m in result["errors"]["key"])
    finding = result["findings"][0]
    assert set(finding) == {"severity", "code", "field", "message", "spec", "fix", "engines"}


@pytest.mark.django_db
def test_error_blocks_unless_send_anyway(client):
    _, blocked = check(client, key="k", value="v", samesite="None")
    _, allowed = check(client, key="k", value="v", samesite="None", send_anyway="on")

    assert blocked["blocked"] is True
    assert "send anyway" in blocked["errors"]["samesite"][0]
    assert allowed["blocked"] is False
    assert allowed["verdict"] == "error"


@pytest.mark.django_db
def test_script_source_applies_script_rules(client):
    _, result = check(client, source="script", key="k", value="v", httponly="on")

    assert "HttpOnly" in [f["code"] for f in result["findings"]]


@pytest.mark.django_db
def test_script_source_knows_httponly_cookies_from_the_log(lab_client, lab_url):
    lab_client.post(lab_url, {"key": "locked", "value": "1", "path": "/", "httponly": "on"})

    _, result = check(lab_client, source="script", key="locked", value="2", path="/")

    assert result["blocked"] is True
    assert "OverwriteHttpOnly" in [f["code"] for f in result["findings"]]


@pytest.mark.django_db
def test_unknown_source_is_a_400_with_a_message(client):
    response, result = check(client, source="telepathy", key="k")

    assert response.status_code == 400
    assert result == {"error": "source must be 'server' or 'script'."}


@pytest.mark.django_db
def test_unparseable_fields_are_reported_not_raised(client):
    response, result = check(client, key="k", max_age="soon", expires="later")

    assert response.status_code == 200
    assert result["blocked"] is True
    assert set(result["errors"]) >= {"max_age", "expires"}


@pytest.mark.django_db
def test_check_is_not_logged(client):
    from cookies_app.models import CookieChange, Request, Visitor

    client.cookies["a"] = "1"
    check(client, key="k")

    assert not Visitor.objects.exists()
    assert not Request.objects.exists()
    assert not CookieChange.objects.exists()


@pytest.mark.django_db
def test_check_refuses_post(client):
    assert client.post("/cookies/check").status_code == 405


@pytest.mark.django_db
def test_server_form_sends_an_error_cookie_when_told_to(lab_client, lab_url):
    blocked = lab_client.post(lab_url, {"key": "k", "value": "v", "path": "/", "samesite": "None"})
    sent = lab_client.post(
        lab_url,
        {"key": "k", "value": "v", "path": "/", "samesite": "None", "send_anyway": "on"},
    )

    assert blocked.status_code == 400
    assert "Tick “send anyway”" in blocked.context["set_form"].errors["samesite"][0]
    assert sent.status_code == 303
    assert "SameSite=None" in sent.cookies["k"].OutputString()


@pytest.mark.django_db
def test_lab_shows_findings_for_what_was_just_sent(lab_client, lab_url):
    response = lab_client.post(
        lab_url,
        {"key": "k", "value": "v", "path": "/", "samesite": "None", "send_anyway": "on"},
        follow=True,
    )

    [sent] = response.context["sent"]
    assert [f.code for f in sent["findings"]] == ["SameSiteNoneInsecure"]
    assert "SameSiteNoneInsecure" in response.content.decode()
