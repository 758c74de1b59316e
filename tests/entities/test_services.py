"""Entity resolution in the product: an API list and a PNR of one flight go through the real intake, the
linker finds the passenger whose booking spells him otherwise, an analyst confirms or splits, and the
decision holds when the booking is sent again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.http import Http404
from django.test import TestCase
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.compliance.erasure import erase_copies
from apps.entities.models import BlockKey, EntityLink, LinkBacklog, LinkDecision, LinkRecord
from apps.entities.services import decide_link
from apps.entities.tasks import link_backlog_task
from apps.intake.identity import person_view
from apps.intake.models import SourceKind, Subject, SubjectLink
from apps.intake.services import parse_payload, store_messages
from apps.risk.models import RiskSettings
from apps.simulator.generators import Booking, FlightPlan, Person, paxlst, pnrgov
from tests.factories import DataSourceFactory

BORN = date(1979, 4, 12)


def _store(source, name: str, text: str) -> None:
    result = parse_payload(text.encode(), name=name)
    assert not result.problems, result.problems
    # Intake queues the batch's linking, which a worker does after the commit (inline in the embedded
    # mode): the test's transaction never commits, so the callbacks are run here as a commit runs them.
    with TestCase.captureOnCommitCallbacks(execute=True):
        store_messages(source=source, parsed=[(m, name) for m in result.messages])


@pytest.fixture
def flight(world):
    """API (customs) and PNR (police, shared with customs) of one flight: a passenger, his wife and a
    namesake travelling alone. The PNR spells him given name first with a typo, and his passport
    number differs (renewed after booking): no exact key joins his two records."""
    # No random control: a traveller drawn by chance (about 1 in 100, by its id) would get a target, which
    # keeps it from being deleted where a test deletes one.
    RiskSettings.objects.filter(pk=RiskSettings.current().pk).update(random_control_share=0.0)
    api = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API, name="API")
    pnr = DataSourceFactory(owner_agency=world.police, kind=SourceKind.PNR, name="PNR (police)")
    assign_perm("intake.view_datasource", world.customs.group, pnr)
    departure = (timezone.now() + timedelta(hours=6)).replace(second=0, microsecond=0, tzinfo=None)
    plan = FlightPlan("LO", "281", "WAW", "LHR", departure, departure + timedelta(hours=2, minutes=40))
    expiry = date(2031, 1, 1)
    piotr = Person("KOWALSKI", "PIOTR", "M", BORN, "POL", "PL1234567", expiry)
    ewa = Person("KOWALSKI", "EWA", "F", date(1982, 9, 3), "POL", "PL2345678", expiry)
    namesake = Person("KOWALSKI", "PIOTR", "M", date(1960, 1, 30), "POL", "PL9999999", expiry)
    sent = departure - timedelta(hours=2)
    _store(api, "api.edi", paxlst(plan, [piotr, ewa, namesake], sent=sent, ref="API0001"))
    in_booking = Person("PIOTR", "KOWALKSI", "M", BORN, "POL", "PL7654321", expiry)
    family = Booking("KOW123", departure.date() - timedelta(days=3), "CC", [in_booking, ewa], [1, 1])
    _store(pnr, "pnr.edi", pnrgov(plan, [family], sent=sent, ref="PNR0001"))
    travellers = Subject.objects.filter(kind="traveller", status=Subject.Status.CURRENT)
    return {
        "api": api,
        "pnr": pnr,
        "plan": plan,
        "booking": family,
        "piotr_api": travellers.get(
            source=api, facts__given_names="PIOTR", facts__date_of_birth=BORN.isoformat()
        ),
        "namesake_api": travellers.get(source=api, facts__date_of_birth="1960-01-30"),
        "piotr_pnr": travellers.get(source=pnr, facts__surname="PIOTR"),
        "ewa_pnr": travellers.get(source=pnr, facts__given_names="EWA"),
    }


def resend(flight) -> None:
    """The airline sends the booking again, changed (a bag added): new versions of its passengers."""
    booking = flight["booking"]
    changed = Booking(booking.locator, booking.created, booking.payment, booking.people, [2, 1])
    sent = timezone.now().replace(tzinfo=None, microsecond=0)
    _store(flight["pnr"], "pnr2.edi", pnrgov(flight["plan"], [changed], sent=sent, ref="PNR0002"))


def _same(a: Subject, b: Subject) -> bool:
    return SubjectLink.objects.filter(
        kind=SubjectLink.Kind.SAME_PERSON, from_subject_id=min(a.pk, b.pk), to_subject_id=max(a.pk, b.pk)
    ).exists()


def test_intake_links_the_passenger_across_spellings_and_keeps_family_and_namesake_apart(
    flight, customs_analyst
):
    assert _same(flight["piotr_api"], flight["piotr_pnr"])
    link = EntityLink.objects.get(from_subject=flight["piotr_api"], to_subject=flight["piotr_pnr"])
    assert link.score > 0.9
    assert "name order swapped" in link.reasons[0]
    assert {"same date of birth", "different travel documents", "same flight"} <= set(link.reasons)
    # His wife shares his surname, nationality, booking and flight; the namesake his whole name.
    assert not _same(flight["ewa_pnr"], flight["piotr_api"])
    assert not _same(flight["namesake_api"], flight["piotr_pnr"])
    # One page for the person: the PNR record is merged with the API record it was linked to.
    page = person_view(customs_analyst, flight["piotr_api"])
    assert {r.id for r in page.records} == {flight["piotr_api"].pk, flight["piotr_pnr"].pk}
    pnr_row = next(r for r in page.records if r.id == flight["piotr_pnr"].pk)
    assert pnr_row.reason == "linked as the same by entity resolution"


def test_a_split_sticks_when_the_booking_is_sent_again(flight, customs_analyst, police_liaison, outsider):
    link = EntityLink.objects.get(from_subject=flight["piotr_api"], to_subject=flight["piotr_pnr"])
    with pytest.raises(Http404):  # another agency: the link does not exist for him
        decide_link(actor=outsider, link=link, decision="split", reason="not him")
    with pytest.raises(ValueError):
        decide_link(actor=customs_analyst, link=link, decision="split", reason=" ")
    decide_link(
        actor=customs_analyst, link=link, decision="split", reason="Two men: the PNR's passport differs"
    )
    assert not _same(flight["piotr_api"], flight["piotr_pnr"])
    assert LinkDecision.objects.get().decided_by == customs_analyst

    resend(flight)  # new versions of the booking's passengers, linked afresh
    again = Subject.objects.get(source=flight["pnr"], facts__surname="PIOTR", status=Subject.Status.CURRENT)
    assert again.pk != flight["piotr_pnr"].pk
    assert not _same(flight["piotr_api"], again)
    assert flight["piotr_api"].pk not in {r.id for r in person_view(customs_analyst, again).records}


def test_a_confirmation_sticks_and_only_an_owner_agency_decides(flight, customs_analyst, world):
    from tests.factories import member

    link = EntityLink.objects.get(from_subject=flight["piotr_api"], to_subject=flight["piotr_pnr"])
    bio_analyst = member("bea", world.bio, "analyst")
    with pytest.raises(Http404):
        decide_link(actor=bio_analyst, link=link, decision="confirm", reason="seen him")
    decide_link(
        actor=customs_analyst, link=link, decision="confirm", reason="Same man: passport renewed in March"
    )
    assert EntityLink.objects.get(pk=link.pk).status == EntityLink.Status.CONFIRMED
    resend(flight)
    again = Subject.objects.get(source=flight["pnr"], facts__surname="PIOTR", status=Subject.Status.CURRENT)
    relinked = EntityLink.objects.get(from_subject=flight["piotr_api"], to_subject=again)
    assert relinked.status == EntityLink.Status.CONFIRMED and "confirmed by an analyst" in relinked.reasons


def test_a_partner_who_only_reads_a_source_may_not_decide(flight, world):
    """The police own the PNR and see nothing of customs' API list: the link is not theirs to see."""
    from tests.factories import member

    police_analyst = member("pete", world.police, "analyst")
    link = EntityLink.objects.get(from_subject=flight["piotr_api"], to_subject=flight["piotr_pnr"])
    with pytest.raises(Http404):
        decide_link(actor=police_analyst, link=link, decision="split", reason="not him")
    # Customs share their API list with the police: now visible, and still not theirs to decide.
    assign_perm("intake.view_datasource", world.police.group, flight["api"])
    api_only = EntityLink.objects.filter(from_subject__source=flight["api"], to_subject__source=flight["api"])
    assert not api_only.exists()
    cross = EntityLink.objects.get(pk=link.pk)
    police_analyst = type(police_analyst).objects.get(pk=police_analyst.pk)  # fresh membership cache
    decide_link(actor=police_analyst, link=cross, decision="confirm", reason="Police own the PNR record")
    assert LinkDecision.objects.get().agency == world.police


