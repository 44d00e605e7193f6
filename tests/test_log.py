import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cookies_app.models import CookieEvent, Direction, IssuedCookie, ReceivedCookie
from tests.conftest import set_cookie_form


def inserts(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]


@pytest.mark.django_db
def test_one_row_per_received_cookie(client, lab_url):
    client.cookies["a"] = "1"
    client.cookies["b"] = "2"

    client.get(lab_url, HTTP_USER_AGENT="pytest-agent")

    rows = ReceivedCookie.objects.order_by("name")
    assert [(r.name, r.value, r.size) for r in rows] == [("a", "1", 2), ("b", "2", 2)]
    assert {(r.method, r.path, r.user_agent) for r in rows} == {("GET", "/cookies", "pytest-agent")}
    assert len({r.request_id for r in rows}) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 10, 60])
def test_one_insert_per_request_whatever_the_cookie_count(client, lab_url, count):
    for i in range(count):
        client.cookies[f"c{i}"] = str(i)

    with CaptureQueriesContext(connection) as queries:
        client.get(lab_url)

    assert len(inserts(queries)) == 1
    assert ReceivedCookie.objects.count() == count


@pytest.mark.django_db
def test_lab_get_query_count_does_not_grow_with_cookies(lab_client, lab_url):
    """One INSERT, and a fixed number of reads for the round-trip verdicts."""
    lab_client.post(lab_url, set_cookie_form())
    with CaptureQueriesContext(connection) as few:
        lab_client.get(lab_url)
    for i in range(30):
        lab_client.post(lab_url, set_cookie_form(key=f"c{i}"))
    with CaptureQueriesContext(connection) as many:
        lab_client.get(lab_url)

    assert len(many) == len(few) <= 4
    assert len(inserts(many)) == 1


@pytest.mark.django_db
def test_issued_and_received_share_the_single_insert(lab_client, lab_url):
    with CaptureQueriesContext(connection) as queries:
        lab_client.post(lab_url, set_cookie_form())

    assert len(inserts(queries)) == 1
    issued = IssuedCookie.objects.get(name="flavor")
    assert issued.method == "POST"
    assert ReceivedCookie.objects.filter(request_id=issued.request_id).exists()


@pytest.mark.django_db
def test_issued_cookie_keeps_every_attribute_and_the_header(lab_client, lab_url):
    lab_client.post(
        lab_url,
        set_cookie_form(
            max_age="60",
            domain="testserver",
            secure="on",
            httponly="on",
            samesite="None",
            partitioned="on",
        ),
        secure=True,
    )

    row = IssuedCookie.objects.get(name="flavor")
    assert (row.value, row.max_age, row.cookie_path, row.domain) == ("chip", 60, "/", "testserver")
    assert (row.secure, row.httponly, row.samesite, row.partitioned) == (True, True, "None", True)
    assert row.expires.endswith(" GMT")
    assert row.header.startswith("flavor=chip; Domain=testserver; expires=")
    assert row.header.endswith("HttpOnly; Max-Age=60; Partitioned; Path=/; SameSite=None; Secure")


@pytest.mark.django_db
def test_visitor_id_groups_a_browsers_history(client, lab_url):
    client.get(lab_url)
    client.cookies["a"] = "1"
    client.get(lab_url)

    visitor = client.cookies["cookielab_visitor"].value
    assert len(visitor) == 32
    assert set(CookieEvent.objects.values_list("visitor_id", flat=True)) == {visitor}
    assert IssuedCookie.objects.filter(name="cookielab_visitor", visitor_id=visitor).count() == 1


@pytest.mark.django_db
def test_forged_visitor_id_is_replaced(client, lab_url):
    client.cookies["cookielab_visitor"] = "<not-an-id>"

    response = client.get(lab_url)

    assert len(response.cookies["cookielab_visitor"].value) == 32


