"""Completeness on the shared API and PNR messages, intact and with fields removed."""

from __future__ import annotations

import pytest

from apps.intake.models import SourceKind, Subject
from apps.intake.services import ingest_paths
from apps.quality import measure
from apps.quality.feeds import missing_fields
from apps.quality.indicators import quality_facts
from apps.quality.models import CarrierWeek
from tests.factories import DataSourceFactory

API_FILE = "passenger-messages/paxlst/gtas_apisMessage.txt"
PNR_FILE = "passenger-messages/pnrgov/gtas_pnrWithDoco.txt"


def _ingest(world, actor, kind, path, name):
    source = DataSourceFactory(owner_agency=world.customs, kind=kind, name=name)
    ingest_paths(actor=actor, source=source, paths=[path])
    return source


def _who(subject) -> str:
    return f"{subject.facts.get('surname')}, {subject.facts.get('given_names')}"


def _missing(source) -> dict[str, set[str]]:
    required = measure.required_by_feed()
    found = {}
    for subject in Subject.objects.filter(source=source, kind="traveller"):
        feed = "pnr" if subject.facts.get("message_type") == "pnrgov" else "api"
        found[_who(subject)] = set(missing_fields(feed, subject.facts, required[feed]))
    return found


@pytest.mark.parametrize(
    ("kind", "relative", "segments", "removed"),
    [
        # API: every date of birth (DTM+329).
        (SourceKind.API, API_FILE, ("DTM+329:",), {"date_of_birth"}),
        # PNR: the form of payment (FOP), the contact e-mail (IFT ... CTCE) and the address with its phone (ADD).
        (
            SourceKind.PNR,
            PNR_FILE,
            ("FOP+", "IFT+4:28::YY+CTCE", "ADD+"),
            {"payment_form", "contact_details"},
        ),
    ],
)
def test_removed_fields_are_counted_missing(
    world, customs_analyst, shared_data, tmp_path, kind, relative, segments, removed
):
    original = shared_data / relative
    text = original.read_text(encoding="latin-1")
    lines = text.replace("\r", "").split("'")
    kept = [seg for seg in lines if not seg.strip().startswith(segments)]
    assert len(kept) < len(lines), "the test's segments are no longer in the shared message"
    stripped = tmp_path / original.name
    stripped.write_text("'".join(kept), encoding="latin-1")

    intact = _ingest(world, customs_analyst, kind, original, "intact")
    cut = _ingest(world, customs_analyst, kind, stripped, "cut")
    before, after = _missing(intact), _missing(cut)
    assert before and before.keys() == after.keys()
    for name in before:
        assert removed.isdisjoint(before[name]), f"{name} already lacked {removed & before[name]}"
        assert after[name] == before[name] | removed

    measure.refresh()
    weeks = {w.source_id: w for w in CarrierWeek.objects.all()}
    travellers = len(before)
    assert weeks[cut.pk].records == weeks[intact.pk].records == travellers
    for name in removed:
        assert weeks[cut.pk].missing[name] == travellers and name not in weeks[intact.pk].missing
    assert weeks[cut.pk].complete == 0
    # The same count reaches the rules: each record of the cut message lacks more.
    subjects = list(Subject.objects.filter(source__in=[intact, cut], kind="traveller").order_by("pk"))
    facts = quality_facts(subjects)
    for subject in subjects:
        expected = len(before[_who(subject)]) + (len(removed) if subject.source_id == cut.pk else 0)
        assert facts[subject.pk]["feed_missing_fields"] == expected


def test_a_message_rejected_whole_counts_against_its_feed(world, customs_analyst, shared_data):
    source = _ingest(
        world,
        customs_analyst,
        SourceKind.PNR,
        shared_data / "passenger-messages/pnrgov/gtas_pnrBadFormat.txt",
        "bad",
    )
    measure.refresh()
    row = CarrierWeek.objects.get(source=source)
    assert (row.feed, row.carrier, row.records, row.rejected) == ("pnr", "", 0, 1)
    assert row.problems >= 1
