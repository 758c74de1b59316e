"""One customs centre with a partner administration, made through the product's own models and services.

Used by the unit tests (inside pytest's database) and by the two-installation test, where each server
runs ``seed_site`` in its own process and database (``tests/alerts/test_two_installations.py``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from apps.agencies.models import Agency, AgencyKind, CentreConfiguration, Port, TransportMode
from apps.agencies.roles import Role
from apps.agencies.tokens import issue
from apps.alerts.models import Partner
from apps.intake.models import DataSource, SourceKind, Subject, SubjectKind
from apps.intake.services import share_source
from apps.targeting.models import HandlingCode
from apps.targeting.services import nominate, share_target
from tests.factories import member

CONTAINER = "MSCU7654321"


def seed_site(
    *,
    code: str,
    partner_code: str,
    partner_name: str,
    partner_collection: str | None = None,
    partner_token: str | None = None,
    their_api_root: str = "",
    their_collection: str = "",
    their_token: str = "",
    with_target: bool = True,
    handling: str = HandlingCode.ACT,
    grant_source: bool = True,
) -> SimpleNamespace:
    """A centre (agency ``code``) with people, a port, a consignment, and ``partner_code`` as a partner.

    ``partner_token`` is the partner's token here (it reads its collection with it); ``their_*`` is
    where this centre pushes and polls at the partner, authenticated with ``their_token``.
    """
    customs = Agency.objects.create(code=code, name=f"Customs {code}", kind=AgencyKind.CUSTOMS)
    CentreConfiguration.objects.update_or_create(pk=1, defaults={"operating_model": "centralised",
                                                                 "national_agency": customs})  # fmt: skip
    foreign = Agency.objects.create(code=partner_code, name=partner_name, kind=AgencyKind.FOREIGN_PARTNER)
    port = Port.objects.create(locode=f"GB{code[:3]}", name=f"Port {code}", mode=TransportMode.SEA)
    people = SimpleNamespace(
        analyst=member(f"ana.{code.lower()}", customs, Role.ANALYST),
        supervisor=member(f"sup.{code.lower()}", customs, Role.SUPERVISOR),
        admin=member(f"adm.{code.lower()}", customs, Role.ADMINISTRATOR),
        officer=member(f"off.{code.lower()}", customs, Role.FRONTLINE, ports=[port]),
        auditor=member(f"aud.{code.lower()}", customs, Role.AUDITOR),
    )
    account = member(f"taxii.{partner_code.lower()}", foreign, Role.SYSTEM)
    token = issue(user=account, name="TAXII", secret=partner_token).secret
    partner = Partner.objects.create(
        name=partner_name, agency=foreign, owner_agency=customs, account=account,
        collection_id=uuid.UUID(partner_collection) if partner_collection else uuid.uuid4(),
        taxii_api_root=their_api_root, taxii_collection=their_collection,
        auth=Partner.Auth.TOKEN, secret=their_token,
    )  # fmt: skip
    source = DataSource.objects.create(
        name=f"Declarations {code}", kind=SourceKind.DECLARATION, owner_agency=customs,
        legal_basis="Customs code art. 46; mutual assistance agreement",
    )  # fmt: skip
    if grant_source:
        share_source(actor=people.admin, source=source, agency=foreign)
    subject = Subject.objects.create(
        kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=customs, external_id=f"DEC-{code}-1",
        title="Machine parts from Guayaquil", port=port, arrival_at=timezone.now() + timedelta(days=2),
        received_at=timezone.now(),
        facts={"containers": [CONTAINER], "hs_code": "8479", "origin_country": "EC", "procedure": "4000",
               "vessel_imo": "9321483", "vessel_name": "MSC ALINA", "importer_id": "GB123456789000"},
    )  # fmt: skip
    site = SimpleNamespace(customs=customs, foreign=foreign, port=port, partner=partner, account=account,
                           token=token, source=source, subject=subject, target=None, **vars(people))  # fmt: skip
    if with_target:
        target, _ = nominate(
            actor=people.analyst, subject=subject, risk_area="narcotics", priority=80,
            reasons=[{"kind": "person", "text": "Cocaine route, consignee new, paid in cash"}],
        )  # fmt: skip
        share_target(actor=people.analyst, target=target, agency=foreign, code=handling)
        target.refresh_from_db()
        site.target = target
    return site


def examine(site: Any, target: Any) -> None:
    """The deciding team approves and dispatches the target; the officer records a seizure."""
    from apps.frontline.services import GoodsLine, ResultInput, record_examination
    from apps.targeting import services as targeting

    target = targeting.start_review(actor=site.analyst, target=target)
    target = targeting.submit_for_approval(actor=site.analyst, target=target)
    target = targeting.approve_target(actor=site.supervisor, target=target)
    instruction = targeting.dispatch_target(
        actor=site.supervisor, target=target, method="physical", instruction="Open the container."
    )
    record_examination(
        actor=site.officer, instruction=instruction,
        data=ResultInput(
            idempotency_key=uuid.uuid4(), method="physical", outcome="seizure", notes="Officer's own words: not for the partner",
            goods=[GoodsLine(kind="cocaine", quantity=Decimal("12.5"), unit="kg", description="bricks in machine housings")],
        ),
    )  # fmt: skip
