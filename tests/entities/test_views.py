"""Confirm or split from the network page: a form post, checked by role and agency."""

from __future__ import annotations

from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.agencies.roles import Role
from apps.entities.models import EntityLink, LinkDecision
from apps.intake.models import SubjectLink
from tests.entities.isolation import _link
from tests.factories import member


def test_an_analyst_splits_a_link_from_the_page(world, client_for, customs_analyst):
    link = _link(world)
    network = reverse("entities:network", args=[link.from_subject_id])
    client = client_for(customs_analyst)
    response = client.post(
        reverse("entities:decide", args=[link.pk]),
        {"decision": "split", "reason": "Different men, checked the passports", "back": network},
    )
    assert response.status_code == 302 and response["Location"] == network
    assert not EntityLink.objects.filter(pk=link.pk).exists()
    assert not SubjectLink.objects.filter(kind=SubjectLink.Kind.SAME_PERSON).exists()
    decision = LinkDecision.objects.get()
    assert decision.decision == "split" and decision.reason.startswith("Different men")
    # Asked without a reason: refused, nothing decided.
    other = _link(world)
    client.post(reverse("entities:decide", args=[other.pk]), {"decision": "confirm", "reason": ""})
    assert EntityLink.objects.get(pk=other.pk).status == EntityLink.Status.FOUND


def test_a_partner_reading_through_a_grant_may_not_decide(world, client_for, police_liaison, outsider):
    link = _link(world)
    url = reverse("entities:decide", args=[link.pk])
    assert client_for(outsider).post(url, {"decision": "split", "reason": "x"}).status_code == 404
    for source in (link.from_subject.source, link.to_subject.source):
        assign_perm("intake.view_datasource", world.police.group, source)
    # A liaison officer's role does not decide who is who, whatever he sees.
    assert client_for(police_liaison).post(url, {"decision": "split", "reason": "x"}).status_code == 403
    # An analyst may decide, but not on two records of an agency he only reads: they are not his.
    police_analyst = member("pia", world.police, Role.ANALYST)
    answer = client_for(police_analyst).post(url, {"decision": "split", "reason": "not the same"})
    assert answer.status_code == 403
    assert EntityLink.objects.filter(pk=link.pk).exists()
