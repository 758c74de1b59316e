from django.utils import timezone

from apps.compliance.models import UnmaskRequest
from apps.intake.models import Subject
from tests.factories import DataSourceFactory, member


def _subject(world):
    source = DataSourceFactory(owner_agency=world.customs, kind="pnr")
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=world.customs, external_id="pnr:Z", title="HIDDEN",
        received_at=timezone.now(),
    )  # fmt: skip


def _unmask(world):
    asker = member(f"asker{UnmaskRequest.objects.count()}", world.customs, "analyst")
    return UnmaskRequest.objects.create(
        subject=_subject(world), agency=world.customs, requested_by=asker, reason="why"
    )


# POST-only routes answer 405 to GET; the maker still proves an outsider cannot reach them (see test below).
SCOPED_ROUTES = {
    "compliance:ask_unmask": lambda w: {"subject_pk": _subject(w).pk},
    "compliance:decide": lambda w: {"pk": _unmask(w).pk},
    "unmaskrequest-approve": lambda w: {"pk": _unmask(w).pk},
    "unmaskrequest-refuse": lambda w: {"pk": _unmask(w).pk},
}
