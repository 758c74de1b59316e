"""Watchlist hits ruled by a person (true match, false match, unsure) before they may lead to action."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from apps.compliance.models import AccessLogEntry
from apps.intake.models import SourceKind, Subject
from apps.risk.models import RiskSettings
from apps.risk.services import assess_subjects
from apps.targeting.models import Target
from apps.watchlists.models import HitRuling, WatchlistHit
from apps.watchlists.services import hits_blocking_action, rule_hit, update_entry
from tests.factories import DataSourceFactory
from tests.targeting.factories import TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_chance_selection():
    """The random control is off: these tests count the targets a hit makes, and whether the engine
    picks a subject by chance depends on its id, which depends on what the worker ran before (CI once
    got a second, random-control target on a re-assessment)."""
    RiskSettings.objects.create(random_control_share=0.0)


REASON = "Date of birth, nationality and passport number all agree with the listing."


def _traveller(agency, full_name: str, date_of_birth: str, **facts) -> Subject:
    source = DataSourceFactory(owner_agency=agency, kind=SourceKind.API)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=agency, external_id=f"api:{full_name}",
        title=f"{full_name} on BA117", received_at=timezone.now(),
        facts={"full_name": full_name, "date_of_birth": date_of_birth, **facts},
    )  # fmt: skip


@pytest.fixture
def boutov(world, customs_list):
    """A customs traveller who matches the customs list's entry C-1."""
    return _traveller(world.customs, "VIKTOR BOUTOV", "1967-01-13", nationality="RUS")


@pytest.fixture
def assessed(boutov):
    """The engine screens him: a hit is recorded and a target nominated on it."""
    assess_subjects([boutov.pk])
    return Target.objects.get(subject=boutov)


def test_the_engine_records_each_watchlist_match_as_a_hit(assessed, boutov, customs_list):
    [hit] = WatchlistHit.objects.filter(subject=boutov)
    assert hit.entry.external_id == "C-1" and hit.score > 0.8 and hit.subject_field == "traveller name"
    assert any(r["kind"] == "watchlist" for r in assessed.reasons)


def test_an_unruled_hit_blocks_and_a_true_match_allows(assessed, customs_analyst):
    [sentence] = hits_blocking_action(assessed)
    assert "has not been ruled" in sentence
    assert "Customs lookouts" not in sentence and "BOUTOV" not in sentence.upper()
    hit = WatchlistHit.objects.get()
    rule_hit(actor=customs_analyst, hit=hit, ruling="true_match", reason=REASON)
    assert hits_blocking_action(assessed) == []


def test_unsure_allows_and_a_false_match_blocks_and_says_so(assessed, customs_analyst, customs_supervisor):
    hit = WatchlistHit.objects.get()
    rule_hit(
        actor=customs_analyst, hit=hit, ruling="unsure", reason="Same name and year; no document to compare."
    )
    assert hits_blocking_action(assessed) == []
    rule_hit(
        actor=customs_supervisor,
        hit=hit,
        ruling="false_match",
        reason="Passport seen: another man, born 1991.",
    )
    [sentence] = hits_blocking_action(assessed)
    assert "false match" in sentence
    # Every ruling is kept; the latest counts.
    assert list(HitRuling.objects.filter(hit=hit).values_list("ruling", flat=True)) == [
        "false_match",
        "unsure",
    ]


def test_a_reason_is_required(assessed, customs_analyst):
    hit = WatchlistHit.objects.get()
    for reason in ("", "   ", "ok"):
        with pytest.raises(ValidationError) as refused:
            rule_hit(actor=customs_analyst, hit=hit, ruling="true_match", reason=reason)
        assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        rule_hit(actor=customs_analyst, hit=hit, ruling="probably", reason=REASON)
    assert not HitRuling.objects.exists()
    assert hits_blocking_action(assessed)


def test_who_cannot_see_the_list_cannot_rule_the_hit(
    world, customs_analyst, police_liaison, police_list, port_officer
):
    """A police list matched a customs traveller: customs may not see the list, police not the subject."""
    karamazov = _traveller(world.customs, "Dmitri KARAMAZOV", "1975-05-05")
    assess_subjects([karamazov.pk])
    hit = WatchlistHit.objects.get(subject=karamazov)
    for person in (customs_analyst, police_liaison):
        with pytest.raises(Http404):
            rule_hit(actor=person, hit=hit, ruling="false_match", reason=REASON)
    assert not HitRuling.objects.exists()


def test_a_role_that_may_not_rule_is_refused(assessed, port_officer, customs_analyst):
    hit = WatchlistHit.objects.get()
    with pytest.raises((PermissionDenied, Http404)):
        rule_hit(actor=port_officer, hit=hit, ruling="true_match", reason=REASON)