def test_a_later_batch_links_to_a_record_kept_prepared_or_stored_before_records_were_kept(flight):
    """Each stored traveller's linking fields are kept once (``LinkRecord``); a traveller stored before
    they were kept (its row missing) is prepared from its facts when a batch needs it, and kept then."""
    piotr_api, piotr_pnr = flight["piotr_api"], flight["piotr_pnr"]
    assert LinkRecord.objects.filter(subject_id__in=[piotr_api.pk, piotr_pnr.pk]).count() == 2
    LinkRecord.objects.filter(subject_id=piotr_api.pk).delete()
    resend(flight)
    again = Subject.objects.get(
        source=flight["pnr"], kind="traveller", status=Subject.Status.CURRENT, facts__surname="PIOTR"
    )
    assert again.pk != piotr_pnr.pk
    assert _same(piotr_api, again)
    assert LinkRecord.objects.filter(subject_id=piotr_api.pk).exists()


def test_erasing_a_kept_record_erases_its_linking_fields(flight):
    """A traveller erased after its retention but kept (a target points at it) is scrubbed in place:
    the copy of its names the linker keeps goes with its facts; a deleted traveller's goes with it."""
    piotr, ewa = flight["piotr_api"], flight["ewa_pnr"]
    assert "KOWALSKI" in LinkRecord.objects.get(subject_id=piotr.pk).fields
    erase_copies(subject_ids=[piotr.pk], kept_ids={piotr.pk})
    assert not LinkRecord.objects.filter(subject_id=piotr.pk).exists()
    Subject.objects.filter(pk=ewa.pk).delete()
    assert not LinkRecord.objects.filter(subject_id=ewa.pk).exists()


