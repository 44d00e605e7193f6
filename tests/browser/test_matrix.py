"""
The cross-site matrix, proven in Chromium: the lab on localhost sets the test
cookies, the launch page on 127.0.0.1 (another site) makes every kind of
request, and each cell of the results is what the server received and what the
prediction says. Where Chromium disagrees, fix the prediction (matrix.py).
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from cookies_app import matrix, matrix_runs
from cookies_app.models import MatrixProbe

pytestmark = pytest.mark.django_db(transaction=True)


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
    assert metadata == {
        "image": ("GET", "cross-site", "no-cors", "image"),
        "fetch": ("GET", "cross-site", "no-cors", "empty"),
        "iframe": ("GET", "cross-site", "navigate", "iframe"),
        "window-open": ("GET", "cross-site", "navigate", "document"),
        "form-post": ("POST", "cross-site", "navigate", "document"),
        "link": ("GET", "cross-site", "navigate", "document"),
    }
