"""Factories that create their parents by default, so a test states only what it cares about."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from apps.agencies.models import Agency, AgencyKind, Membership, Port, PortCapacity, TransportMode
from apps.agencies.roles import Role
from apps.intake.models import DataSource, SourceKind

PASSWORD = "test-password-123"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")
    kind = AgencyKind.CUSTOMS
    country = "GB"


class PortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Port
        django_get_or_create = ("locode",)

    locode = factory.Sequence(
        lambda n: f"GB{chr(65 + n // 676 % 26)}{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}"
    )
    name = factory.LazyAttribute(lambda o: f"Port {o.locode}")
    mode = TransportMode.SEA


class PortCapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortCapacity

    port = factory.SubFactory(PortFactory)
    shift = "early"
    method = "physical"
    slots = 5


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.ANALYST

    @factory.post_generation
    def ports(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.ports.set(extracted)


class DataSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSource

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = SourceKind.DECLARATION
    owner_agency = factory.SubFactory(AgencyFactory)
    legal_basis = "Customs code, art. 46"


def member(username: str, agency: Agency, role: str, ports=()):
    """A user with a membership, created in one line."""
    return MembershipFactory(
        user=UserFactory(username=username), agency=agency, role=role, ports=list(ports)
    ).user
