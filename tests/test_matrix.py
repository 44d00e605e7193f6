"""The cross-site matrix: predictions (plain functions), run ids, and the views."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cookies_app import matrix, matrix_runs, rules
from cookies_app.matrix import RequestKind
from cookies_app.models import MatrixProbe

pytestmark = pytest.mark.django_db

COOKIES = {cookie.name: cookie for cookie in matrix.TEST_COOKIES}
SUBRESOURCES = (RequestKind.IMAGE, RequestKind.FETCH, RequestKind.IFRAME)
YOUNG = timedelta(seconds=10)
OLD = timedelta(minutes=3)


def predict(
    name, kind, age=YOUNG, host="localhost:8000", scheme="http", third_party=True, engine="chromium"
):
    return matrix.predict(
        COOKIES[name],
        kind,
        scheme=scheme,
        host=host,
        age=age,
        third_party_cookies=third_party,
        engine=rules.Engine(engine),
    )


# --- predictions -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(RequestKind))
def test_strict_stays_home_on_every_cross_site_request(kind):
    assert predict("m_strict", kind).sent is False


@pytest.mark.parametrize(
    ("kind", "sent"),
    [
        (RequestKind.LINK, True),
        (RequestKind.WINDOW_OPEN, True),
        (RequestKind.FORM_POST, False),
        *((kind, False) for kind in SUBRESOURCES),
    ],
)
def test_lax_goes_only_with_top_level_get(kind, sent):
    assert predict("m_lax", kind).sent is sent


def test_unspecified_rides_a_post_within_two_minutes():
    prediction = predict("m_unspecified", RequestKind.FORM_POST, age=YOUNG)
    assert prediction.sent is True
    assert "two minutes" in prediction.why


def test_unspecified_behaves_as_lax_after_two_minutes():
    assert predict("m_unspecified", RequestKind.FORM_POST, age=OLD).sent is False
    assert predict("m_unspecified", RequestKind.LINK, age=OLD).sent is True
    assert predict("m_unspecified", RequestKind.IMAGE, age=YOUNG).sent is False


def test_explicit_lax_gets_no_two_minute_window():
    assert predict("m_lax", RequestKind.FORM_POST, age=YOUNG).sent is False


@pytest.mark.parametrize("kind", list(RequestKind))
def test_none_secure_goes_everywhere_with_third_party_cookies(kind):
    assert predict("m_none", kind).sent is True


@pytest.mark.parametrize("kind", SUBRESOURCES)
def test_none_secure_stays_off_subresources_when_third_party_cookies_are_blocked(kind):
    prediction = predict("m_none", kind, third_party=False)
    assert prediction.sent is False
    assert "Sec-Fetch-Storage-Access" in prediction.why


def test_blocked_third_party_cookies_leave_top_level_requests_alone():
    assert predict("m_none", RequestKind.FORM_POST, third_party=False).sent is True


@pytest.mark.parametrize(("kind", "sent"), [(k, k.top_level) for k in RequestKind])
def test_partitioned_cookie_is_read_only_in_the_lab_sites_partition(kind, sent):
    assert predict("m_partitioned", kind).sent is sent


@pytest.mark.parametrize("name", ["m_none", "m_partitioned"])
def test_secure_cookies_are_never_stored_from_plain_http_elsewhere(name):
    prediction = predict(name, RequestKind.LINK, host="lab.example.com")
    assert prediction.sent is False
    assert "SecureOnly" in prediction.why


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000"])
def test_secure_cookies_are_kept_on_loopback_over_http(host):
    assert predict("m_none", RequestKind.LINK, host=host).sent is True


@pytest.mark.parametrize(
    ("storage_access", "allowed"), [("none", False), ("", True), ("active", True)]
)
def test_storage_access_header_tells_third_party_cookies(storage_access, allowed):
    assert matrix.allows_third_party(storage_access) is allowed


@pytest.mark.parametrize(
    ("host", "other"),
    [
        ("localhost:8000", "127.0.0.1:8000"),
        ("127.0.0.1:8000", "localhost:8000"),
        ("localhost", "127.0.0.1"),
        ("lab.example.com", None),
        ("[::1]:8000", None),
    ],
)
def test_other_site(host, other):
    assert matrix.other_site(host) == other


def test_attributes_spell_the_set_cookie_flags():
    assert matrix.attributes(COOKIES["m_partitioned"]) == "SameSite=None; Secure; Partitioned"
    assert matrix.attributes(COOKIES["m_unspecified"]) == "no SameSite"


# --- run ids ---------------------------------------------------------------


def test_run_id_round_trips():
    run = matrix_runs.parse(matrix_runs.SIGNER.sign("abc"))
    assert run.nonce == "abc"


@pytest.mark.parametrize(
    ("run_id", "message"),
    [
        ("", "Missing run"),
        ("abc", "not a run id"),
        ("abc:1xX1MK:forged", "not a run id"),
        ("x" * 500, "not a run id"),
    ],
)
def test_bad_run_ids_are_refused(run_id, message):
    with pytest.raises(matrix_runs.BadRun, match=message):
        matrix_runs.parse(run_id)


def test_expired_run_is_refused(monkeypatch):
    run_id = matrix_runs.SIGNER.sign("abc")
    monkeypatch.setattr(matrix_runs, "RUN_MAX_AGE", timedelta(seconds=-1))
    with pytest.raises(matrix_runs.BadRun, match="expired"):
        matrix_runs.parse(run_id)


# --- views -----------------------------------------------------------------


def start_run(client):
    response = client.post(reverse("cookies_app:matrix"))
    assert response.status_code == 303
    return response, response["Location"].split("run=")[1]


def probe_url(kind, run_id):
    return reverse("cookies_app:matrix-probe", args=[kind]) + f"?run={run_id}"


def test_matrix_page_explains_and_links_back_to_the_lab(client):
    response = client.get(reverse("cookies_app:matrix"), HTTP_HOST="localhost:8000")
    assert response.status_code == 200
    assert reverse("cookies_app:lab") in response.text
    assert 'id="matrix-start"' in response.text


def test_start_sets_the_five_test_cookies(client):
    response, _ = start_run(client)
    lines = {name: response.cookies[name].OutputString() for name in matrix.TEST_COOKIE_NAMES}
    assert "SameSite=Strict" in lines["m_strict"]
    assert "SameSite=Lax" in lines["m_lax"]
    assert "SameSite=None" in lines["m_none"] and "Secure" in lines["m_none"]
    assert "SameSite" not in lines["m_unspecified"]
    assert "Partitioned" in lines["m_partitioned"] and "Secure" in lines["m_partitioned"]
    assert all("Path=/cookies/matrix/" in line for line in lines.values())


def test_after_starting_the_page_links_to_the_other_site(client):
    _, run_id = start_run(client)
    response = client.get(
        f"{reverse('cookies_app:matrix')}?run={run_id}", HTTP_HOST="localhost:8000"
    )
    assert "http://127.0.0.1:8000/cookies/matrix/launch?run=" in response.text


def test_start_needs_csrf():
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("cookies_app:matrix")).status_code == 403
    assert not MatrixProbe.objects.exists()


def test_probe_records_the_cookies_of_this_run_only(client):
    _, run_id = start_run(client)
    client.cookies["m_lax"] = "stale-from-another-run"
    response = client.get(
        probe_url("image", run_id),
        HTTP_SEC_FETCH_SITE="cross-site",
        HTTP_SEC_FETCH_MODE="no-cors",
        HTTP_SEC_FETCH_DEST="image",
        HTTP_SEC_FETCH_STORAGE_ACCESS="none",
    )
    assert response.status_code == 204
    row = MatrixProbe.objects.get()
    assert set(row.arrived.split()) == set(matrix.TEST_COOKIE_NAMES) - {"m_lax"}
    assert (row.fetch_site, row.fetch_mode, row.fetch_dest) == ("cross-site", "no-cors", "image")
    assert row.storage_access == "none"


def test_probe_rows_are_bounded_per_run(client):
    _, run_id = start_run(client)
    for _ in range(3):
        for kind in RequestKind:
            client.get(probe_url(kind, run_id))
    assert MatrixProbe.objects.count() == len(RequestKind)


def test_a_new_run_deletes_expired_rows(client):
    _, run_id = start_run(client)
    client.get(probe_url("fetch", run_id))
    MatrixProbe.objects.update(at=MatrixProbe.objects.get().at - timedelta(hours=2))
    start_run(client)
    assert not MatrixProbe.objects.exists()


def test_cross_site_form_post_is_accepted_without_csrf_and_goes_back():
    client = Client(enforce_csrf_checks=True)
    run_id = matrix_runs.SIGNER.sign("abc")
    response = client.post(probe_url("form-post", run_id), HTTP_HOST="localhost:8000")
    assert response.status_code == 303
    assert response["Location"].startswith("http://127.0.0.1:8000/cookies/matrix/launch?run=")
    assert MatrixProbe.objects.get().method == "POST"


def test_link_probe_goes_to_the_results(client):
    run_id = matrix_runs.SIGNER.sign("abc")
    response = client.get(probe_url("link", run_id))
    assert response.status_code == 303
    assert response["Location"].startswith(reverse("cookies_app:matrix-results"))


@pytest.mark.parametrize("kind", ["nope", "<script>", "LINK"])
def test_unknown_kind_is_a_400_with_the_choices(client, kind):
    response = client.get(probe_url(kind, matrix_runs.SIGNER.sign("abc")))
    assert response.status_code == 400
    assert "Unknown kind of request" in response.text
    assert "<script>" not in response.text
    assert not MatrixProbe.objects.exists()


@pytest.mark.parametrize("name", ["matrix-results", "matrix-launch"])
@pytest.mark.parametrize("run_id", ["", "forged", "a:b:c", "%00"])
def test_bad_run_is_a_400(client, name, run_id):
    url = f"{reverse(f'cookies_app:{name}')}?run={run_id}"
    response = client.get(url, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 400
    assert "run" in response.text
    assert response["Content-Type"].startswith("text/plain")


def test_bad_run_on_the_probe_is_a_400(client):
    response = client.get(probe_url("image", "forged"))
    assert response.status_code == 400
    assert not MatrixProbe.objects.exists()


def test_launch_needs_a_second_site_name(client, settings):
    settings.ALLOWED_HOSTS = ["lab.example.com"]
    url = f"{reverse('cookies_app:matrix-launch')}?run={matrix_runs.SIGNER.sign('abc')}"
    response = client.get(url, HTTP_HOST="lab.example.com")
    assert response.status_code == 400
    assert "two site names" in response.text


def test_launch_page_may_reach_exactly_the_lab_origin(client):
    url = f"{reverse('cookies_app:matrix-launch')}?run={matrix_runs.SIGNER.sign('abc')}"
    response = client.get(url, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    lab = "http://localhost:8000"
    assert policy["img-src"] == f"'self' data: {lab}"
    assert policy["connect-src"] == f"'self' {lab}"
    assert policy["frame-src"] == lab
    assert policy["form-action"] == f"'self' {lab}"
    assert policy["frame-ancestors"] == "'none'"
    # No inline script: the one script is a static file with the nonce; the
    # probe URLs come as a JSON data block.
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert [tag for tag in scripts if 'type="application/json"' not in tag] == [
        tag for tag in scripts if "nonce=" in tag and "src=" in tag
    ]
    assert len(scripts) == 2


def test_other_pages_keep_the_strict_policy(client):
    response = client.get(reverse("cookies_app:matrix"), HTTP_HOST="localhost:8000")
    assert "frame-src" not in response["Content-Security-Policy"]
    assert "form-action 'self'" in response["Content-Security-Policy"]


def test_results_show_each_cell_beside_its_prediction(client):
    _, run_id = start_run(client)
    client.get(probe_url("link", run_id))
    response = client.get(f"{reverse('cookies_app:matrix-results')}?run={run_id}")
    assert response.status_code == 200
    text = response.text
    assert 'data-cookie="m_strict"' in text
    assert "✔ arrived" in text and "✘ not sent" in text and "not recorded" in text
    assert "Strict stays home" in text


# --- Firefox (observed in Firefox 153 ESR: tests/browser/test_matrix.py) -------


@pytest.mark.parametrize("age", [YOUNG, OLD])
@pytest.mark.parametrize("kind", [RequestKind.FORM_POST, RequestKind.LINK, RequestKind.WINDOW_OPEN])
def test_firefox_sends_a_cookie_without_samesite_on_every_top_level_request(kind, age):
    prediction = predict("m_unspecified", kind, age=age, engine="firefox")

    assert prediction.sent is True
    assert "Firefox does not treat it as Lax" in prediction.why


@pytest.mark.parametrize(("third_party", "sent"), [(True, True), (False, False)])
@pytest.mark.parametrize("kind", SUBRESOURCES)
def test_firefox_subresources_follow_third_party_cookies(kind, third_party, sent):
    prediction = predict("m_unspecified", kind, third_party=third_party, engine="firefox")

    assert prediction.sent is sent


@pytest.mark.parametrize("name", ["m_strict", "m_lax", "m_none", "m_partitioned"])
@pytest.mark.parametrize("kind", list(RequestKind))
@pytest.mark.parametrize("third_party", [True, False])
def test_the_engines_agree_on_the_cookies_that_say_their_samesite(name, kind, third_party):
    chromium = predict(name, kind, age=OLD, third_party=third_party)

    assert predict(name, kind, age=OLD, third_party=third_party, engine="firefox") == chromium


@pytest.mark.parametrize(
    ("user_agent", "first", "ran_it"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
            "Firefox",
            "Firefox 153 ESR",
        ),
        ("curl/8.5.0", "Chromium", "another browser, compared with Chromium"),
    ],
)
def test_results_show_both_engines_the_visiting_one_first(client, user_agent, first, ran_it):
    _, run_id = start_run(client)
    client.get(probe_url("form-post", run_id))

    response = client.get(
        f"{reverse('cookies_app:matrix-results')}?run={run_id}", headers={"User-Agent": user_agent}
    )

    cell = response.context["rows"][3][2][4]  # m_unspecified, form POST
    assert [label.split()[0] for label, _ in cell.predictions] == [
        first,
        *{"Chromium", "Firefox"} - {first},
    ]
    assert response.text.count("Firefox 153 ESR predicts") == 30
    assert response.text.count("Chromium 156 predicts") == 30
    assert f'<span id="matrix-engine">{ran_it}</span>' in response.text


def test_results_table_matches_recorded_rows():
    run = matrix_runs.Run("abc", started=timezone.now())
    MatrixProbe.objects.create(
        run="abc",
        kind="image",
        started=run.started,
        method="GET",
        arrived="m_none",
        storage_access="",
    )
    recorded = matrix_runs.probes(run)
    rows = matrix_runs.table(run, recorded, scheme="http", host="localhost", now=run.started)
    cells = {(c.name, cell.kind): cell for c, _, cells in rows for cell in cells}
    image = cells[("m_none", RequestKind.IMAGE)]
    assert image.recorded and image.arrived and image.as_predicted
    assert not cells[("m_none", RequestKind.LINK)].recorded


def test_the_probe_keeps_names_never_values(client):
    _, run_id = start_run(client)
    client.get(probe_url("iframe", run_id))
    assert set(MatrixProbe.objects.get().arrived.split()) <= set(matrix.TEST_COOKIE_NAMES)


@pytest.mark.django_db
def test_hostile_sec_fetch_headers_are_stored_escaped_and_capped(client):
    from django.http import HttpResponse

    from cookies_app import matrix_runs
    from cookies_app.models import FETCH_SITE_MAX, MatrixProbe

    run_id = matrix_runs.start(HttpResponse())
    response = client.get(
        f"/cookies/matrix/probe/image?run={run_id}",
        HTTP_SEC_FETCH_SITE="cross\x00site" + "x" * 500,
        HTTP_SEC_FETCH_DEST="\x07",
    )

    assert response.status_code < 500
    probe = MatrixProbe.objects.get()
    assert probe.fetch_site.startswith("cross\\x00site")
    assert len(probe.fetch_site) <= FETCH_SITE_MAX
    assert probe.fetch_dest == "\\x07"
