"""The log's CSV and JSON export: filtered like the changelist, streamed."""

import csv
import io
import json
import tracemalloc

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.urls import reverse

from cookies_app.models import Request
from tests import factories

EXPORT = "admin:cookies_app_request_export"
JAR_EXPORT = "admin:cookies_app_jarcookie_export"


def body(response):
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db
def test_csv_export_has_a_header_and_every_row(admin_client):
    factories.requests(factories.visitor(), 5)

    response = admin_client.get(reverse(EXPORT, args=["csv"]))

    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert len(rows) == 5
    assert {r["seq"] for r in rows} == {"1", "2", "3", "4", "5"}


@pytest.mark.django_db
def test_json_export_parses(admin_client):
    owner = factories.visitor()
    factories.jar_cookie(owner, "flavor", value="chip")

    data = json.loads(body(admin_client.get(reverse(JAR_EXPORT, args=["json"]))))

    assert [(r["visitor"], r["name"], r["value"]) for r in data] == [(owner.key, "flavor", "chip")]


@pytest.mark.django_db
def test_export_follows_the_changelist_filters_and_search(admin_client):
    owner = factories.visitor()
    factories.requests(owner, 4, method="GET")
    factories.requests(owner, 2, method="POST", path="/cookies/sub/")

    url = reverse(EXPORT, args=["json"])
    posts = json.loads(body(admin_client.get(url, {"method": "POST"})))
    searched = json.loads(body(admin_client.get(url, {"q": owner.key, "method": "POST"})))

    assert {r["method"] for r in posts} == {"POST"} and len(posts) == 2
    assert {r["path"] for r in searched} == {"/cookies/sub/"} and len(searched) == 2


@pytest.mark.django_db
def test_changelist_links_to_export_with_the_current_filters(admin_client):
    response = admin_client.get(reverse("admin:cookies_app_request_changelist"), {"method": "POST"})

    content = response.content.decode()
    assert f"{reverse(EXPORT, args=['csv'])}?method=POST" in content
    assert f"{reverse(EXPORT, args=['json'])}?method=POST" in content


@pytest.mark.django_db
def test_export_neutralises_spreadsheet_formulas(admin_client):
    factories.jar_cookie(factories.visitor(), "f", value='=HYPERLINK("http://x")')

    rows = list(
        csv.DictReader(io.StringIO(body(admin_client.get(reverse(JAR_EXPORT, args=["csv"])))))
    )

    assert rows[0]["value"].startswith("'=")


@pytest.mark.django_db
def test_export_is_staff_only(client):
    url = reverse(EXPORT, args=["csv"])

    assert client.get(url).status_code == 302
    client.force_login(User.objects.create_user("plain", password="pw-12345-long", is_staff=True))
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_unknown_export_format_is_a_plain_text_400(admin_client):
    response = admin_client.get(reverse(EXPORT, args=["<meta http-equiv=refresh>"]))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert b"csv or json" in response.content
    assert b"<meta" not in response.content


@pytest.mark.django_db
def test_bad_filter_is_a_400(admin_client):
    response = admin_client.get(reverse(EXPORT, args=["csv"]), {"at__gte": "not a date"})

    assert response.status_code == 400


@pytest.mark.django_db
def test_streamed_export_memory_stays_flat(admin_client):
    """The export iterates the cursor: peak memory grows far less than the output."""
    owner = factories.visitor()

    def peak_while_streaming(rows):
        Request.objects.all().delete()
        owner.requests = 0
        for start in range(0, rows, 5000):
            factories.requests(owner, min(5000, rows - start), path="/p" * 100)
        response = admin_client.get(reverse(EXPORT, args=["csv"]))
        tracemalloc.start()
        size = sum(len(chunk) for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size, peak

    small_size, small_peak = peak_while_streaming(4_000)
    large_size, large_peak = peak_while_streaming(40_000)

    print(
        f"\nexport: {small_size / 1e6:.1f} MB peak {small_peak / 1e6:.2f} MB; "
        f"{large_size / 1e6:.1f} MB peak {large_peak / 1e6:.2f} MB"
    )
    assert large_size > 9 * small_size
    assert large_peak < large_size / 3, "the export held the output in memory"
    assert large_peak < 1.5 * small_peak, "memory grew with the row count"


@pytest.mark.django_db
def test_json_export_escapes_markup(admin_client):
    factories.jar_cookie(factories.visitor(), "evil", value="</script><b>&")

    text = body(admin_client.get(reverse(JAR_EXPORT, args=["json"])))

    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)[0]["value"] == "</script><b>&"
