"""
Expiry dates at the edges of the calendar, through the real endpoints: every
date a parser accepts is sent converted to UTC, or refused with a 400 that says
why and which range is accepted. Never a 500.
"""

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cookies_app import httpbin, rules
from cookies_app.forms import SetCookieForm
from cookies_app.rules import expiry
from tests.conftest import record_examples, set_cookie_form

RANGE = "between 1970-01-01 and 9999-12-31 UTC"
FORMAT = "expires must be a UTC date and time"
EPOCH = "expires=Thu, 01 Jan 1970 00:00:00 GMT"
LAST = "expires=Fri, 31 Dec 9999 23:59:59 GMT"

# (expires as typed into the lab's form, the Set-Cookie part it sends or the message).
FORM_CASES = [
    ("0001-01-01T00:00:00+01:00", RANGE),
    ("0001-01-01T00:00:00-01:00", RANGE),
    ("0001-01-01T00:00", RANGE),
    ("1969-12-31T23:59:59", RANGE),
    ("1970-01-01T00:30:00+01:00", RANGE),
    ("9999-12-31T23:59:59-01:00", RANGE),
    ("99999-12-31T23:59:59", FORMAT),
    ("0000-01-01T00:00", FORMAT),
    ("Fri, 31 Dec 99999 23:59:59 GMT", FORMAT),
    ("2026-02-31T00:00", FORMAT),
    ("2026-01-01T00:00+24:00", FORMAT),
    ("1970-01-01T00:00", EPOCH),
    ("1970-01-01T01:00:00+01:00", EPOCH),
    ("9999-12-31T23:59:59", LAST),
    ("9999-12-31T23:59:59Z", LAST),
    ("9999-12-31T23:59:59+01:00", "expires=Fri, 31 Dec 9999 22:59:59 GMT"),
]


def is_sent(expected):
    return expected.startswith("expires=")


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "expected"), FORM_CASES)
def test_lab_post_converts_or_refuses_edge_dates(lab_client, lab_url, text, expected):
    response = lab_client.post(lab_url, set_cookie_form(expires=text))

    if is_sent(expected):
        assert response.status_code == 303
        assert expected in response.cookies["flavor"].OutputString()
    else:
        assert response.status_code == 400
        [message] = response.context["set_form"].errors["expires"]
        assert expected in message
        assert not response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "expected"), FORM_CASES)
def test_live_check_reports_edge_dates(client, text, expected):
    response = client.get("/cookies/check", {"key": "k", "value": "v", "expires": text})

    assert response.status_code == 200  # the live check answers in JSON, blocked or not
    result = json.loads(response.content)
    if is_sent(expected):
        assert result["blocked"] is False
    else:
        assert result["blocked"] is True
        assert expected in result["errors"]["expires"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:59:59", "1970-01-01T00:00"],
)
def test_lab_page_after_an_edge_date_renders(lab_client, lab_url, text):
    response = lab_client.post(lab_url, set_cookie_form(expires=text), follow=True)

    assert response.status_code == 200
    assert response.context["sent"]


# (attr[Expires], what the API answers) with the API's lifetime cap out of the way.
API_CASES = [
    ("0001-01-01T00:00:00+01:00", f"{RANGE}; 0001-01-01T00:00:00+01:00 is earlier"),
    ("9999-12-31T23:59:59-01:00", f"{RANGE}; 9999-12-31T23:59:59-01:00 is later"),
    ("Fri, 31 Dec 99999 23:59:59 GMT", f"{RANGE}; year 99999 is later"),
    ("Mon, 01 Jan 0001 00:00:00 +0100", f"{RANGE}; year 0001 is earlier"),
    ("Sunday, 06-Nov-0094 08:49:37 GMT", f"{RANGE}; year 0094 is earlier"),
    ("Fri, 31 Dec 9999 23:59:59 -0100", f"{RANGE}; 9999-12-31T23:59:59-01:00 is later"),
    ("Wed, 31 Dec 1969 23:59:59 GMT", f"{RANGE}; 1969-12-31T23:59:59+00:00 is earlier"),
    ("Thu, 01 Jan 1970 00:30:00 +0100", f"{RANGE}; 1970-01-01T00:30:00+01:00 is earlier"),
    ("99999-01-01T00:00:00", f"ISO 8601 such as 2026-10-21T07:28:00Z, {RANGE}"),
    ("Wed, 31 Feb 2021 07:28:00 GMT", "is not a real date and time (day is out of range"),
    ("Wed, 21 Oct 2020 25:28:00 GMT", "is not a real date and time (hour must be in"),
    ("Wed, 21 Oct 2020 07:28:00 +9999", "UTC offset of a day or more: write the time in GMT"),
    ("Thu, 01 Jan 1970 00:00:00 GMT", EPOCH),
    ("1970-01-01T01:00:00+01:00", EPOCH),
    ("Sunday, 06-Nov-94 08:49:37 GMT", "expires=Sun, 06 Nov 1994 08:49:37 GMT"),
    ("9999-12-31T23:59:59Z", LAST),
    ("Fri, 31 Dec 9999 23:59:59 GMT", LAST),
    ("Fri, 31 Dec 9999 23:59:59 +0100", "expires=Fri, 31 Dec 9999 22:59:59 GMT"),
]


@pytest.fixture
def unlimited_api(settings):
    """The GET API's lifetime cap lifted, to reach the calendar's own edges."""
    settings.COOKIE_LAB_API_MAX_AGE = 10**12


