"""Every key screened: containers, vessel IMO numbers, phones, e-mails, documents and payment cards are
stored in one normal form, found whatever form a subject gives them in, and refused when they are bad."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.compliance.masking import MASK, masked_facts
from apps.intake.keys import card_key
from apps.intake.models import SourceKind, Subject
from apps.intake.normalise import traveller_drafts
from apps.intake.records.passenger import PassengerReport, TravelDocument, Traveller
from apps.watchlists.importers import WatchlistImportError, load_generic_csv
from apps.watchlists.screening import screen_subject, screen_subjects
from apps.watchlists.services import entry_from_dict
from tests.factories import DataSourceFactory
from tests.watchlists.helpers import make_entry, make_list

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"


@pytest.fixture
def keys_list(world):
    lookouts = make_list(world.police, name="Key lookouts")
    entries = {
        "container": make_entry(lookouts, "csqu 305438-3", kind="container"),
        "phone": make_entry(lookouts, "+44 20 7946 0958", kind="phone"),
        "email": make_entry(lookouts, "Courier.Desk@Example.ORG", kind="email"),
        "vessel": make_entry(lookouts, "Ocean Star", kind="vessel", imo=["IMO 9321483"]),
        "card": make_entry(lookouts, CARD, kind="payment_card"),
        "person": make_entry(
            lookouts,
            "Ivan Petrovsky",
            documents=[{"type": "passport", "number": "P-987 65432", "country": "RU"}],
            emails=["ivan@example.net"],
        ),
    }
    return entries


def subject(world, kind: str, facts: dict) -> Subject:
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR)
    return Subject.objects.create(
        kind=kind, source=source, owner_agency_id=world.customs.pk, external_id=f"{kind}-{len(facts)}",
        title=kind, facts=facts, received_at=timezone.now(),
    )  # fmt: skip


def test_key_entries_are_stored_in_normal_form_and_a_card_only_as_its_hash(keys_list):
    assert keys_list["container"].name == "CSQU3054383"
    assert keys_list["phone"].identifiers == {"phone": ["+442079460958"]}
    assert keys_list["email"].identifiers == {"email": ["courier.desk@example.org"]}
    assert keys_list["vessel"].identifiers == {"imo": ["9321483"]}
    card = keys_list["card"]
    assert card.identifiers == {"payment_card": [card_key(CARD)]} and card.name == "Payment card ending 1111"
    assert "4111111111111111" not in str(card.__dict__)
    assert keys_list["person"].identifiers == {"email": ["ivan@example.net"], "document": ["P98765432"]}


def test_a_traveller_is_found_by_phone_in_another_format_email_in_other_case_card_and_document(
    world, keys_list
):
    report = PassengerReport(
        source="pnrgov",
        message_ref="M1",
        record_locator="XX:ABC123",
        travellers=[
            Traveller(
                surname="Smith",
                given_names="Jo",
                country_of_residence="GB",
                phones=["020 7946 0958"],
                emails=["COURIER.desk//EXAMPLE.org"],
                payment_card_hashes=[card_key("4111-1111-1111-1111")],
                documents=[TravelDocument(doc_type="P", number="P98765432", issuing_country="RU")],
            )
        ],
    )
    (draft,) = traveller_drafts(report)
    # The values are kept (not counts), masked with the traveller; the card only as a keyed hash.
    assert draft.facts["phone"] == ["+442079460958"] and draft.facts["email"] == ["courier.desk@example.org"]
    assert masked_facts(draft.facts)["phone"] == MASK and masked_facts(draft.facts)["email"] == MASK
    assert card_key(CARD) not in str(draft.details) + str(draft.facts)
    traveller = subject(world, "traveller", draft.facts)
    hits = screen_subjects([traveller])[traveller.pk]
    by_entry = {h.entry_pk: h for h in hits}
    wanted = {keys_list[k].pk for k in ("phone", "email", "card", "person")}
    assert wanted <= set(by_entry)
    assert by_entry[keys_list["phone"].pk].subject_field == "phone number"
    assert by_entry[keys_list["person"].pk].subject_field == "travel document"
    card_hit = by_entry[keys_list["card"].pk]
    assert card_hit.query == "payment card" and "4111" not in card_hit.alias + " ".join(card_hit.reasons)
    # The per-subject path finds the same.
    assert {h.entry_pk for h in screen_subject(traveller)} == set(by_entry)


def test_a_document_of_another_country_is_no_document_hit(world, keys_list):
    traveller = subject(world, "traveller", {"document_number": "P98765432", "document_country": "UA"})
    assert keys_list["person"].pk not in {h.entry_pk for h in screen_subject(traveller)}


def test_consignments_conveyances_and_traders_are_screened_on_their_own_keys(world, keys_list):
    consignment = subject(
        world, "consignment", {"container_numbers": ["CSQU3054383"], "vessel_imo": "9321483"}
    )
    vessel = subject(world, "conveyance", {"vessel_imo": "9321483", "vessel_name": "Blue Horizon"})
    trader = subject(
        world, "trader", {"trader_name": "Ocean Star", "trader_id": "GB1", "email": ["Ivan@Example.net"]}
    )
    found = screen_subjects([consignment, vessel, trader])
    assert {h.entry_pk for h in found[consignment.pk]} == {keys_list["container"].pk, keys_list["vessel"].pk}
    assert {h.entry_pk for h in found[vessel.pk]} == {keys_list["vessel"].pk}
    # A trader is screened by its name (``trader_name``, as intake writes it) and its e-mail.
    assert keys_list["person"].pk in {h.entry_pk for h in found[trader.pk]}
    assert {h.subject_field for h in found[consignment.pk]} == {"container", "vessel IMO"}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "container", "name": "CSQU3054384"}, "name", "check digit"),
        ({"kind": "phone", "name": "020 7946 0958"}, "name", "country code"),
        ({"kind": "email", "name": "desk at example.org"}, "name", "not an e-mail"),
        ({"kind": "payment_card", "name": "XXXXXXXXXXXX1111"}, "name", "full number"),
        ({"kind": "vessel", "name": "Ocean Star", "imo": ["9321484"]}, "imo", "check digit"),
        ({"kind": "person", "name": "Jo", "phones": ["12"]}, "phones", "phone"),
    ],
)
def test_bad_keys_are_refused_naming_the_field(data, field, words):
    with pytest.raises(ValidationError) as caught:
        entry_from_dict({"id": "X1", **data}, source="test", where="entry 3")
    (message,) = caught.value.message_dict[field]
    assert message.startswith("entry 3:") and words in message


def test_csv_import_refuses_a_bad_key_naming_line_and_column(tmp_path):
    path = tmp_path / "lookouts.csv"
    path.write_text(
        "id,kind,name,phones\n1,phone,+44 20 7946 0958,\n2,person,Jo Bloggs,+44 20 7946 0958;+44 1\n",
        encoding="utf-8",
    )
    with pytest.raises(WatchlistImportError) as caught:
        list(load_generic_csv(path, source="T"))
    assert (caught.value.where, caught.value.field_name) == ("line 3", "phones")


def test_intake_assesses_and_screens_every_kind_it_stores(
    world, keys_list, django_capture_on_commit_callbacks
):
    """A declaration brings a consignment, its importer (a trader) and its vessel: all three are assessed,
    and each is screened on what it has (the container, the importer's name, the vessel's IMO number)."""
    import json

    from apps.intake.services import run_intake, start_run
    from apps.risk.models import Assessment, RiskSettings
    from apps.watchlists.models import WatchlistHit

    RiskSettings.objects.create(random_control_share=0.0)
    make_entry(keys_list["container"].watchlist, "Petrovsky Trading House", kind="organisation")
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Decl")
    body = {
        "reference": "LRN-KEYS-1",
        "parties": [{"role": "importer", "id": "GB553202734852", "name": "Petrovsky Trading House"}],
        "conveyance": {"mode": "sea", "vessel_imo": "9321483", "vessel_name": "Blue Horizon"},
        "goods": [{"hs_code": "8510900000"}],
        "containers": [{"number": "CSQU 305438 3"}],
    }
    run = start_run(actor=None, source=source, files=["d.json"], fmt="json")
    with django_capture_on_commit_callbacks(execute=True):
        run_intake(run, [("d.json", json.dumps(body).encode())])
    stored = {s.kind: s for s in Subject.objects.filter(source=source)}
    assert set(stored) == {"consignment", "trader", "conveyance"}
    assert set(Assessment.objects.filter(subject__source=source).values_list("subject__kind", flat=True)) == {
        "consignment",
        "trader",
        "conveyance",
    }
    hits = {(h.subject.kind, h.subject_field) for h in WatchlistHit.objects.select_related("subject")}
    assert {("consignment", "container"), ("consignment", "vessel IMO"), ("conveyance", "vessel IMO")} <= hits
    assert ("trader", "trader name") in hits
