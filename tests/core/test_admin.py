"""The admin, scoped by agency: a customs administrator who is not a superuser sees only what customs may.

The generic test walks ``admin.site._registry``: for every registered model with ``visible_to``, each row
the customs administrator may not see answers "does not exist" on its change page and is absent from the
changelist. A model registered later is covered without being listed here; if the world below has no row
of it that customs may not see, the test says so and someone adds one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.agencies import tokens
from apps.agencies.models import AgencyKind, CentreConfiguration, Membership, ReferenceData
from apps.agencies.roles import Role
from apps.core.admin import ScopedModelAdmin
from apps.intake.models import DataSource
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.targeting.models import JointOperation
from tests.factories import AgencyFactory, DataSourceFactory, member
from tests.targeting.factories import SubjectFactory, TargetFactory


def _admin_of(user):
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.all())
    return type(user).objects.get(pk=user.pk)  # drop the cached permissions


@pytest.fixture
def staff_admin(customs_admin, world):
    config = CentreConfiguration.current()
    config.national_agency = world.customs
    config.save()
    return _admin_of(customs_admin)


@pytest.fixture
def other_agencies_rows(world, police_liaison, outsider):
    """Rows of every scoped kind that customs may not see: police and immigration records."""
    immigration = AgencyFactory(code="IMM", name="Immigration Service", kind=AgencyKind.IMMIGRATION)
    police_source = DataSourceFactory(owner_agency=world.police, name="Police lookouts")
    subject = SubjectFactory(source=police_source, owner_agency=world.police)
    target = TargetFactory(subject=subject, owner_agency=world.police)
    operation = JointOperation.objects.create(
        name="Operation Nightjar",
        owner_agency=world.police,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=7),
    )
    operation.agencies.set([world.police, immigration])
    police_system = member("pol-system", world.police, Role.SYSTEM)
    tokens.issue(user=police_system, name="police feed")
    endpoint = WebhookEndpoint.objects.create(
        owner=police_system, url="https://pcs.police.example/hooks", events=["instruction.issued"], secret="x"
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="msg_1", event_type="instruction.issued", body="{}"
    )
    from apps.quality.models import CarrierContact

    CarrierContact.objects.create(source=police_source, carrier="PL", name="Police Air", email="d@pl.example")
    from apps.alerts.models import IncomingAlert, OutboundObject, Partner

    abroad = AgencyFactory(code="NLPOL", name="Netherlands Police", kind=AgencyKind.FOREIGN_PARTNER)
    partner = Partner.objects.create(
        name="Netherlands Police", agency=abroad, owner_agency=world.police,
        account=member("taxii.nlpol", abroad, Role.SYSTEM),
    )  # fmt: skip
    IncomingAlert.objects.create(
        partner=partner, stix_id="grouping--6f0e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", modified=timezone.now(),
        name="Narcotics alert", subject_kind="consignment", risk_area="narcotics", tlp="amber+strict", raw={},
    )  # fmt: skip
    OutboundObject.objects.create(
        partner=partner, kind=OutboundObject.Kind.ALERT, stix_id="grouping--1", modified="2026-12-01T00:00:00Z",
        bundle={}, summary="Police alert",
    )  # fmt: skip
    return {"source": police_source, "target": target, "operation": operation}


def _change_url(model, pk):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def _changelist_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_admin_goes_through_the_scoped_base():
    unscoped = [m._meta.label for m, a in admin.site._registry.items() if not isinstance(a, ScopedModelAdmin)]
    assert unscoped == []


def test_no_admin_page_shows_another_agencys_rows(client, staff_admin, other_agencies_rows):
    client.force_login(staff_admin)
    checked = []
    for model in admin.site._registry:
        rows = model._default_manager.all()
        if not hasattr(rows, "visible_to"):
            continue
        if issubclass(model, ReferenceData):
            continue  # agencies, ports, capacities: visible to every member of the floor
        hidden = rows.exclude(pk__in=rows.visible_to(staff_admin).values("pk"))
        assert hidden.exists(), f"add a row of {model._meta.label} that customs may not see to this test"
        changelist = client.get(_changelist_url(model))
        assert changelist.status_code == 200, model
        for row in hidden:
            url = _change_url(model, row.pk)
            answer = client.get(url)
            assert answer.status_code in {302, 404}, (model, answer.status_code)
            if answer.status_code == 302:
                assert answer.url == reverse("admin:index")
            assert url not in changelist.content.decode(), model
            assert client.post(url, {}).status_code in {302, 403, 404}
            delete = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[row.pk])
            assert client.post(delete, {"post": "yes"}).status_code in {302, 403, 404}
            assert rows.filter(pk=row.pk).exists()
        checked.append(model._meta.label)
    assert {
        "intake.DataSource",
        "targeting.JointOperation",
        "targeting.Target",
        "agencies.Membership",
    } <= set(checked)


def test_the_customs_administrator_does_not_see_the_police_operation(
    client, staff_admin, other_agencies_rows
):
    client.force_login(staff_admin)
    page = client.get(_changelist_url(JointOperation)).content.decode()
    assert "Operation Nightjar" not in page
    page = client.get(_changelist_url(DataSource)).content.decode()
    assert "Police lookouts" not in page


def test_a_shared_record_is_seen_but_not_changed(client, staff_admin, world, other_agencies_rows):
    operation = other_agencies_rows["operation"]
    operation.agencies.add(world.customs)
    client.force_login(staff_admin)
    url = _change_url(JointOperation, operation.pk)
    page = client.get(url)
    assert page.status_code == 200 and "Operation Nightjar" in page.content.decode()
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    operation.refresh_from_db()
    assert operation.name == "Operation Nightjar"


def test_the_customs_administrator_cannot_give_a_source_to_another_agency(client, staff_admin, world):
    client.force_login(staff_admin)
    add = reverse("admin:intake_datasource_add")
    form = client.get(add).content.decode()
    assert f'value="{world.customs.pk}"' in form and f'value="{world.police.pk}"' not in form
    data = {"name": "Smuggled", "kind": "declaration", "owner_agency": world.police.pk, "legal_basis": "none",
            "retention_days": 10, "depersonalise_after_days": 5}  # fmt: skip
    client.post(add, data)
    assert not DataSource.objects.filter(name="Smuggled").exists()
    client.post(add, data | {"owner_agency": world.customs.pk})
    assert DataSource.objects.get(name="Smuggled").owner_agency == world.customs


def test_people_of_other_agencies_and_superusers_are_out_of_reach(client, staff_admin, police_liaison):
    root = type(staff_admin).objects.create_superuser("root", "root@example.org", "x")
    Membership.objects.create(user=root, agency=staff_admin.membership.agency, role=Role.ADMINISTRATOR)
    client.force_login(staff_admin)
    users = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "paula" not in users and ">root<" not in users and "ada" in users
    assert client.get(_change_url(type(root), root.pk)).status_code == 302
    own = client.get(_change_url(type(staff_admin), staff_admin.pk)).content.decode()
    assert 'name="is_superuser"' not in own and 'name="user_permissions"' not in own


def test_groups_and_library_tables_are_for_superusers_only(client, staff_admin):
    client.force_login(staff_admin)
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "Groups" not in index and "Access attempts" not in index


def test_installation_settings_are_for_the_national_centre(client, world, staff_admin):
    police_admin = _admin_of(member("pat", world.police, Role.ADMINISTRATOR))
    client.force_login(police_admin)
    assert client.get(reverse("admin:agencies_centreconfiguration_changelist")).status_code == 403
    assert client.get(_change_url(type(world.customs), world.customs.pk)).status_code in {302, 403}
    client.force_login(staff_admin)
    assert client.get(reverse("admin:agencies_centreconfiguration_changelist")).status_code == 200


def test_the_words_for_what_to_look_for_are_the_national_centres(client, world, staff_admin):
    """What every officer is told to look for per risk area: a partner agency's administrator may not
    read or write it; the national centre's does."""
    from apps.targeting.models import ExaminationFocus

    words = {"risk_area": "narcotics", "text": "Dog first."}
    client.force_login(_admin_of(member("pat", world.police, Role.ADMINISTRATOR)))
    for name in ("changelist", "add"):
        assert client.get(reverse(f"admin:targeting_examinationfocus_{name}")).status_code == 403
    client.post(reverse("admin:targeting_examinationfocus_add"), words)
    assert not ExaminationFocus.objects.exists()
    client.force_login(staff_admin)
    assert client.post(reverse("admin:targeting_examinationfocus_add"), words).status_code == 302
    assert ExaminationFocus.words()["narcotics"] == "Dog first."


