import pytest
from django.urls import reverse

from apps.agencies.roles import Role
from apps.core.navigation import items_for
from tests.core.test_admin import _admin_of
from tests.factories import member


def labels(user):
    return {item["label"] for item in items_for(user)}


def test_each_role_sees_only_what_it_may_use(customs_analyst, customs_supervisor, port_officer, world):
    assert "People" in labels(customs_supervisor)
    assert "People" not in labels(customs_analyst)
    assert "Data sources" in labels(customs_analyst)
    assert "Data sources" not in labels(port_officer)
    assert "Administration" not in labels(customs_supervisor)


def test_the_administrator_reaches_the_centres_settings_from_the_navigation(world, client):
    from apps.agencies.models import CentreConfiguration

    CentreConfiguration.objects.update_or_create(defaults={"national_agency": world.customs})
    admin = _admin_of(member("ada", world.customs, Role.ADMINISTRATOR))
    [link] = [item["url"] for item in items_for(admin) if item["label"] == "Administration"]
    client.force_login(admin)
    assert "Examination focus" in client.get(link).content.decode()


@pytest.mark.parametrize("role", list(Role.values))
def test_home_page_renders_for_every_role_with_first_steps(role, world, client):
    user = member(f"u-{role}", world.customs, role)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"What to try" in response.content
    for item in items_for(user):
        assert item["url"].encode() in response.content


def test_home_without_membership_says_so(db, django_user_model, client):
    client.force_login(django_user_model.objects.create_user("lonely", password="x-password-1"))
    response = client.get(reverse("home"))
    assert b"No agency membership" in response.content


def test_login_page_lists_demo_users_only_in_demo_mode(db, client, settings):
    from apps.core.demo import ensure_demo_world

    ensure_demo_world()
    settings.RATC_DEMO = False
    assert b"Demo users" not in client.get(reverse("login")).content
    settings.RATC_DEMO = True
    page = client.get(reverse("login")).content.decode()
    assert "Demo users" in page and "supervisor" in page and "police.liaison" in page
