"""
Every attribute and rule, proven in Chromium: what the browser holds
(context.cookies() and document.cookie) and the verdict the lab shows.
Where Chromium disagrees with the rules module, these fail: fix the rules.
"""

import time

import pytest

from cookies_app import verdicts
from tests.browser.lab_page import held, in_document_cookie, received, set_cookie, verdict

pytestmark = pytest.mark.django_db(transaction=True)


def test_plain_cookie_is_kept(page, context):
    set_cookie(page, key="plain", value="1")

    assert held(context, "plain")["value"] == "1"
    assert in_document_cookie(page, "plain")
    assert verdict(page, "plain") == (verdicts.Status.KEPT, [])


def test_max_age_expires_when_it_elapses(page, context):
    set_cookie(page, key="brief", value="1", max_age=2)
    assert held(context, "brief") is not None
    assert verdict(page, "brief")[0] == verdicts.Status.KEPT

    time.sleep(2.5)
    page.reload()

    assert held(context, "brief") is None
    assert not received(page, "brief")
    assert verdict(page, "brief")[0] == verdicts.Status.EXPIRED


def test_expires_in_the_past_deletes(page, context):
    set_cookie(page, key="old", value="1")
    assert held(context, "old") is not None

    set_cookie(page, key="old", value="1", expires="2000-01-01T00:00")

    assert held(context, "old") is None
    assert verdict(page, "old")[0] == verdicts.Status.EXPIRED


def test_path_scopes_where_the_cookie_is_sent(page, context):
    set_cookie(page, key="scoped", value="1", path="/cookies/sub/")

    assert held(context, "scoped")["path"] == "/cookies/sub/"
    assert not received(page, "scoped")
    assert not in_document_cookie(page, "scoped")
    assert verdict(page, "scoped")[0] == verdicts.Status.NOT_SENT_HERE

    page.goto("/cookies/sub/")

    assert received(page, "scoped")
    assert in_document_cookie(page, "scoped")
    assert verdict(page, "scoped")[0] == verdicts.Status.KEPT


def test_host_only_cookie_is_not_sent_to_another_host(page, context, live_server):
    set_cookie(page, key="hostonly", value="1")
    assert held(context, "hostonly")["domain"] == "localhost"

    other = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{other}/cookies")

    assert not received(page, "hostonly"), "localhost and 127.0.0.1 are different hosts"


def test_domain_localhost_on_localhost(page, context):
    set_cookie(page, key="dom", value="1", domain="localhost")

    cookie = held(context, "dom")
    assert cookie is not None, "Chromium keeps Domain=localhost set from localhost"
    assert verdict(page, "dom")[0] == verdicts.Status.KEPT


def test_domain_of_another_site_is_dropped(page, context):
    set_cookie(page, key="foreign", value="1", domain="example.com")

    assert held(context, "foreign") is None
    # Never stored, so "dropped" with the reason, not "not sent to this host".
    assert verdict(page, "foreign") == (verdicts.Status.DROPPED, ["InvalidDomain"])


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_secure_over_plain_http_on_loopback(page, context, live_server, host):
    base = live_server.url.replace("localhost", host)
    page.goto(f"{base}/cookies")
    set_cookie(page, at=f"{base}/cookies", key="sec", value="1", secure=True)

    cookie = held(context, "sec")
    assert cookie is not None and cookie["secure"] is True
    assert verdict(page, "sec")[0] == verdicts.Status.KEPT


def test_httponly_is_invisible_to_and_not_overwritable_by_javascript(page, context):
    set_cookie(page, key="locked", value="server", httponly=True)

    assert held(context, "locked")["httpOnly"] is True
    assert not in_document_cookie(page, "locked")
    page.evaluate("document.cookie = 'locked=script; path=/'")
    page.reload()

    assert held(context, "locked")["value"] == "server"
    assert verdict(page, "locked")[0] == verdicts.Status.KEPT_HIDDEN


