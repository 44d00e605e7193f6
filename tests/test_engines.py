"""The rules know the engine: which one asks, and what each tested engine does."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from cookies_app import rules, verdicts
from cookies_app.rules import Engine, ProposedCookie, RequestContext, Severity
from cookies_app.rules.engines import COMPAT, COMPAT_FEATURES, ENGINE_NOTES, TESTED
from cookies_app.rules.fixes import FIXES

FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "engine"),
    [
        (FIREFOX_UA, Engine.FIREFOX),
        (CHROME_UA, Engine.CHROMIUM),
        (CHROME_UA.replace("Chrome/", "HeadlessChrome/"), Engine.CHROMIUM),
        (CHROME_UA + " Edg/156.0.0.0", Engine.CHROMIUM),
        (CHROME_UA + " OPR/120.0.0.0", Engine.CHROMIUM),
        # Safari, and every browser on iOS (WebKit whatever its name): not tested here.
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.0 Safari/605.1.15",
            Engine.UNKNOWN,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) FxiOS/140.0 Mobile/15E148 Safari/605.1.15",
            Engine.UNKNOWN,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/156.0 Mobile/15E148 Safari/604.1",
            Engine.UNKNOWN,
        ),
        ("curl/8.5.0", Engine.UNKNOWN),
        ("", Engine.UNKNOWN),
    ],
)
def test_engine_of_a_user_agent(user_agent, engine):
    assert rules.engine_of(user_agent) == engine


HOST_PREFIX_OWN_DOMAIN = ProposedCookie(
    name="__Host-x", value="1", secure=True, path="/", domain="localhost"
)


@pytest.mark.parametrize("domain", ["localhost", ".localhost"])
@pytest.mark.parametrize(
    ("engine", "severity"),
    [(Engine.CHROMIUM, Severity.ERROR), (Engine.FIREFOX, Severity.WARNING), ("", Severity.ERROR)],
)
def test_a_host_prefix_with_the_hosts_own_domain_is_judged_by_the_engine(engine, severity, domain):
    context = RequestContext(host="localhost:8000", engine=engine)
    cookie = replace(HOST_PREFIX_OWN_DOMAIN, domain=domain)

    [found] = [f for f in rules.evaluate(cookie, context) if f.code == "InvalidPrefix"]

    assert found.severity == severity
    assert [str(n) for n in found.engines if n.tested] == [
        "Chromium 156: drops",
        "Firefox 153 ESR: keeps (a Domain naming the host itself passes its check)",
    ]


@pytest.mark.parametrize(
    "cookie",
    [
        ProposedCookie(name="__Host-x", value="1", secure=True, path="/", domain="example.com"),
        ProposedCookie(name="__Host-x", value="1", path="/", domain="localhost"),  # not Secure
        ProposedCookie(name="__Host-x", value="1", secure=True, path="/a", domain="localhost"),
    ],
)
def test_firefox_drops_a_host_prefix_that_breaks_another_rule(cookie):
    context = RequestContext(host="localhost", engine=Engine.FIREFOX)

    [found] = [f for f in rules.evaluate(cookie, context) if f.code == "InvalidPrefix"]

    assert found.severity == Severity.ERROR
    assert [n.outcome for n in found.engines if n.tested] == ["drops", "drops"]


@pytest.mark.parametrize(
    ("host", "domain"),
    # A dotted host: Firefox stores Domain=example.com as .example.com, and drops it.
    [("example.com", "example.com"), ("lab.example.com:8000", "lab.example.com")],
)
def test_firefox_keeps_a_host_prefix_domain_only_on_a_name_without_dots(host, domain):
    cookie = ProposedCookie(name="__Host-x", value="1", secure=True, path="/", domain=domain)
    context = RequestContext(scheme="https", host=host, engine=Engine.FIREFOX)

    [found] = [f for f in rules.evaluate(cookie, context) if f.code == "InvalidPrefix"]

    assert found.severity == Severity.ERROR
    assert [n.outcome for n in found.engines if n.tested] == ["drops", "drops"]


@pytest.mark.parametrize("engine", [Engine.CHROMIUM, Engine.FIREFOX])
def test_an_address_as_domain_on_that_address_breaks_no_host_prefix_rule(engine):
    cookie = ProposedCookie(name="__Host-ip", value="1", secure=True, path="/", domain="127.0.0.1")
    context = RequestContext(host="127.0.0.1:8000", engine=engine)

    assert "InvalidPrefix" not in {f.code for f in rules.evaluate(cookie, context)}


def test_engine_notes_name_real_codes_and_both_tested_engines():
    assert set(ENGINE_NOTES) | set(COMPAT_FEATURES) <= FIXES.keys()
    for code, notes in ENGINE_NOTES.items():
        assert [n.browser for n in notes] == list(TESTED.values()), code
        assert all(n.outcome in {"drops", "keeps", "alters"} and n.tested for n in notes), code


def test_safari_is_quoted_from_the_vendored_compat_data_and_says_so():
    assert COMPAT["source"].startswith("@mdn/browser-compat-data ")
    assert COMPAT["licence"] == "CC0 1.0 Universal"
    cookie = ProposedCookie(name="p", value="1", path="/", samesite="None", partitioned=True)

    found = {f.code: f for f in rules.evaluate(cookie)}

    [safari] = [n for n in found["InvalidPartitioned"].engines if not n.tested]
    partitioned = COMPAT["data"]["Partitioned"]["__compat"]["support"]["safari"][0]
    assert safari.as_dict() == {
        "engine": "Safari",
        "outcome": "",
        "detail": f"Partitioned: since {partitioned['version_added']}",
        "tested": False,
        "text": str(safari),
    }
    assert str(safari).endswith("not tested here): " + safari.detail)
    [lax] = [n for n in found["SameSiteNoneInsecure"].engines if not n.tested]
    assert lax.detail == "Secure attribute required if SameSite=None: not supported"


def test_a_finding_without_engine_notes_says_nothing_of_engines():
    cookie = ProposedCookie(name="x", value="1", path="/", samesite="Lax", max_age=-1)

    [deletes] = [f for f in rules.evaluate(cookie) if f.code == "Deletes"]

    assert deletes.engines == ()
    assert deletes.as_dict()["engines"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_agent", "severity"), [(FIREFOX_UA, "warning"), (CHROME_UA, "error")]
)
def test_the_live_check_judges_by_the_visiting_engine(client, user_agent, severity):
    params = {"key": "__Host-x", "value": "1", "secure": "on", "path": "/", "domain": "localhost"}
    response = client.get(
        "/cookies/check", params, headers={"User-Agent": user_agent, "Host": "localhost"}
    )

    [found] = [f for f in json.loads(response.content)["findings"] if f["code"] == "InvalidPrefix"]
    assert found["severity"] == severity
    assert [n["engine"] for n in found["engines"]] == ["Chromium 156", "Firefox 153 ESR"] + [
        "Safari"
    ] * 2


@pytest.mark.parametrize(("engine", "withheld"), [(Engine.CHROMIUM, True), (Engine.FIREFOX, False)])
def test_a_cookie_without_samesite_on_a_cross_site_post_is_judged_by_the_engine(engine, withheld):
    context = RequestContext(fetch_site="cross-site", method="POST", engine=engine)

    assert verdicts._withheld_cross_site("", context, age=timedelta(minutes=3)) is withheld
    assert verdicts._withheld_cross_site("Lax", context, age=timedelta(minutes=3)) is True
