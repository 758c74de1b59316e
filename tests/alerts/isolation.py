"""Alert routes: our agency's alerts and partners are 404 to another agency; each partner's TAXII
collection (and the status of its POSTs) is 404 to any other partner's account."""

from __future__ import annotations

from typing import Any

from apps.agencies.models import Agency, AgencyKind
from apps.agencies.roles import Role
from apps.alerts.models import IncomingAlert, Partner, TaxiiStatus
from tests.factories import member


def _partner(world: Any, owner: Any = None) -> Partner:
    n = Partner.objects.count()
    agency = Agency.objects.create(
        code=f"FP{n}", name=f"Foreign partner {n}", kind=AgencyKind.FOREIGN_PARTNER
    )
    account = member(f"taxii.fp{n}", agency, Role.SYSTEM)
    return Partner.objects.create(
        name=f"Partner {n}", agency=agency, owner_agency=owner or world.customs, account=account
    )


def _incoming(world: Any) -> dict[str, Any]:
    alert = IncomingAlert.objects.create(
        partner=_partner(world), stix_id="grouping--6f0e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", modified="2026-12-01T00:00:00Z",
        name="Narcotics alert", subject_kind="consignment", risk_area="narcotics", tlp="amber+strict", raw={},
    )  # fmt: skip
    return {"pk": alert.pk}


def _sync(world: Any) -> dict[str, Any]:
    return {"pk": _partner(world).pk}


def _collection(world: Any) -> tuple[dict[str, Any], Any, Any]:
    mine, other = _partner(world), _partner(world)
    return {"collection_id": mine.collection_id}, mine.account, other.account


def _object(world: Any) -> tuple[dict[str, Any], Any, Any]:
    from apps.alerts import stix
    from apps.alerts.models import OutboundObject

    mine, other = _partner(world), _partner(world)
    OutboundObject.objects.create(
        partner=mine, kind="alert", stix_id="grouping--6f0e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        modified="2026-12-01T00:00:00.000000Z", bundle=stix.bundle_of([]), summary="x",
    )  # fmt: skip
    return {"collection_id": mine.collection_id, "object_id": stix.EXTENSION_ID}, mine.account, other.account


def _status(world: Any) -> tuple[dict[str, Any], Any, Any]:
    mine, other = _partner(world), _partner(world)
    status = TaxiiStatus.objects.create(partner=mine, successes=[])
    return {"status_id": status.pk}, mine.account, other.account


def _entry(world: Any) -> dict[str, Any]:
    from apps.watchlists.models import Watchlist
    from apps.watchlists.services import create_entry

    watchlist = Watchlist.objects.create(name="Customs lookouts", owner_agency=world.customs)
    entry = create_entry(
        actor=None, watchlist=watchlist, data={"id": "L-1", "kind": "vessel", "name": "MSC X"}
    )
    return {"pk": entry.pk}


SCOPED_ROUTES = {"alerts:incoming": _incoming, "alerts:sync": _sync, "alerts:send-entry": _entry}
# Each action on an incoming alert has its own URL; all miss for another agency as the alert's page does.
SCOPED_ROUTES.update(
    {
        f"alerts:incoming-{action}": _incoming
        for action in ("target", "attach", "watchlist", "consent", "dismiss")
    }
)
ACCOUNT_ROUTES = {
    "alerts:taxii-collection": _collection,
    "alerts:taxii-objects": _collection,
    "alerts:taxii-manifest": _collection,
    "alerts:taxii-object": _object,
    "alerts:taxii-status": _status,
}