@pytest.mark.parametrize("samesite", ["Lax", "Strict"])
def test_samesite_lax_and_strict_are_kept_same_site(page, context, samesite):
    set_cookie(page, key="ss", value="1", samesite=samesite)

    assert held(context, "ss")["sameSite"] == samesite
    assert verdict(page, "ss")[0] == verdicts.Status.KEPT


def test_samesite_none_without_secure_is_dropped(page, context):
    set_cookie(page, key="ssnone", value="1", samesite="None")

    assert held(context, "ssnone") is None
    assert verdict(page, "ssnone") == (verdicts.Status.DROPPED, ["SameSiteNoneInsecure"])


def test_samesite_none_with_secure_is_kept(page, context):
    set_cookie(page, key="ssnone", value="1", samesite="None", secure=True)

    assert held(context, "ssnone")["sameSite"] == "None"
    assert verdict(page, "ssnone")[0] == verdicts.Status.KEPT


def test_partitioned_with_secure_is_kept_partitioned(page, context):
    set_cookie(page, key="chip", value="1", secure=True, partitioned=True, samesite="None")

    cookie = held(context, "chip")
    assert cookie is not None
    assert cookie.get("partitionKey"), cookie
    assert verdict(page, "chip")[0] == verdicts.Status.KEPT


def test_partitioned_without_secure_is_dropped(page, context):
    set_cookie(page, key="chip", value="1", partitioned=True)

    assert held(context, "chip") is None
    assert verdict(page, "chip") == (verdicts.Status.DROPPED, ["InvalidPartitioned"])


def test_secure_prefix_needs_secure(page, context):
    set_cookie(page, key="__Secure-a", value="1")
    set_cookie(page, key="__Secure-b", value="1", secure=True)

    assert held(context, "__Secure-a") is None
    assert verdict(page, "__Secure-a") == (verdicts.Status.DROPPED, ["InvalidPrefix"])
    assert held(context, "__Secure-b") is not None
    assert verdict(page, "__Secure-b")[0] == verdicts.Status.KEPT


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({"secure": True, "path": "/"}, True),
        ({"secure": True, "path": "/cookies"}, False),
        ({"secure": True, "path": "/", "domain": "localhost"}, False),
        ({"path": "/"}, False),
    ],
)
def test_host_prefix_rules(page, context, fields, kept):
    set_cookie(page, key="__Host-x", value="1", **fields)

    assert (held(context, "__Host-x") is not None) is kept
    if kept:
        assert verdict(page, "__Host-x")[0] == verdicts.Status.KEPT
    else:
        assert verdict(page, "__Host-x")[1] == ["InvalidPrefix"]


def test_name_and_value_over_4096_bytes_is_dropped(page, context):
    set_cookie(page, key="big", value="v" * 4094)  # 4097 bytes
    set_cookie(page, key="fits", value="v" * 4092)  # 4096 bytes: the limit itself

    assert held(context, "big") is None
    assert verdict(page, "big") == (verdicts.Status.DROPPED, ["NameValuePairExceedsMaxSize"])
    assert held(context, "fits") is not None


def js_assign(page, name, value="1", send_anyway=True, **checks):
    page.fill("#js-name", name)
    page.fill("#js-value", value)
    for field in checks:
        page.check(f"#js-{field}")
    if send_anyway:
        page.check("#js-send-anyway")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    return page.locator("#js-verdict")


def test_javascript_panel_says_when_the_browser_took_a_cookie(page, context):
    page.goto("/cookies")

    verdict_box = js_assign(page, "from_js")

    assert verdict_box.get_attribute("data-taken") == "true"
    assert held(context, "from_js")["value"] == "1"


def test_javascript_panel_explains_a_prefix_drop(page, context):
    page.goto("/cookies")

    verdict_box = js_assign(page, "__Host-js")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "InvalidPrefix" in verdict_box.text_content()
    assert held(context, "__Host-js") is None


def test_javascript_panel_explains_samesite_none_without_secure(page, context):
    page.goto("/cookies")
    page.select_option("#js-samesite", "None")

    verdict_box = js_assign(page, "jsnone")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "SameSiteNoneInsecure" in verdict_box.text_content()