def test_a_deleted_traveller_takes_its_blocking_keys_with_it(flight):
    """Blocking keys carry no foreign-key constraint in the database (a bulk intake writes seven a
    traveller); Django's collector still deletes them with their subject."""
    ewa = flight["ewa_pnr"]
    assert BlockKey.objects.filter(subject_id=ewa.pk).exists()
    Subject.objects.filter(pk=ewa.pk).delete()
    assert not BlockKey.objects.filter(subject_id=ewa.pk).exists()


def test_a_batch_is_linked_after_its_commit_as_things_stood_when_it_was_stored(flight):
    """Intake queues a batch's linking in its transaction and a worker links it after the commit. A
    task lost on the way leaves the batch queued for the next; a batch linked after a later one has
    superseded its record links the record as it stood when it was stored, as linking in the
    transaction did."""
    booking = flight["booking"]
    sent = timezone.now().replace(tzinfo=None, microsecond=0)
    for ref, bags in (("PNR0002", [2, 1]), ("PNR0003", [3, 1])):
        changed = Booking(booking.locator, booking.created, booking.payment, booking.people, bags)
        result = parse_payload(pnrgov(flight["plan"], [changed], sent=sent, ref=ref).encode(), name=ref)
        with TestCase.captureOnCommitCallbacks(execute=False) as queued:  # no worker yet
            store_messages(source=flight["pnr"], parsed=[(m, ref) for m in result.messages])
        assert queued  # the task, asked for after the commit
    versions = Subject.objects.filter(source=flight["pnr"], facts__surname="PIOTR").order_by("version")
    second, third = versions[1], versions[2]
    assert second.status == Subject.Status.SUPERSEDED and LinkBacklog.objects.count() == 2
    assert not _same(flight["piotr_api"], second) and not _same(flight["piotr_api"], third)

    assert link_backlog_task() == 2  # the next task links both batches, oldest first
    assert _same(flight["piotr_api"], second) and _same(flight["piotr_api"], third)
    assert not LinkBacklog.objects.exists() and link_backlog_task() == 0
