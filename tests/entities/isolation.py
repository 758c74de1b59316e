from django.utils import timezone

from apps.entities.models import EntityLink
from apps.intake.models import Subject, SubjectLink
from tests.factories import DataSourceFactory


def _subject(world, name: str = "SECRET") -> Subject:
    source = DataSourceFactory(owner_agency=world.customs)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=world.customs, external_id=f"api:XX1:{name}",
        title=f"{name}, Person on XX1", facts={"surname": name}, received_at=timezone.now(),
    )  # fmt: skip


def _link(world) -> EntityLink:
    a, b = _subject(world, "SECRET"), _subject(world, "SECRETT")
    SubjectLink.objects.create(from_subject=a, to_subject=b, kind=SubjectLink.Kind.SAME_PERSON)
    return EntityLink.objects.create(
        from_subject=a, to_subject=b, kind=SubjectLink.Kind.SAME_PERSON, score=0.99, weight=8, reasons=[]
    )


SCOPED_ROUTES = {
    "entities:network": lambda w: {"pk": _subject(w).pk},
    "entities:network_json": lambda w: {"pk": _subject(w).pk},
    "entities:decide": lambda w: {"pk": _link(w).pk},
}
