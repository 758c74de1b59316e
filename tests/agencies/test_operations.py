import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.agencies.operations import OPERATIONS, can, check
from apps.agencies.roles import Role
from tests.factories import DataSourceFactory


def test_every_operation_names_known_roles():
    for operation, roles in OPERATIONS.items():
        assert roles, operation
        assert roles <= set(Role.values), operation


def test_role_decides_the_operation(customs_analyst, customs_supervisor, port_officer):
    assert can(customs_supervisor, "target.approve")
    assert not can(customs_analyst, "target.approve")
    assert can(port_officer, "exam.record")
    assert not can(customs_analyst, "exam.record")


def test_unknown_operation_is_a_programming_error(customs_analyst):
    with pytest.raises(KeyError):
        can(customs_analyst, "target.teleport")


def test_user_without_membership_may_do_nothing(db, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-password-1")
    assert not can(nobody, "reference.view")
    with pytest.raises(PermissionDenied):
        check(nobody, "reference.view")


def test_disabled_account_may_do_nothing(customs_supervisor):
    customs_supervisor.is_active = False
    customs_supervisor.save()
    customs_supervisor._ratc_membership = False  # drop the request-level cache
    assert not can(customs_supervisor, "target.approve")


def test_check_hides_out_of_scope_objects_as_not_found(world, outsider, customs_admin):
    source = DataSourceFactory(owner_agency=world.customs)
    with pytest.raises(Http404):
        check(outsider, "source.view", source)
    check(customs_admin, "source.share", source)  # owner's administrator may


def test_check_refuses_visible_but_not_allowed(world, customs_analyst):
    source = DataSourceFactory(owner_agency=world.customs)
    with pytest.raises(PermissionDenied):
        check(customs_analyst, "source.share", source)
