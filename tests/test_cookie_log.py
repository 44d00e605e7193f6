"""The log's write path: one Request row a request, and only what changed."""

import json
import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils.crypto import salted_hmac

from cookies_app import cookie_log, visit
from cookies_app.models import (
    HOST_MAX,
    PATH_MAX,
    USER_AGENT_MAX,
    ChangeKind,
    CookieChange,
    JarCookie,
    Request,
    UserAgent,
    Visitor,
)
from tests.conftest import set_cookie_form

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.IGNORECASE)


def writes(queries):
    return [q["sql"] for q in queries if WRITES.match(q["sql"])]


def kinds(name):
    return list(
        CookieChange.objects.filter(cookie__name=name).order_by("id").values_list("kind", flat=True)
    )


def jar(name):
    return JarCookie.objects.select_related("visitor").get(name=name)


@pytest.mark.django_db
def test_one_request_row_per_request(client, lab_url):
    client.cookies["a"] = "1"
    client.cookies["b"] = "2"

    client.get(lab_url, HTTP_USER_AGENT="pytest-agent", HTTP_SEC_FETCH_SITE="none")

    [row] = Request.objects.select_related("user_agent")
    assert (row.method, row.path, row.host, row.status, row.fetch_site) == (
        "GET",
        "/cookies",
        "testserver",
        200,
        "none",
    )
    assert row.user_agent.text == "pytest-agent"
    assert row.cookie_count == 2
    assert {c.name for c in JarCookie.objects.filter(id__in=row.carried_ids)} == {"a", "b"}


@pytest.mark.django_db
def test_user_agent_is_stored_once(client, lab_url):
    for _ in range(5):
        client.get(lab_url, HTTP_USER_AGENT="the same agent")

    assert UserAgent.objects.filter(text="the same agent").count() == 1
    assert Request.objects.filter(user_agent__text="the same agent").count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 10, 60])
