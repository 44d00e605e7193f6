"""The lab as a teacher: explanations where attributes are set, fixes, first visit."""

import pytest
from django.urls import reverse

from cookies_app.attributes import ATTRIBUTES
from cookies_app.templatetags.cookie_text import breakable

from .conftest import set_cookie_form


@pytest.mark.django_db
def test_every_parameter_explains_itself_with_mdn_and_the_rfc(client):
    content = client.get(reverse("cookies_app:lab")).content.decode()

    for name, attribute in ATTRIBUTES.items():
        assert f'id="id_{name}_helptext"' in content, name
        assert attribute.mdn in content and attribute.spec_url in content, name
        assert "Default:" in attribute.help_html()


@pytest.mark.django_db
def test_the_first_visit_names_the_tutorials_moment(client):
    first = client.get(reverse("cookies_app:lab")).content.decode()
    again = client.get(reverse("cookies_app:lab")).content.decode()

    assert 'id="first-visit"' in first and "username=root" in first
    assert 'id="first-visit"' not in again


@pytest.mark.django_db
def test_findings_after_a_change_carry_a_fix(lab_client, lab_url):
    lab_client.post(lab_url, set_cookie_form(key="x", samesite="None", send_anyway="on"))
    response = lab_client.get(lab_url, {"sent": 2})
    content = response.content.decode()

    assert "SameSiteNoneInsecure" in content
    assert "Fix: Add Secure" in content


@pytest.mark.django_db
def test_a_refused_change_starts_with_a_summary_linking_to_the_field(lab_client, lab_url):
    response = lab_client.post(lab_url, set_cookie_form(key="a b"))
    content = response.content.decode()

    assert response.status_code == 400
    assert content.index('id="error-summary"') < content.index('id="server-form"')
    assert 'href="#id_key"' in content


@pytest.mark.parametrize(
    "text, shown",
    [
        ("none_secure", "none_<wbr>secure"),
        ("a-b.c", "a-<wbr>b.<wbr>c"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("a;b", "a;b"),
        ("\x00_", "\\x00_<wbr>"),
    ],
)
def test_names_wrap_at_sensible_points_and_stay_escaped(text, shown):
    assert breakable(text) == shown