def test_javascript_panel_explains_an_httponly_overwrite(page, context):
    set_cookie(page, key="locked", value="server", httponly=True)

    verdict_box = js_assign(page, "locked", value="script")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "OverwriteHttpOnly" in verdict_box.text_content()
    assert held(context, "locked")["value"] == "server"


def test_javascript_panel_blocks_a_predicted_drop_unless_told(page, context):
    page.goto("/cookies")

    page.fill("#js-name", "__Secure-js")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-error:not([hidden])")

    assert "InvalidPrefix" not in page.locator("#js-error").text_content()
    assert "send anyway" in page.locator("#js-error").text_content()
    assert page.locator("#js-assigned").text_content() == "(nothing yet)"


def test_samesite_on_a_cross_site_navigation(page, context, live_server):
    """localhost and 127.0.0.1 are different sites: a link between them is cross-site."""
    set_cookie(page, key="ss_lax", value="1", samesite="Lax")
    set_cookie(page, key="ss_strict", value="1", samesite="Strict")
    other_site = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{other_site}/cookies")

    page.evaluate(
        """(target) => {
            const link = document.createElement("a");
            link.href = target;
            link.id = "cross-site-link";
            link.textContent = "back to localhost";
            document.body.append(link);
        }""",
        f"{live_server.url}/cookies",
    )
    page.click("#cross-site-link")
    page.wait_for_url(f"{live_server.url}/cookies")

    assert received(page, "ss_lax"), "Lax goes with a top-level GET navigation"
    assert not received(page, "ss_strict"), "Strict stays home on a cross-site navigation"
    assert held(context, "ss_strict") is not None
    assert verdict(page, "ss_lax")[0] == verdicts.Status.KEPT
    assert verdict(page, "ss_strict")[0] == verdicts.Status.NOT_SENT_CROSS_SITE


def test_http_prefix_needs_httponly(page, context):
    """The layered-cookies draft's __Http- prefix, which Chromium enforces."""
    set_cookie(page, key="__Http-a", value="1", secure=True)
    set_cookie(page, key="__Http-b", value="1", secure=True, httponly=True)
    set_cookie(page, key="__host-http-c", value="1", secure=True, path="/")

    assert held(context, "__Http-a") is None
    assert verdict(page, "__Http-a") == (verdicts.Status.DROPPED, ["InvalidPrefix"])
    assert held(context, "__Http-b")["httpOnly"] is True
    assert verdict(page, "__Http-b")[0] == verdicts.Status.KEPT_HIDDEN
    assert held(context, "__host-http-c") is None, "prefixes match case-insensitively"


def test_javascript_cannot_set_an_http_prefixed_cookie(page, context):
    page.goto("/cookies")
    page.check("#js-secure")

    verdict_box = js_assign(page, "__Http-js")

    assert verdict_box.get_attribute("data-taken") == "false"
    assert "InvalidPrefix" in verdict_box.text_content()
    assert held(context, "__Http-js") is None


def test_lifetime_is_capped_at_400_days(page, context):
    set_cookie(page, key="forever", value="1", max_age=500 * 86400)

    days = (held(context, "forever")["expires"] - time.time()) / 86400
    assert 399.9 < days <= 400.0
    codes = page.locator(".findings li.finding.warning").all_text_contents()
    assert any("LifetimeCapped" in text for text in codes)


def test_a_late_check_does_not_report_the_cookie_just_assigned(page, context):
    page.goto("/cookies")
    checks = []
    page.on("request", lambda r: checks.append(r.url) if "/cookies/check" in r.url else None)

    # Typed and assigned at once: the live check for the typing is still pending.
    page.fill("#js-name", "fresh")
    page.fill("#js-value", "1")
    page.click("#js-form button[type=submit]")
    page.wait_for_selector("#js-verdict[data-taken]")
    page.wait_for_timeout(1000)  # long past the live check's 250 ms delay

    findings = page.locator("#js-findings").text_content()
    assert "DuplicateName" not in findings
    assert page.locator("#js-verdict").get_attribute("data-taken") == "true"
    assert len(checks) == 1  # the assignment's own check; the pending one never ran