def test_unchanged_cookies_write_only_the_request(lab_client, lab_url, count):
    for i in range(count):
        lab_client.cookies[f"c{i}"] = str(i)
    lab_client.get(lab_url)
    changes = CookieChange.objects.count()

    with CaptureQueriesContext(connection) as queries:
        lab_client.get(lab_url)

    assert CookieChange.objects.count() == changes
    inserts = [sql for sql in writes(queries) if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2
    assert "cookies_app_request" in inserts[0]
    # The dashboard's counts: one upsert, whatever the cookie count.
    assert "cookies_app_tally" in inserts[1] and "ON CONFLICT" in inserts[1]
    # The visitor's counter, its lock and logged order, its latest request; no
    # write per cookie.
    assert len(writes(queries)) == 5


@pytest.mark.django_db
def test_lab_get_query_count_does_not_grow_with_history(lab_client, lab_url):
    def lab_queries():
        with CaptureQueriesContext(connection) as queries:
            lab_client.get(lab_url)
        return [q["sql"] for q in queries]

    lab_client.post(lab_url, set_cookie_form(key="first"))
    few = lab_queries()
    for i in range(30):
        lab_client.post(lab_url, set_cookie_form(key=f"c{i}"))
    many = lab_queries()

    assert len(many) == len(few), many
    # Visitor + counter, the jar (3 reads) for the page; then in one transaction
    # the visitor's lock, the jar again, the previous request's Set-Cookie lines
    # and their verdicts, the user agent, the request, the new cookie's change
    # and jar update, the visitor's latest request and the dashboard's tallies.
    assert len(many) <= 19, many


@pytest.mark.django_db
def test_every_read_is_bounded_by_visitor_or_a_limit(lab_client, lab_url):
    for i in range(5):
        lab_client.post(lab_url, set_cookie_form(key=f"c{i}"))

    with CaptureQueriesContext(connection) as queries:
        lab_client.get(lab_url)
        lab_client.get("/api/cookies/export")
        lab_client.get("/api/cookies/signed")
        lab_client.get("/cookies/check", {"source": "server", "key": "k", "value": "v"})

    for query in queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT") and "cookies_app" in sql:
            assert re.search(r'"visitor_id" = |"key" = |"text" (=|IN) |\bLIMIT\b|"id" = ', sql), sql


@pytest.mark.django_db
def test_changes_are_logged_when_they_happen(lab_client, lab_url):
    lab_client.cookies["flavor"] = "chip"
    lab_client.get(lab_url)  # appears
    lab_client.get(lab_url)  # unchanged: nothing
    lab_client.cookies["flavor"] = "mint"
    lab_client.get(lab_url)  # changed
    del lab_client.cookies["flavor"]
    lab_client.get(lab_url)  # stopped coming back

    assert kinds("flavor") == [ChangeKind.APPEARED, ChangeKind.CHANGED, ChangeKind.STOPPED]
    row = jar("flavor")
    assert (row.value, row.present, row.times_seen) == ("mint", False, 3)
    assert row.stopped_at is not None


@pytest.mark.django_db
def test_times_and_last_seen_without_a_write_per_request(lab_client, lab_url):
    lab_client.cookies["flavor"] = "chip"
    for _ in range(4):
        lab_client.get(lab_url)

    row = jar("flavor")
    assert row.times_seen == 4
    assert row.seen_last == row.visitor.last_seen
    assert row.first_seen < row.seen_last


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

    row = jar("flavor")
    assert (row.issued_value, row.max_age, row.path, row.domain) == ("chip", 60, "/", "testserver")
    assert (row.secure, row.httponly, row.samesite, row.partitioned) == (True, True, "None", True)
    assert row.expires.endswith(" GMT")
    assert row.header.startswith("flavor=chip; Domain=testserver; expires=")
    assert row.header.endswith("HttpOnly; Max-Age=60; Partitioned; Path=/; SameSite=None; Secure")
    [line] = CookieChange.objects.set_cookie_lines().filter(cookie=row)
    assert (line.header, line.secure, line.samesite, line.max_age) == (row.header, True, "None", 60)


@pytest.mark.django_db
def test_every_set_cookie_is_a_line_and_a_deletion_is_marked(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form())
    lab_client.post(lab_url, set_cookie_form(value="mint"))
    lab_client.post("/cookies/delete", {"key": "flavor", "path": "/", "back": lab_url})

    assert [k for k in kinds("flavor") if k in (ChangeKind.ISSUED, ChangeKind.DELETED)] == [
        ChangeKind.ISSUED,
        ChangeKind.ISSUED,
        ChangeKind.DELETED,
    ]
    assert jar("flavor").deleted_at is not None


@pytest.mark.django_db
def test_default_path_is_the_requests_directory(client):
    response = HttpResponse()
    response.set_cookie("nopath", "1", path="")
    request = _request(client, "/cookies/sub/")
    state = visit.build(request)

    planned = cookie_log.plan(state, response.cookies, 200)

    [row] = planned.new
    assert row.path == "/cookies/sub"


@pytest.mark.django_db
def test_visitor_id_groups_a_browsers_history(client, lab_url):
    client.get(lab_url)
    client.cookies["a"] = "1"
    client.get(lab_url)

    key = client.cookies["cookielab_visitor"].value
    visitor = Visitor.objects.get()
    assert visitor.key == key and visitor.requests == 2
    assert list(visitor.request_log.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert visitor.latest_request.seq == 2


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

    rows = {r.name: r for r in JarCookie.objects.all()}
    stored = " ".join(CookieChange.objects.values_list("value", flat=True))
    for name, value in SECRETS.items():
        assert rows[name].redacted is True
        assert value not in rows[name].value and value not in stored
        assert rows[name].value.startswith(f"[redacted: {len(value)} bytes, hmac-sha256 ")
    assert rows["sessionid"].size == len("sessionid") + len(SECRETS["sessionid"])


@pytest.mark.django_db
def test_redaction_is_keyed_and_stable(client, lab_url):
    client.cookies["token"] = "same"
    client.get(lab_url)
    client.get(lab_url)

    assert kinds("token") == [ChangeKind.APPEARED]


@pytest.mark.django_db
def test_sensitive_issued_values_are_redacted_in_value_and_header(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="auth_token", value="top-secret-value"))

    row = jar("auth_token")
    line = CookieChange.objects.set_cookie_lines().get(cookie=row)
    assert row.redacted is True
    for text in (row.issued_value, row.header, line.value, line.header):
        assert "top-secret-value" not in text
    assert row.header == "auth_token=[redacted]; Path=/"


@pytest.mark.django_db
def test_redaction_pattern_is_configurable(client, lab_url, settings):
    settings.COOKIE_LAB_REDACT_PATTERN = r"^flavor$"
    client.cookies["flavor"] = "chocolate"

    client.get(lab_url)

    assert jar("flavor").redacted is True


@pytest.mark.django_db
def test_long_values_are_truncated_with_original_size_kept(client, lab_url, settings):
    client.cookies["big"] = "v" * 5000

    client.get(lab_url)

    row = jar("big")
    assert row.truncated is True
    assert len(row.value.encode()) == settings.COOKIE_LAB_LOG_VALUE_CAP
    assert row.size == len("big") + 5000


@pytest.mark.django_db
def test_cookie_flood_is_capped_and_counted(client, lab_url, settings):
    for i in range(100):
        client.cookies[f"c{i:03d}"] = "x"

    client.get(lab_url)

    cap = settings.COOKIE_LAB_LOG_MAX_COOKIES
    [row] = Request.objects.all()
    assert len(row.carried_ids) == cap
    assert row.cookie_count == 100
    assert JarCookie.objects.filter(name__regex=r"^c\d{3}$").count() == cap


@pytest.mark.django_db
def test_issued_cookies_are_capped_too(client, settings):
    settings.COOKIE_LAB_LOG_MAX_COOKIES = 3
    response = HttpResponse()
    for i in range(5):
        response.set_cookie(f"c{i}", "v")
    state = visit.build(_request(client, "/cookies"))

    planned = cookie_log.plan(state, response.cookies, 200)

    assert [row.name for row in planned.new] == ["c0", "c1", "c2"]


@pytest.mark.django_db
def test_failed_post_logs_the_request_and_nothing_issued(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="a b"))

    post = Request.objects.get(method="POST")
    assert post.status == 400
    assert not post.changes.filter(kind__in=[ChangeKind.ISSUED, ChangeKind.DELETED]).exists()