def test_a_false_match_is_not_raised_again_while_the_entry_is_unchanged(assessed, boutov, customs_analyst):
    hit = WatchlistHit.objects.get()
    rule_hit(
        actor=customs_analyst, hit=hit, ruling="false_match", reason="Passport seen: another man, born 1991."
    )
    [again] = assess_subjects([boutov.pk])
    assert not [c for c in again.explanation["components"] if c["kind"] == "watchlist"]
    # The listing changes (a new document): the ruling no longer stands, he is screened and asked again.
    update_entry(actor=None, entry=hit.entry, data={"name": hit.entry.name, "documents": [{"type": "passport", "number": "X1"}],
                                                    "dates_of_birth": ["1967-01-13"]})  # fmt: skip
    [third] = assess_subjects([boutov.pk])
    assert [c for c in third.explanation["components"] if c["kind"] == "watchlist"]
    hit.refresh_from_db()
    assert hit.last_assessment_id == third.pk
    assert any("has not been ruled" in s for s in hits_blocking_action(Target.objects.get(subject=boutov)))


def test_a_persons_watchlist_reason_is_a_hit_to_rule(world, customs_list, customs_analyst):
    entry = customs_list.entries.get(external_id="C-2")
    target = TargetFactory(
        reasons=[{"kind": "watchlist", "text": "Looks like a listed courier", "ref": f"watchlist-entry:{entry.pk}"},
                 {"kind": "watchlist", "text": "Somewhere on a list", "ref": "lookout 7"}],
    )  # fmt: skip
    sentences = hits_blocking_action(target)
    assert len(sentences) == 2 and "names no list entry" in sentences[0]
    hit = WatchlistHit.objects.get(subject=target.subject, entry=entry)
    rule_hit(actor=customs_analyst, hit=hit, ruling="true_match", reason=REASON)
    assert len(hits_blocking_action(target)) == 1


# --- the page and the API ------------------------------------------------------------------------------------


def test_the_analyst_rules_pending_hits_on_one_page(client_for, assessed, boutov, customs_analyst):
    client = client_for(customs_analyst)
    page = client.get(reverse("watchlists:hits"))
    body = page.content.decode()
    assert page.status_code == 200 and "VIKTOR BOUTOV" in body and "Viktor Anatolyevich BOUTOV" in body
    assert AccessLogEntry.objects.filter(object_id=str(boutov.pk), user=customs_analyst).exists()
    hit = WatchlistHit.objects.get()
    url = reverse("watchlists:rule_hit", args=[hit.pk])
    refused = client.post(url, {"ruling": "true_match", "reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "Say why" in refused.content.decode()
    ruled = client.post(url, {"ruling": "true_match", "reason": REASON}, HTTP_HX_REQUEST="true")
    assert 'data-testid="ruled"' in ruled.content.decode() and "BOUTOV" not in ruled.content.decode()
    assert "VIKTOR BOUTOV" not in client.get(reverse("watchlists:hits")).content.decode()


def test_the_page_asks_for_a_purpose_and_hides_what_the_viewer_may_not_see(
    client_for, assessed, customs_analyst, police_liaison
):
    assert client_for(customs_analyst, purpose=None).get(reverse("watchlists:hits")).status_code == 302
    other = client_for(police_liaison).get(reverse("watchlists:hits")).content.decode()
    assert "BOUTOV" not in other
    hit = WatchlistHit.objects.get()
    assert (
        client_for(police_liaison)
        .post(reverse("watchlists:rule_hit", args=[hit.pk]), {"ruling": "true_match", "reason": REASON})
        .status_code
        == 404
    )


def test_the_api_lists_and_rules_hits(client_for, assessed, customs_analyst, police_liaison):
    client = client_for(customs_analyst)
    [row] = client.get("/api/v1/watchlist-hits/").json()["results"]
    assert row["ruling"] is None and row["subject_kind"] == "traveller" and "BOUTOV" not in str(row)
    url = f"/api/v1/watchlist-hits/{row['id']}/rule/"
    assert (
        client.post(url, {"ruling": "true_match", "reason": ""}, content_type="application/json").status_code
        == 400
    )
    done = client.post(url, {"ruling": "true_match", "reason": REASON}, content_type="application/json")
    assert done.status_code == 201 and done.json()["ruling"] == "true_match"
    assert client.get("/api/v1/watchlist-hits/").json()["results"] == []
    assert client.get("/api/v1/watchlist-hits/?status=ruled").json()["results"][0]["ruling"] == "true_match"
    police = client_for(police_liaison)
    assert (
        police.post(
            url, {"ruling": "false_match", "reason": REASON}, content_type="application/json"
        ).status_code
        == 404
    )
