"""A small network for the network tests (page, JSON and browser): who shares what with whom.

    ana ─booking─ ben ─phone─ cat ─e-mail─ dan            (customs' PNR source)
     │
     └─phone─ pol (a police record, not shared with customs) ─e-mail─ eve (customs)

Customs may see ana, ben, cat, dan and eve; pol is the police's. Eve is reachable only through pol: for
customs she is not in ana's network at all. Dan arrived a year ago.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.intake.models import SourceKind, Subject, SubjectKey, SubjectLink
from apps.intake.normalise import key_hash
from tests.factories import DataSourceFactory


def traveller(source, name: str, *, days_ago: int = 1) -> Subject:
    when = timezone.now() - timedelta(days=days_ago)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=source.owner_agency, external_id=f"pnr:X:{name}",
        title=f"{name.upper()}, Test", facts={"surname": name.upper()}, received_at=when, arrival_at=when,
    )  # fmt: skip


def share(kind: str, value: str, *subjects: Subject) -> None:
    for subject in subjects:
        SubjectKey.objects.create(subject=subject, key=key_hash(kind, value))


def build(world) -> dict[str, Subject]:
    customs = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, name="PNR (customs)")
    police = DataSourceFactory(owner_agency=world.police, kind=SourceKind.PNR, name="PNR (police)")
    s = {name: traveller(customs, name) for name in ("ana", "ben", "cat", "eve")}
    s["dan"] = traveller(customs, "dan", days_ago=400)
    s["pol"] = traveller(police, "pol")
    SubjectLink.objects.create(
        from_subject=s["ana"],
        to_subject=s["ben"],
        kind=SubjectLink.Kind.CO_TRAVELLER,
        reason="same booking ABC123",
    )
    share("phone", "+447700900001", s["ben"], s["cat"])
    share("email", "cat@example.org", s["cat"], s["dan"])
    share("phone", "+447700900002", s["ana"], s["pol"])
    share("email", "pol@example.org", s["pol"], s["eve"])
    return s
