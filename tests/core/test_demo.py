import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.agencies.models import Agency, Membership, Port, PortCapacity
from apps.core.demo import DEMO_PASSWORD, DEMO_USERS
from apps.intake.models import DataSource


def test_demo_world_is_complete_and_idempotent(db):
    call_command("demo_world", stdout=io.StringIO())
    counts = (
        Agency.objects.count(),
        Port.objects.count(),
        PortCapacity.objects.count(),
        DataSource.objects.count(),
    )
    call_command("demo_world", stdout=io.StringIO())
    assert counts == (
        Agency.objects.count(), Port.objects.count(), PortCapacity.objects.count(), DataSource.objects.count()
    )  # fmt: skip
    assert {p.mode for p in Port.objects.all()} == {"sea", "air", "land", "postal"}
    assert {a.kind for a in Agency.objects.all()} >= {"customs", "police", "immigration", "biosecurity"}
    assert set(Membership.objects.values_list("role", flat=True)) == {u.role for u in DEMO_USERS}
    user = get_user_model().objects.get(username="supervisor")
    assert user.check_password(DEMO_PASSWORD)


def test_demo_user_can_sign_in_and_sees_role_navigation(db, client):
    call_command("demo_world", stdout=io.StringIO())
    response = client.post("/login/", {"username": "supervisor", "password": DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Supervisor / duty manager" in page and "People" in page