@pytest.mark.django_db
def test_long_texts_are_capped_to_their_columns(client):
    long_path = "/api/cookies/set/k/" + "v" * 2000
    client.get(long_path, HTTP_USER_AGENT="u" * 3000, HTTP_SEC_FETCH_SITE="x" * 100)

    [row] = Request.objects.select_related("user_agent")
    assert len(row.path) == PATH_MAX
    assert len(row.user_agent.text) == USER_AGENT_MAX
    assert len(row.fetch_site) <= 16
    assert len(row.host) <= HOST_MAX


def _request(client, path):
    """A real request object, as the view stack builds it."""
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.COOKIES = {}
    return request


# Names from common frameworks that carry sessions or credentials (issue: the
# default pattern let them through in clear).
COMMON_SECRET_NAMES = [
    "_gh_sess",
    "wordpress_logged_in_abc123",
    "wordpress_sec_abc123",
    "jwt",
    "express:sess",
    "koa.sess",
    "_xsrf",
    "remember_web_59ba36",
    "refresh",
    "bearer",
    "pwd",
    "PHPSESSID",
    "JSESSIONID",
    "connect.sid",
    "laravel_session",
    "__Secure-next-auth.session-token",
    "access_token",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", COMMON_SECRET_NAMES)
def test_common_secret_names_are_redacted(client, lab_url, name):
    client.cookies[name] = "plain-looking"

    client.get(lab_url)

    assert jar(name).redacted is True
    assert "plain-looking" not in jar(name).value


CREDENTIAL_VALUES = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "hex id": "3f2a9c0b7d1e4f5a8b6c9d0e1f2a3b4c",
    "base64url token": "s8OWC0pKcJf7_QcWC35uwJs-13_IRCLY",
    "uuid": "3b172e06-fa0d-4da1-bdbf-77b4754b2ce4",
    "token_urlsafe(16)": "q2Vx8RkT3mZp9LbN4cWj7g",
    "quoted token": '"zQ7xP2vL9kR4mN8wT3yB6cF1hJ5dG0sA"',
}


@pytest.mark.django_db
@pytest.mark.parametrize("value", CREDENTIAL_VALUES.values(), ids=CREDENTIAL_VALUES.keys())
def test_credential_shaped_values_are_redacted_whatever_the_name(client, lab_url, value):
    client.cookies["prefs"] = value

    client.get(lab_url)

    assert jar("prefs").redacted is True
    assert value not in jar("prefs").value


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["chocolate", "hello%20world", "x" * 40, "GA1.1.12345.1700000000"]
)
def test_ordinary_values_stay_readable(client, lab_url, value):
    client.cookies["prefs"] = value

    client.get(lab_url)

    assert jar("prefs").value == value


@pytest.mark.django_db
def test_credential_value_redaction_can_be_switched_off(client, lab_url, settings):
    settings.COOKIE_LAB_REDACT_CREDENTIAL_VALUES = False
    client.cookies["prefs"] = CREDENTIAL_VALUES["jwt"]

    client.get(lab_url)

    assert jar("prefs").value == CREDENTIAL_VALUES["jwt"]


@pytest.mark.django_db
def test_issued_path_and_domain_longer_than_their_columns_are_capped(lab_client, lab_url):
    """PostgreSQL refuses text longer than a column; the log cuts it first."""
    from cookies_app.models import DOMAIN_MAX

    long_path = "/cookies/" + "p" * 700
    long_domain = "d" * 300 + ".example"

    response = lab_client.post(
        lab_url, set_cookie_form(path=long_path, domain=long_domain, send_anyway="on")
    )

    assert response.status_code == 303
    row = jar("flavor")
    assert (len(row.path), len(row.domain)) == (PATH_MAX, DOMAIN_MAX)
    assert row.path == long_path[:PATH_MAX]


