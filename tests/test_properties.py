"""Property tests: random cookies posted to the lab never break it."""

from http.cookies import SimpleCookie

import pytest
from django.http import HttpRequest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cookies_app import rules
from tests.conftest import record_examples

# Printable ASCII and a dash of everything else: controls, separators, Unicode.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from('\x00\t\n\r\x7f;=," \\é€😀'),
    ),
    max_size=24,
)
MAX_AGE = st.one_of(st.none(), st.integers(-(2**40), 2**40).map(str), TEXT)
EXPIRES = st.one_of(
    st.none(),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    TEXT,
)
FORM = st.fixed_dictionaries(
    {
        "key": TEXT,
        "value": TEXT,
        "path": st.one_of(st.just("/"), TEXT),
        "domain": st.one_of(st.just(""), st.just("testserver"), TEXT),
        "samesite": st.sampled_from(["", "Lax", "Strict", "None", "none", "Bogus"]),
    },
    optional={
        "max_age": MAX_AGE,
        "expires": EXPIRES,
        "secure": st.just("on"),
        "httponly": st.just("on"),
        "partitioned": st.just("on"),
        "send_anyway": st.just("on"),
        "signed": st.just("on"),
        "salt": TEXT,
    },
)
EXAMPLES = 300


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=FORM)
def test_random_cookies_never_break_the_lab(form):
    record_examples("lab POST with random cookies")
    client = Client()
    client.get("/cookies")
    data = {k: v for k, v in form.items() if v is not None}

    response = client.post("/cookies", data)

    assert response.status_code in (303, 400)
    if response.status_code == 400:
        assert not response.cookies
        return
    morsel = response.cookies[data["key"]]
    header = morsel.OutputString()
    assert "\r" not in header and "\n" not in header
    # Python 3.13's parser does not know Partitioned; it is a bare flag at the end.
    parsed = SimpleCookie()
    parsed.load(header.replace("; Partitioned", ""))
    sent = parsed[data["key"]]
    if "signed" in data:
        request = HttpRequest()
        request.COOKIES = {sent.key: sent.value}
        assert request.get_signed_cookie(sent.key, salt=data.get("salt", "")) == data["value"]
    else:
        assert sent.value == data["value"]
    findings = rules.evaluate(
        rules.ProposedCookie(
            name=sent.key,
            value=sent.value,
            path=sent["path"],
            domain=sent["domain"],
            secure=bool(sent["secure"]),
            httponly=bool(sent["httponly"]),
            samesite=sent["samesite"],
            partitioned="Partitioned" in header,
        ),
        rules.RequestContext(host="testserver"),
    )
    assert rules.refused(findings) == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    name=TEXT,
    value=TEXT,
    path=TEXT,
    domain=TEXT,
    samesite=TEXT,
    max_age=st.one_of(st.none(), st.integers()),
    source=st.sampled_from(list(rules.Source)),
)
def test_rules_answer_any_cookie(name, value, path, domain, samesite, max_age, source):
    record_examples("rules.evaluate on random cookies")

    findings = rules.evaluate(
        rules.ProposedCookie(
            name=name,
            value=value,
            path=path,
            domain=domain,
            samesite=samesite,
            max_age=max_age,
            source=source,
        ),
        rules.RequestContext(host="testserver"),
    )

    assert all(isinstance(f.severity, rules.Severity) and f.code for f in findings)