SECRETS = {
    "sessionid": "s3ss10n-value",
    "csrftoken": "csrf-value-123",
    "my_auth": "auth-value-456",
    "api_key": "key-value-789",
    "PASSWORD": "hunter2-value",
    "x_sid": "sid-value-000",
    "refresh_token": "token-value-111",
    "client_secret": "secret-value-222",
}


@pytest.mark.django_db
def test_sensitive_received_values_are_never_stored_in_clear(client, lab_url):
    for name, value in SECRETS.items():
        client.cookies[name] = value

    client.get(lab_url)

    rows = {r.name: r for r in ReceivedCookie.objects.all()}
    for name, value in SECRETS.items():
        assert rows[name].redacted is True
        assert value not in rows[name].value
        assert rows[name].value.startswith(f"[redacted: {len(value)} bytes, hmac-sha256 ")
    assert rows["sessionid"].size == len("sessionid") + len(SECRETS["sessionid"])


@pytest.mark.django_db
def test_redaction_is_keyed_and_stable(client, lab_url):
    client.cookies["token"] = "same"
    client.get(lab_url)
    client.get(lab_url)

    values = set(ReceivedCookie.objects.filter(name="token").values_list("value", flat=True))
    assert len(values) == 1


@pytest.mark.django_db
def test_sensitive_issued_values_are_redacted_in_value_and_header(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="auth_token", value="top-secret-value"))

    row = IssuedCookie.objects.get(name="auth_token")
    assert row.redacted is True
    assert "top-secret-value" not in row.value
    assert "top-secret-value" not in row.header
    assert row.header == "auth_token=[redacted]; Path=/"


@pytest.mark.django_db
def test_plain_values_are_stored_as_they_are(client, lab_url):
    client.cookies["flavor"] = "chocolate"

    client.get(lab_url)

    row = ReceivedCookie.objects.get(name="flavor")
    assert (row.value, row.redacted, row.truncated) == ("chocolate", False, False)


@pytest.mark.django_db
def test_redaction_pattern_is_configurable(client, lab_url, settings):
    settings.COOKIE_LAB_REDACT_PATTERN = r"^flavor$"
    client.cookies["flavor"] = "chocolate"

    client.get(lab_url)

    assert ReceivedCookie.objects.get(name="flavor").redacted is True


@pytest.mark.django_db
def test_long_values_are_truncated_with_original_size_kept(client, lab_url, settings):
    client.cookies["big"] = "v" * 5000

    client.get(lab_url)

    row = ReceivedCookie.objects.get(name="big")
    assert row.truncated is True
    assert len(row.value.encode()) == settings.COOKIE_LAB_LOG_VALUE_CAP
    assert row.size == len("big") + 5000


@pytest.mark.django_db
def test_cookie_flood_is_capped_and_counted(client, lab_url, settings):
    for i in range(100):
        client.cookies[f"c{i:03d}"] = "x"

    client.get(lab_url)

    cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
    rows = ReceivedCookie.objects.all()
    assert rows.count() == cap
    assert set(rows.values_list("unlogged_in_request", flat=True)) == {100 - cap}


@pytest.mark.django_db
def test_issued_cookies_are_capped_too(rf, settings):
    from django.http import HttpResponse

    from cookies_app.cookie_log import RequestInfo, issued_events

    settings.COOKIE_LAB_LOG_MAX_COOKIES = 3
    response = HttpResponse()
    for i in range(5):
        response.set_cookie(f"c{i}", "v")
    info = RequestInfo.from_request(rf.get("/cookies"), "v" * 32)

    events = issued_events(info, response, timezone.now())

    assert [e.name for e in events] == ["c0", "c1", "c2"]
    assert {e.unlogged_in_request for e in events} == {2}


@pytest.mark.django_db
def test_failed_post_logs_what_was_received_and_nothing_issued(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="a b"))

    post_rows = CookieEvent.objects.filter(method="POST")
    assert post_rows.exists()
    assert {r.direction for r in post_rows} == {Direction.RECEIVED}