@pytest.mark.django_db
def test_a_quoted_credential_issued_is_redacted_in_the_line_too(lab_client):
    lab_client.get("/api/cookies/set?plainname=%22zQ7xP2vL9kR4mN8wT3yB6cF1hJ5dG0sA%22")

    row = jar("plainname")
    line = CookieChange.objects.set_cookie_lines().get(cookie=row)
    for text in (row.issued_value, row.header, line.value, line.header):
        assert "zQ7xP2vL9kR4mN8wT3yB6cF1hJ5dG0sA" not in text


def test_a_long_run_of_jwt_starts_is_not_a_jwt():
    from cookies_app.redaction import looks_like_credential

    assert looks_like_credential("eyJ" * 3000) is False


def jar_reads(queries):
    return [q["sql"] for q in queries if 'FROM "cookies_app_jarcookie"' in q["sql"]]


@pytest.mark.django_db
def test_an_unchanged_request_is_logged_without_reading_the_jar(client):
    client.cookies["flavor"] = "chip"
    client.get("/api/cookies")  # new browser: its id is issued
    client.get("/api/cookies")  # the jar as it stands: the fingerprint kept
    rows_before = list(JarCookie.objects.values_list("id", "value", "present", "run_from"))

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/cookies")

    assert jar_reads(queries) == []
    last, previous = Request.objects.order_by("-seq")[:2]
    # The same cookies carried, and the jar as the full path would leave it.
    assert last.carried == previous.carried and last.carried
    assert list(JarCookie.objects.values_list("id", "value", "present", "run_from")) == rows_before
    assert jar("flavor").times_seen == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "differs",
    [
        {"cookie": ("flavor", "mint")},
        {"cookie": ("extra", "1")},
        {"path": "/api/cookies/export"},
        {"header": {"HTTP_SEC_FETCH_SITE": "cross-site"}},
    ],
    ids=["value", "new cookie", "path", "fetch-site"],
)
def test_anything_that_may_change_the_jar_reads_it(client, differs):
    client.cookies["flavor"] = "chip"
    client.get("/api/cookies")
    client.get("/api/cookies")
    if "cookie" in differs:
        name, value = differs["cookie"]
        client.cookies[name] = value

    before = Visitor.objects.get().jar_digest

    client.get(differs.get("path", "/api/cookies"), **differs.get("header", {}))

    # The full path ran: it keeps this request's own fingerprint for the next.
    assert Visitor.objects.get().jar_digest not in ("", before)


@pytest.mark.django_db
def test_lines_awaiting_a_verdict_are_judged_not_skipped(client):
    client.get("/api/cookies")
    client.get("/api/cookies/set", {"flavor": "chip"})
    client.get("/api/cookies")  # carries flavor: judges the line

    [line] = CookieChange.objects.filter(cookie__name="flavor", kind="issued")
    assert line.verdict == "kept"


@pytest.mark.django_db
def test_the_fingerprint_is_keyed_and_reveals_no_value(client, settings):
    client.cookies["flavor"] = "secret-chip-recipe"
    client.get("/api/cookies")
    client.get("/api/cookies")
    visitor = Visitor.objects.get()
    settings.SECRET_KEY = "another key entirely, for this test only"
    other = cookie_log.fingerprint(visit.build(_request_like(client), log=False))

    assert len(visitor.jar_digest) == 32 and "chip" not in visitor.jar_digest
    assert other != visitor.jar_digest


def test_the_fingerprint_is_djangos_salted_hmac_of_the_request(rf):
    """Its key is derived once; the digest stays the one digests were stored with."""
    request = rf.get("/api/cookies", HTTP_SEC_FETCH_SITE="same-origin")
    request.COOKIES = {"flavor": "chip", "b\u00e9": "caf\u00e9"}
    state = visit.build(request, log=False)
    text = json.dumps(
        ["http", "testserver", "/api/cookies", "GET", "same-origin", list(request.COOKIES.items())],
        separators=(",", ":"),
    )

    expected = salted_hmac(cookie_log.FINGERPRINT_SALT, text, algorithm="sha256")
    assert cookie_log.fingerprint(state) == expected.hexdigest()[:32]


def _request_like(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/api/cookies")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request


@pytest.mark.django_db
def test_a_late_request_does_not_roll_the_jar_back(client):
    """Two server processes: the older request is written after the newer one."""
    client.cookies["n"] = "1"
    client.get("/api/cookies")
    client.get("/api/cookies")
    client.cookies["n"] = "1"
    older = visit.build(_request_like(client), count=False)
    client.cookies["n"] = "2"
    client.get("/api/cookies")  # newer, logged first: n=2

    cookie_log.record(older, HttpResponse())  # then the older one

    row = jar("n")
    assert (row.value, row.present) == ("2", True)
    assert kinds("n") == ["appeared", "changed"]
    assert Request.objects.count() == 4  # the late one is on record all the same
    late = Request.objects.order_by("-id").first()
    assert str(row.id) in late.carried.split()
