"""Cross-agency grants: guardian object permissions to an agency's group, read only by ``scoping``."""

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from apps.agencies.models import Port
from apps.agencies.operations import membership_of
from apps.agencies.scoping import agencies_granted, granted_pks
from apps.intake.models import DataSource
from tests.factories import DataSourceFactory


def test_a_grant_is_read_in_the_same_query_as_the_rows(world, police_liaison, django_assert_num_queries):
    source = DataSourceFactory(owner_agency=world.customs)
    assign_perm("intake.view_datasource", world.police.group, source)
    membership_of(police_liaison)  # the membership (and its agency's group) is read once per request
    with django_assert_num_queries(1) as captured:
        assert list(DataSource.objects.visible_to(police_liaison)) == [source]
    assert "intake_datasourcegroupobjectpermission" in captured.captured_queries[0]["sql"]


def test_only_an_object_grant_of_the_view_permission_counts(world, police_liaison):
    source = DataSourceFactory(owner_agency=world.customs)
    # A model-wide permission of the group is no grant, nor is another permission on the object.
    world.police.group.permissions.add(Permission.objects.get(codename="view_datasource"))
    assign_perm("intake.change_datasource", world.police.group, source)
    assert not DataSource.objects.visible_to(police_liaison).exists()
    assign_perm("intake.view_datasource", world.police.group, source)
    assert list(DataSource.objects.visible_to(police_liaison)) == [source]


def test_a_grant_to_one_agency_shows_nothing_to_another(world, police_liaison, outsider):
    source = DataSourceFactory(owner_agency=world.customs)
    assign_perm("intake.view_datasource", world.police.group, source)
    assert not DataSource.objects.visible_to(outsider).exists()
    assert list(granted_pks(DataSource, membership_of(police_liaison))) == [source.pk]


def test_agencies_granted_names_the_agencies_holding_a_grant(world):
    source = DataSourceFactory(owner_agency=world.customs)
    assert not agencies_granted(source).exists()
    assign_perm("intake.view_datasource", world.police.group, source)
    assign_perm("intake.change_datasource", world.bio.group, source)
    assert list(agencies_granted(source)) == [world.police]
    assert list(agencies_granted(source, "change_datasource")) == [world.bio]


def test_a_model_without_its_own_grant_table_is_refused(world, police_liaison):
    with pytest.raises(TypeError, match="direct-foreign-key"):
        granted_pks(Port, membership_of(police_liaison))
