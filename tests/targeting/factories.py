"""Factories for targets: a target makes its subject, and a subject its data source, by default."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.intake.models import Subject, SubjectKind
from apps.targeting.models import RiskArea, Target, TargetState, Transition
from tests.factories import AgencyFactory, DataSourceFactory


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    kind = SubjectKind.CONSIGNMENT
    source = factory.SubFactory(DataSourceFactory, owner_agency=factory.SubFactory(AgencyFactory, code="CUS"))
    owner_agency = factory.LazyAttribute(lambda o: o.source.owner_agency)
    external_id = factory.Sequence(lambda n: f"DEC-{n:07d}")
    title = factory.Sequence(lambda n: f"Consignment {n} of machine parts")
    arrival_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=12))
    received_at = factory.LazyFunction(timezone.now)
    facts = factory.LazyFunction(lambda: {"hs_code": "8471", "origin_country": "CN"})
    details = factory.LazyFunction(dict)


class TravellerFactory(SubjectFactory):
    kind = SubjectKind.TRAVELLER
    title = factory.Sequence(lambda n: f"IVANOVA, Maria {n}")
    facts = factory.LazyFunction(lambda: {"document_number": "P1234567", "nationality": "XX"})


class TargetFactory(factory.django.DjangoModelFactory):
    """A target in any state; its ``Transition`` history starts with the nomination."""

    class Meta:
        model = Target
        skip_postgeneration_save = True

    subject = factory.SubFactory(SubjectFactory)
    owner_agency = factory.LazyAttribute(lambda o: o.subject.owner_agency)
    state = TargetState.NOMINATED
    risk_area = RiskArea.NARCOTICS
    reasons = factory.LazyFunction(
        lambda: [{"kind": "rule", "text": "Cocaine route, new consignee", "ref": "R-12"}]
    )
    priority = 50
    port = factory.LazyAttribute(lambda o: o.subject.port)
    arrival_at = factory.LazyAttribute(lambda o: o.subject.arrival_at)

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if create:
            Transition.objects.create(
                target=obj, to_state=TargetState.NOMINATED, version=obj.version, reason="factory"
            )
