import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.agencies.models import Membership, Port
from apps.agencies.scoping import get_object_for
from apps.intake.models import DataSource
from apps.intake.services import share_source, shared_with, unshare_source
from tests.factories import DataSourceFactory


def test_sources_are_scoped_to_owner_agency(world, customs_analyst, police_liaison, outsider):
    mine = DataSourceFactory(owner_agency=world.customs, name="Declarations")
    theirs = DataSourceFactory(owner_agency=world.police, name="Lookouts")
    assert list(DataSource.objects.visible_to(customs_analyst)) == [mine]
    assert list(DataSource.objects.visible_to(police_liaison)) == [theirs]
    assert DataSource.objects.visible_to(outsider).count() == 0


def test_guardian_grant_to_agency_group_shares_with_the_whole_agency(
    world, customs_admin, police_liaison, outsider
):
    source = DataSourceFactory(owner_agency=world.customs)
    share_source(actor=customs_admin, source=source, agency=world.police)
    assert list(DataSource.objects.visible_to(police_liaison)) == [source]
    assert DataSource.objects.visible_to(outsider).count() == 0
    assert shared_with(source) == [world.police]
    unshare_source(actor=customs_admin, source=source, agency=world.police)
    assert DataSource.objects.visible_to(police_liaison).count() == 0


def test_only_owner_may_share(world, customs_admin, police_liaison):
    source = DataSourceFactory(owner_agency=world.customs)
    share_source(actor=customs_admin, source=source, agency=world.police)
    with pytest.raises(PermissionDenied):
        share_source(actor=police_liaison, source=source, agency=world.bio)


def test_get_object_for_answers_404_for_missing_and_out_of_scope_alike(world, outsider):
    source = DataSourceFactory(owner_agency=world.customs)
    with pytest.raises(Http404) as hidden:
        get_object_for(outsider, DataSource, pk=source.pk)
    with pytest.raises(Http404) as missing:
        get_object_for(outsider, DataSource, pk=source.pk + 1000)
    assert str(hidden.value) == str(missing.value)


def test_reference_data_is_visible_to_every_member(world, outsider, db, django_user_model):
    assert Port.objects.visible_to(outsider).count() == 2
    stranger = django_user_model.objects.create_user("stranger", password="x-password-1")
    assert Port.objects.visible_to(stranger).count() == 0


def test_memberships_are_visible_within_the_agency_only(customs_analyst, customs_supervisor, outsider):
    names = set(Membership.objects.visible_to(customs_supervisor).values_list("user__username", flat=True))
    assert names == {"alice", "bob"}
    assert set(Membership.objects.visible_to(outsider).values_list("user__username", flat=True)) == {
        "charlie"
    }
