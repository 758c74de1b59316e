import datetime as dt

from django.utils import timezone

from apps.intake.models import SourceKind
from apps.quality.measure import week_of
from apps.quality.models import CarrierWeek
from tests.factories import DataSourceFactory


def _carrier(world):
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API)
    CarrierWeek.objects.create(
        source=source, feed="api", carrier="ZZ", week=week_of(timezone.now() - dt.timedelta(minutes=1)),
        records=3, complete=2, missing={"nationality": 1},
    )  # fmt: skip
    return {"source_pk": source.pk, "carrier": "ZZ"}


SCOPED_ROUTES = {
    "quality:carrier": _carrier,
    "quality:request": _carrier,
}