def test_api_tokens_are_never_shown_in_clear(client, staff_admin, world):
    integrator = member("integrator", world.customs, Role.SYSTEM)
    issued = tokens.issue(user=integrator, name="port system")
    client.force_login(staff_admin)
    listing = client.get(reverse("admin:agencies_apitoken_changelist")).content.decode()
    assert issued.secret not in listing and f"{issued.token.prefix}…" in listing
    detail = client.get(reverse("admin:agencies_apitoken_change", args=[issued.token.pk])).content.decode()
    assert issued.secret not in detail and "port system" in detail
    assert issued.secret[:12] not in listing + detail


def test_superusers_see_every_agency(client, other_agencies_rows):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client.force_login(root)
    assert "Operation Nightjar" in client.get(_changelist_url(JointOperation)).content.decode()


def test_the_demo_administrator_is_an_agency_administrator(client, db):
    from apps.core.demo import ensure_demo_world

    ensure_demo_world()
    demo_admin = get_user_model().objects.get(username="admin")
    assert demo_admin.is_staff and not demo_admin.is_superuser
    police = demo_admin.membership.agency.__class__.objects.get(code="POL")
    JointOperation.objects.create(
        name="Operation Kestrel",
        owner_agency=police,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=1),
    )
    client.force_login(demo_admin)
    assert "Operation Kestrel" not in client.get(_changelist_url(JointOperation)).content.decode()
    sources = client.get(_changelist_url(DataSource)).content.decode()
    assert "Police lookouts" not in sources and "Import declarations" in sources


def test_a_shared_target_in_the_admin_does_not_say_it_was_drawn(
    client, staff_admin, world, other_agencies_rows
):
    """The customs administrator sees a police target shared with customs, but not the police's draw."""
    from apps.targeting.models import Target, TargetShare

    target = other_agencies_rows["target"]
    Target.objects.filter(pk=target.pk).update(random_control=True)
    client.force_login(staff_admin)
    url = _change_url(Target, target.pk)
    assert client.get(url).status_code != 200  # not shared yet: out of reach
    TargetShare.objects.create(target=target, agency=world.customs, code="see")
    page = client.get(url)
    assert page.status_code == 200 and "field-state" in page.content.decode()
    assert "field-random_control" not in page.content.decode()
    # The police's own administrator reads it.
    client.force_login(_admin_of(member("polad", world.police, Role.ADMINISTRATOR)))
    assert "field-random_control" in client.get(url).content.decode()
