"""The lab page cache: reused on an unchanged reload, never stale, never sharing secrets."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from cookies_app import verdicts
from cookies_app.models import Visitor
from cookies_app.page_cache import PageCache

LAB_TEMPLATE = "cookies_app/lab.html"
NONCE = re.compile(r'<script type="module" src="[^"]+" nonce="([^"]+)"')
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def lab(client, url, **kwargs):
    """(response, whether the lab's template was rendered for it)."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response, LAB_TEMPLATE in [t.name for t in response.templates]


def warm(client, url):
    """
    Visit until the page comes from the cache (the first visits change the
    jar); the last rendered response.
    """
    last = None
    for _ in range(4):
        response, rendered = lab(client, url)
        if not rendered:
            return last
        last = response
    pytest.fail("the lab page was rendered on every reload")


def secrets_of(response):
    html = response.content.decode()
    tokens = set(TOKEN.findall(html))
    assert len(tokens) == 1, "one masked token for every form"
    return NONCE.search(html).group(1), tokens.pop()


def without_secrets(response):
    nonce, token = secrets_of(response)
    return response.content.decode().replace(nonce, "NONCE").replace(token, "TOKEN")


@pytest.mark.django_db
def test_a_reload_that_changes_nothing_is_not_rendered_again(client, lab_url):
    client.cookies["flavor"] = "chip"
    lab(client, lab_url)
    lab(client, lab_url)
    rendered_page, rendered = lab(client, lab_url)
    assert rendered, "the jar changed (username came back): rendered"

    cached_page, rendered = lab(client, lab_url)

    assert not rendered
    assert without_secrets(cached_page) == without_secrets(rendered_page)
    assert "flavor" in cached_page.content.decode()


@pytest.mark.django_db
def test_every_response_has_its_own_nonce_and_a_token_that_works(lab_url):
    client = Client(enforce_csrf_checks=True)
    warm(client, lab_url)
    first, _ = lab(client, lab_url)
    second, rendered = lab(client, lab_url)
    assert not rendered

    (nonce_1, token_1), (nonce_2, token_2) = secrets_of(first), secrets_of(second)

    assert nonce_1 != nonce_2 and token_1 != token_2
    assert f"'nonce-{nonce_2}'" in second["Content-Security-Policy"]
    posted = client.post(
        lab_url, {"key": "flavor", "value": "chip", "path": "/", "csrfmiddlewaretoken": token_2}
    )
    assert posted.status_code == 303, "the cached page's fresh token is accepted"


@pytest.mark.django_db
def test_a_cookie_sent_with_another_value_renders_the_page_again(client, lab_url):
    client.cookies["flavor"] = "chip"
    warm(client, lab_url)
    client.cookies["flavor"] = "oatmeal"

    response, rendered = lab(client, lab_url)

    assert rendered
    assert "oatmeal" in response.content.decode()


@pytest.mark.django_db
def test_a_cookie_set_through_the_lab_is_on_the_next_page(client, lab_url):
    warm(client, lab_url)

    client.post(lab_url, {"key": "flavor", "value": "chip", "path": "/", "samesite": "Lax"})
    response, rendered = lab(client, lab_url)

    assert rendered
    assert "flavor" in {v.name for v in response.context["round_trip"]}


@pytest.mark.django_db
def test_a_jar_changed_by_another_process_renders_the_page_again(client, lab_url):
    warm(client, lab_url)
    Visitor.objects.update(jar_version=F("jar_version") + 1)

    _, rendered = lab(client, lab_url)

    assert rendered


@pytest.mark.django_db
def test_each_lab_path_has_its_own_page(client, lab_url):
    warm(client, lab_url)

    response, rendered = lab(client, "/cookies/sub/")

    assert rendered
    assert "<code>/cookies/sub/</code></small>" in response.content.decode()


@pytest.mark.django_db
def test_a_verdict_the_clock_changes_renders_the_page_again(client, lab_url, monkeypatch):
    client.post(lab_url, {"key": "brief", "value": "1", "path": "/", "max_age": "60"})
    del client.cookies["brief"]  # this browser lost it: the same cookies before and after
    response = warm(client, lab_url)
    before = {v.name: v.status for v in response.context["round_trip"]}["brief"]
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=3))

    response, rendered = lab(client, lab_url)

    assert rendered
    assert before != verdicts.Status.EXPIRED
    brief = {v.name: v.status for v in response.context["round_trip"]}["brief"]
    assert brief == verdicts.Status.EXPIRED


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["sent", "first-visit"])
def test_pages_that_are_not_a_plain_reload_are_rendered_each_time(client, lab_url, how):
    warm(client, lab_url)
    for _ in range(2):
        if how == "first-visit":
            client.cookies.clear()  # the tutorial's cookie is set again
        data = {"sent": "1"} if how == "sent" else None  # the answer to a form: ?sent=N
        _, rendered = lab(client, lab_url, data=data)
        assert rendered


@pytest.mark.django_db
def test_a_head_request_has_its_own_entry(client, lab_url):
    warm(client, lab_url)

    head = client.head(lab_url)

    assert head.status_code == 200
    assert LAB_TEMPLATE in [t.name for t in head.templates], "not the GET's page"
    assert not lab(client, lab_url)[1], "and the GET's is still there"


@pytest.mark.django_db
def test_with_the_log_off_a_reload_is_served_from_the_cache(client, lab_url, settings):
    settings.COOKIE_LAB_LOG = "off"
    client.cookies["flavor"] = "chip"
    client.get(lab_url)  # the tutorial's cookie: set now, sent from here on
    # No visitor is ever kept: the browser's own cookies are the whole state.
    client.get(lab_url)
    del client.cookies["cookielab_visitor"]  # a new one comes with every answer
    first, rendered = lab(client, lab_url)
    del client.cookies["cookielab_visitor"]
    second, cached = lab(client, lab_url)

    assert rendered and not cached
    assert without_secrets(first) == without_secrets(second)


@pytest.mark.django_db
def test_a_refused_form_is_rendered_each_time(client, lab_url):
    warm(client, lab_url)
    for _ in range(2):
        response = client.post(lab_url, {"key": "bad name", "value": "1", "path": "/"})
        assert response.status_code == 400
        assert LAB_TEMPLATE in [t.name for t in response.templates]


# The cache itself -------------------------------------------------------------

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_a_page_is_served_until_its_moment_then_dropped():
    cache = PageCache(budget=1000)
    cache.put("k", "<p>n1 t1</p>", ("n1", "t1"), until=T0)

    assert cache.get("k", T0 - timedelta(microseconds=1), ("n2", "t2")) == "<p>n2 t2</p>"
    assert cache.get("k", T0, ("n3", "t3")) is None
    assert cache.size == 0, "dropped"


def test_the_cache_keeps_within_its_budget_dropping_the_least_recently_used():
    cache = PageCache(budget=100)
    for key in "abcd":
        cache.put(key, key * 25, (), until=None)
    cache.get("a", T0, ())  # a is used: b is now the oldest

    cache.put("e", "e" * 25, (), until=None)

    assert set(cache.pages) == {"a", "c", "d", "e"}
    assert cache.size == 100


def test_a_page_over_a_quarter_of_the_budget_is_not_kept():
    cache = PageCache(budget=100)
    cache.put("big", "x" * 26, (), until=None)
    assert cache.get("big", T0, ()) is None


def test_a_cache_of_size_0_keeps_nothing():
    cache = PageCache(budget=0)
    cache.put("k", "<p></p>", (), until=None)
    assert cache.get("k", T0, ()) is None
