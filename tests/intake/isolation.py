from django.utils import timezone

from apps.intake.models import IntakeRun, Subject
from tests.factories import DataSourceFactory


def _subject(world):
    source = DataSourceFactory(owner_agency=world.customs)
    return Subject.objects.create(
        kind="traveller",
        source=source,
        owner_agency=world.customs,
        external_id="api:XX1:2026-01-01:P123",
        title="SECRET, Person on XX1",
        facts={"surname": "SECRET"},
        received_at=timezone.now(),
    )


def _run(world):
    return IntakeRun.objects.create(
        source=DataSourceFactory(owner_agency=world.customs), files=["secret.edi"]
    )


SCOPED_ROUTES = {
    "intake:source": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
    "source-detail": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
    "intake:subject": lambda w: {"pk": _subject(w).pk},
    "subject-detail": lambda w: {"pk": _subject(w).pk},
    "intake:run": lambda w: {"pk": _run(w).pk},
    "intakerun-detail": lambda w: {"pk": _run(w).pk},
}
