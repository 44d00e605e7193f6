"""The admin dashboard in Chromium: charts drawn under the CSP, bars that link, both themes."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "dashboard-pw"


@pytest.fixture
def staff_page(page, django_user_model):
    django_user_model.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    # Some traffic of this very browser, then the login.
    page.goto("/cookies")
    page.fill("#id_key", "theme")
    page.fill("#id_value", "dark")
    page.click("#server-form button[type=submit]")
    page.wait_for_url("**?sent=*")
    page.goto("/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def chart_state(page, key):
    return page.evaluate(
        """key => {
            const chart = Chart.getChart(document.querySelector(`canvas[data-chart="${key}"]`));
            return chart && {
                values: chart.data.datasets[0].data,
                labels: chart.data.labels,
                tick: chart.options.scales.x.ticks.color,
            };
        }""",
        key,
    )


def test_charts_are_drawn_without_csp_violations(staff_page):
    violations = []
    staff_page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0
    )
    staff_page.reload()

    canvases = staff_page.locator("canvas[data-chart]")
    drawn = staff_page.evaluate(
        "[...document.querySelectorAll('canvas[data-chart]')].filter(c => Chart.getChart(c)).length"
    )
    # Every chart with rows is drawn (an empty one says so instead).
    assert drawn == canvases.count() >= 10
    browsers = chart_state(staff_page, "browsers")
    assert browsers["labels"] == ["HeadlessChrome"]
    assert sum(browsers["values"]) >= 3  # the lab, its POST, the redirect
    assert violations == []


def test_a_bar_opens_the_list_behind_it(staff_page):
    canvas = staff_page.locator('canvas[data-chart="browsers"]')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    # The one bar starts at the value axis and runs right; click inside it.
    point = staff_page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector('canvas[data-chart="browsers"]'));
            const bar = chart.getDatasetMeta(0).data[0];
            return {x: (bar.base + bar.x) / 2, y: bar.y};
        }"""
    )
    staff_page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    staff_page.wait_for_url(
        lambda url: "/admin/cookies_app/request/" in url and "browser=HeadlessChrome" in url
    )

    assert staff_page.locator("#result_list tbody tr").count() >= 3


def test_charts_follow_the_dark_theme(staff_page):
    light = chart_state(staff_page, "browsers")["tick"]

    staff_page.emulate_media(color_scheme="dark")
    staff_page.wait_for_function(
        """light => Chart.getChart(document.querySelector('canvas[data-chart="browsers"]'))
            .options.scales.x.ticks.color !== light""",
        arg=light,
    )
    dark = chart_state(staff_page, "browsers")["tick"]
    body = staff_page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--body-fg').trim()"
    )
    assert dark == body and dark != light


def test_every_table_number_is_a_link(staff_page):
    numbers = staff_page.locator(".dashboard-chart td.count")
    links = staff_page.locator(".dashboard-chart td.count a")

    assert numbers.count() > 40
    assert links.count() == numbers.count()
