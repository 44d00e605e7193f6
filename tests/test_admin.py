import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from cookies_app.models import CookieEvent, Direction
from tests.conftest import set_cookie_form

CHANGELISTS = [
    "admin:cookies_app_cookieevent_changelist",
    "admin:cookies_app_receivedcookie_changelist",
    "admin:cookies_app_issuedcookie_changelist",
]


@pytest.fixture
def logged(lab_client, lab_url):
    lab_client.cookies["evil"] = "<img src=x onerror=alert(1)>"
    lab_client.post(lab_url, set_cookie_form(httponly="on"))
    return lab_client.cookies["cookielab_visitor"].value


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_loads_for_staff(admin_client, logged, name):
    response = admin_client.get(reverse(name))

    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_redirects_anonymous_users_to_login(client, name):
    url = reverse(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('admin:login')}?next=")


@pytest.mark.django_db
def test_non_staff_users_cannot_see_the_log(client):
    user = User.objects.create_user("visitor", password="pw-12345-long")
    client.force_login(user)

    response = client.get(reverse(CHANGELISTS[0]))

    assert response.status_code == 302


@pytest.mark.django_db
def test_staff_with_view_permission_can_read_but_not_add(client, logged):
    staff = User.objects.create_user("staff", password="pw-12345-long", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_cookieevent"))
    client.force_login(staff)

    assert client.get(reverse(CHANGELISTS[0])).status_code == 200
    assert client.get(reverse("admin:cookies_app_cookieevent_add")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHANGELISTS)
def test_log_cannot_be_added_from_the_admin(admin_client, name):
    add = name.replace("_changelist", "_add")

    assert admin_client.get(reverse(add)).status_code == 403


@pytest.mark.django_db
def test_change_page_is_read_only(admin_client, logged):
    event = CookieEvent.objects.first()
    url = reverse("admin:cookies_app_cookieevent_change", args=[event.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(url, {"name": "forged"}).status_code == 403


@pytest.mark.django_db
def test_superuser_may_delete_log_rows(admin_client, logged):
    event = CookieEvent.objects.first()
    url = reverse("admin:cookies_app_cookieevent_delete", args=[event.pk])

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not CookieEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_visitor_timeline_shows_issued_and_received(admin_client, logged):
    url = reverse(CHANGELISTS[0])

    response = admin_client.get(url, {"visitor_id": logged})

    directions = {row.direction for row in response.context["cl"].result_list}
    assert directions == {Direction.ISSUED, Direction.RECEIVED}
    assert all(row.visitor_id == logged for row in response.context["cl"].result_list)


@pytest.mark.django_db
def test_changelist_is_newest_first_and_searchable(admin_client, logged):
    response = admin_client.get(reverse(CHANGELISTS[1]), {"q": "evil"})

    rows = response.context["cl"].result_list
    assert {r.name for r in rows} == {"evil"}
    times = [
        r.observed_at for r in admin_client.get(reverse(CHANGELISTS[0])).context["cl"].result_list
    ]
    assert times == sorted(times, reverse=True)


@pytest.mark.django_db
def test_hostile_value_is_escaped_in_the_admin(admin_client, logged):
    response = admin_client.get(reverse(CHANGELISTS[1]))

    content = response.content.decode()
    assert "<img src=x onerror=alert(1)>" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_rows(admin_client, lab_client, lab_url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse(CHANGELISTS[0])
    lab_client.get(lab_url)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for i in range(30):
        lab_client.cookies[f"c{i}"] = "x"
        lab_client.get(lab_url)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)

    assert len(many) == len(few)