def api_set(client, query):
    return client.get(f"/api/cookies/set?k=v&{query}")


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "expected"), API_CASES)
def test_api_converts_or_refuses_edge_dates(client, unlimited_api, text, expected):
    response = api_set(client, f"attr[Expires]={quote(text)}")

    if is_sent(expected):
        assert response.status_code == 302, response.content
        assert expected in response.cookies["k"].OutputString()
    else:
        assert response.status_code == 400
        error = json.loads(response.content)["error"]
        assert error.startswith("attr[Expires]")
        assert expected in error
        assert "k" not in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["9999-12-31T23:59:59Z", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_api_refuses_far_dates_by_its_lifetime_cap_by_default(client, text):
    response = api_set(client, f"attr[Expires]={quote(text)}")

    assert response.status_code == 400
    assert "may be at most 86400 seconds (1 day) from now" in json.loads(response.content)["error"]


MAX = 2**31 - 1


@pytest.mark.django_db
@pytest.mark.parametrize("max_age", [MAX, MAX - 1, -MAX, 0])
def test_lab_post_sends_max_age_at_the_32_bit_limit_with_djangos_expires(
    lab_client, lab_url, max_age
):
    response = lab_client.post(lab_url, set_cookie_form(max_age=str(max_age)), follow=True)

    assert response.status_code == 200
    [sent] = response.context["sent"]
    assert f"Max-Age={max_age}" in sent["line"]
    assert "expires=" in sent["line"]  # computed by Django from Max-Age


@pytest.mark.django_db
@pytest.mark.parametrize("max_age", [MAX + 1, -MAX - 1, 10**30])
def test_max_age_past_the_32_bit_limit_is_refused_everywhere(
    lab_client, lab_url, unlimited_api, max_age
):
    posted = lab_client.post(lab_url, set_cookie_form(max_age=str(max_age)))
    checked = lab_client.get("/cookies/check", {"key": "k", "max_age": str(max_age)})
    api = api_set(lab_client, f"attr[Max-Age]={max_age}")

    assert posted.status_code == 400
    assert json.loads(checked.content)["blocked"] is True
    assert api.status_code == 400
    assert "within ±2147483647" in json.loads(api.content)["error"]


@pytest.mark.django_db
def test_api_sends_max_age_at_the_32_bit_limit_with_an_edge_expires(client, unlimited_api):
    response = api_set(client, f"attr[Max-Age]={MAX}&attr[Expires]=9999-12-31T23:59:59Z")

    assert response.status_code == 302
    assert {f"Max-Age={MAX}", LAST} <= set(response.cookies["k"].OutputString().split("; "))
    assert client.get("/api/cookies").status_code == 200


NOW = datetime(2026, 11, 27, tzinfo=UTC)
CONTEXT = rules.RequestContext(now=NOW)


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        (
            {"expires": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))},
            ["ExpiresOutOfRange"],
        ),
        (
            {"expires": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=1)))},
            ["ExpiresOutOfRange"],
        ),
        ({"expires": datetime(1, 1, 1)}, ["ExpiresOutOfRange"]),
        ({"max_age": MAX, "expires": datetime(1, 1, 1, tzinfo=UTC)}, ["ExpiresOutOfRange"]),
        ({"expires": datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)}, ["LifetimeCapped"]),
        ({"expires": datetime(1970, 1, 1, tzinfo=UTC)}, ["Deletes"]),
        ({"max_age": 10**30}, ["LifetimeCapped"]),
        ({"max_age": -(10**30)}, ["Deletes"]),
    ],
)
def test_rules_lifetime_never_overflows(fields, codes):
    cookie = rules.ProposedCookie(name="k", value="v", **fields)

    assert [f.code for f in rules.scope.lifetime(cookie, CONTEXT)] == codes
    assert rules.evaluate(cookie, CONTEXT)  # the whole rule set runs too


# Any text, and HTTP and ISO dates with any year, offset and weekday.
HTTP_DATES = st.builds(
    "{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(["Mon", "Fri", "Sunday"]),
    st.integers(0, 40),
    st.sampled_from(["Jan", "Feb", "Dec", "Nov"]),
    st.one_of(st.integers(0, 10**6).map(str), st.integers(0, 9999).map("{:04d}".format)),
    st.integers(0, 30),
    st.integers(0, 70),
    st.integers(0, 70),
    st.one_of(st.just("GMT"), st.integers(-9999, 9999).map("{:+05d}".format)),
)
ISO_DATES = st.builds(
    lambda when, offset: when.replace(tzinfo=timezone(timedelta(minutes=offset))).isoformat(),
    st.datetimes(),
    st.integers(-1439, 1439),
)
EXPIRES_TEXT = st.one_of(HTTP_DATES, ISO_DATES, st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(text=EXPIRES_TEXT)
def test_api_expires_is_in_range_or_a_bad_attribute(text):
    record_examples("attr[Expires] parsing at the calendar's edges")
    try:
        when = httpbin.parse_attributes({"expires": text}).expires
    except httpbin.BadAttribute as error:
        assert str(error).startswith("attr[Expires]")
    else:
        assert when.tzinfo == UTC and expiry.EARLIEST <= when <= expiry.LATEST


@settings(max_examples=300, deadline=None)
@given(text=EXPIRES_TEXT)
def test_form_expires_is_in_range_or_a_field_error(text):
    record_examples("the lab form's expires at the calendar's edges")
    form = SetCookieForm({"key": "k", "value": "v", "path": "/", "expires": text})

    if form.is_valid():
        when = form.cookie.expires
        assert when is None or (when.tzinfo == UTC and expiry.EARLIEST <= when <= expiry.LATEST)
    else:
        assert "expires" in form.errors
