import os
from collections import Counter

import pytest
from django.template.backends import jinja2 as jinja2_backend
from django.test.signals import template_rendered
from django.urls import reverse
from hypothesis import settings as hypothesis_settings

from cookies_app import log_writer
from cookies_app.jar_cache import JARS
from cookies_app.jar_versions import VERSIONS
from cookies_app.known_visitors import KNOWN
from cookies_app.page_cache import PAGES

# CI explores the same examples every run, so a red build always means a change
# broke something; locally each run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    hypothesis_settings.load_profile("ci")

LAB_URL = "/cookies"
EXAMPLES_RUN = Counter()


def record_examples(label):
    """Count a property test's examples; the totals print at the end of the run."""
    EXAMPLES_RUN[label] += 1


def pytest_terminal_summary(terminalreporter):
    for label, count in sorted(EXAMPLES_RUN.items()):
        terminalreporter.write_line(f"Hypothesis examples run: {count} ({label})")


@pytest.fixture(autouse=True, scope="session")
def jinja2_contexts():
    """
    response.context for the Jinja2 pages too: Django's test set-up instruments
    its own template engine only, with the same signal the test client reads.
    """
    render = jinja2_backend.Template.render

    def instrumented(template, context=None, request=None):
        context = {} if context is None else context
        html = render(template, context, request)  # adds request, csrf_input...
        # The Jinja2 template itself: its .name is the one the view asked for.
        template_rendered.send(sender=template, template=template.template, context=context)
        return html

    jinja2_backend.Template.render = instrumented
    yield
    jinja2_backend.Template.render = render


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with nothing cached: its visitors' ids may be a former test's."""
    JARS.clear()
    PAGES.clear()
    KNOWN.clear()
    VERSIONS.forget()
    yield
    # On PostgreSQL in background mode, the jar listener's connection: the
    # test database is dropped at the end of the session.
    VERSIONS.stop()


@pytest.fixture
def background(settings):
    """COOKIE_LAB_LOG=background: the real writer thread, stopped after the test."""
    settings.COOKIE_LAB_LOG = "background"
    yield log_writer.writer
    log_writer.writer.stop()


@pytest.fixture
def lab_url():
    return reverse("cookies_app:lab")


@pytest.fixture
def lab_client(client, lab_url):
    """A browser that has visited the lab once: it holds its visitor id and CSRF token."""
    client.get(lab_url)
    return client


def set_cookie_form(**fields):
    """The server form's POST data, with a plain cookie unless told otherwise."""
    data = {"key": "flavor", "value": "chip", "path": "/", "samesite": ""}
    data.update(fields)
    return data


def set_cookie_header(response, key):
    """The Set-Cookie header value the response carries for ``key``."""
    return response.cookies[key].OutputString()
