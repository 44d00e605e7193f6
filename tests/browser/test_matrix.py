"""
The cross-site matrix, proven in Chromium and in Firefox: the lab on localhost
sets the test cookies, the launch page on 127.0.0.1 (another site) makes every
kind of request, and each cell of the results is what the server received and
what the prediction for that engine says. Where a browser disagrees, fix the
prediction (matrix.py).
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from cookies_app import matrix, matrix_runs
from cookies_app.models import MatrixProbe

pytestmark = pytest.mark.django_db(transaction=True)


# (method, Sec-Fetch-Site, -Mode, -Dest) of each request: the same in both engines.
FETCH_METADATA = {
    "image": ("GET", "cross-site", "no-cors", "image"),
    "fetch": ("GET", "cross-site", "no-cors", "empty"),
    "iframe": ("GET", "cross-site", "navigate", "iframe"),
    "window-open": ("GET", "cross-site", "navigate", "document"),
    "form-post": ("POST", "cross-site", "navigate", "document"),
    "link": ("GET", "cross-site", "navigate", "document"),
}


def run_matrix(page, context, lab_url):
    """The whole flow, as a learner clicks it; returns the results page's run id."""
    page.goto(f"{lab_url}/cookies/matrix")
    page.click("#matrix-start button[type=submit]")
    page.click("#launch-link")
    assert urlsplit(page.url).hostname != urlsplit(lab_url).hostname
    with context.expect_page() as popup:
        page.click("#run-embedded")
    popup.value.wait_for_load_state()
    page.wait_for_selector("#embedded-status[data-done=true]")
    page.click("#post-form button[type=submit]")
    page.wait_for_url("**/cookies/matrix/launch?*#step-link")
    page.click("#cross-site-link")
    page.wait_for_url(f"{lab_url}/cookies/matrix/results?*")
    return parse_qs(urlsplit(page.url).query)["run"][0]


def cells(page):
    """{(cookie, kind): (arrived, predicted)} as the results page shows them."""
    return {
        (cell["cookie"], cell["kind"]): (cell["arrived"] == "true", cell["predicted"] == "true")
        for cell in page.locator("#matrix-table tbody td").evaluate_all(
            """tds => tds.map((td) => ({cookie: td.closest("tr").dataset.cookie,
                kind: td.dataset.kind, arrived: td.dataset.arrived,
                predicted: td.dataset.predicted}))"""
        )
    }


@pytest.mark.parametrize("lab_host", ["localhost", "127.0.0.1"])
def test_every_cell_is_what_arrived_and_what_was_predicted(page, context, live_server, lab_host):
    lab_url = live_server.url.replace("localhost", lab_host)
    run_id = run_matrix(page, context, lab_url)

    run = matrix_runs.parse(run_id)
    received = {
        matrix.RequestKind(p.kind): set(p.arrived.split())
        for p in MatrixProbe.objects.filter(run=run.nonce)
    }
    assert set(received) == set(matrix.RequestKind), "every kind of request reached the probe"
    shown = cells(page)
    for name in matrix.TEST_COOKIE_NAMES:
        for kind in matrix.RequestKind:
            arrived, predicted = shown[(name, kind)]
            assert arrived == (name in received[kind]), (name, kind)
            assert arrived == predicted, f"{name} with {kind}: Chromium sent={arrived}"
    assert page.locator(".mismatch").count() == 0


def test_the_probe_sees_each_request_as_chromium_labels_it(page, context, live_server):
    run = matrix_runs.parse(run_matrix(page, context, live_server.url))

    metadata = {
        p.kind: (p.method, p.fetch_site, p.fetch_mode, p.fetch_dest)
        for p in MatrixProbe.objects.filter(run=run.nonce)
    }
    assert metadata == FETCH_METADATA


def run_matrix_in_firefox(page, lab_url):
    """run_matrix's clicks, through the Firefox driver (tests/browser/firefox.py)."""
    page.goto(f"{lab_url}/cookies/matrix")
    page.click("#matrix-start button[type=submit]")
    page.click("#launch-link")
    assert urlsplit(page.url).hostname != urlsplit(lab_url).hostname
    page.click("#run-embedded", navigates=False)  # its window.open opens a second page
    page.wait_for_selector("#embedded-status[data-done=true]")
    page.click("#post-form button[type=submit]")
    assert page.url.endswith("#step-link")
    page.click("#cross-site-link")
    assert "/cookies/matrix/results?" in page.url
    return parse_qs(urlsplit(page.url).query)["run"][0]


@pytest.mark.parametrize("lab_host", ["localhost", "127.0.0.1"])
def test_every_cell_is_what_firefox_sent_and_what_was_predicted_for_it(
    firefox, live_server, lab_host
):
    lab_url = live_server.url.replace("localhost", lab_host)
    context = firefox.new_context(lab_url)
    page = context.new_page()
    try:
        run = matrix_runs.parse(run_matrix_in_firefox(page, lab_url))
        shown = page.evaluate(
            """() => [...document.querySelectorAll("#matrix-table tbody td")].map((td) =>
                [td.closest("tr").dataset.cookie, td.dataset.kind, td.dataset.arrived,
                 td.dataset.predicted])"""
        )
        engine = page.evaluate("document.getElementById('matrix-engine').textContent")
        errors = page.javascript_errors()
    finally:
        context.close()

    assert engine == "Firefox 153 ESR"
    probes = MatrixProbe.objects.filter(run=run.nonce)
    received = {matrix.RequestKind(p.kind): set(p.arrived.split()) for p in probes}
    metadata = {p.kind: (p.method, p.fetch_site, p.fetch_mode, p.fetch_dest) for p in probes}
    assert metadata == FETCH_METADATA
    # Like Chromium, Firefox says it withholds third-party cookies from the subresources.
    assert {p.kind for p in probes if p.storage_access == "none"} == {"image", "fetch", "iframe"}
    assert set(received) == set(matrix.RequestKind)
    assert len(shown) == len(matrix.TEST_COOKIE_NAMES) * len(matrix.RequestKind)
    for name, kind, arrived, predicted in shown:
        assert (arrived == "true") == (name in received[matrix.RequestKind(kind)]), (name, kind)
        assert arrived == predicted, f"{name} with {kind}: Firefox sent={arrived}"
    # The lab refuses to be framed, as the launch page says; Firefox reports it as an error.
    assert all("frame-ancestors" in error for error in errors), errors
