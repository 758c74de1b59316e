"""The TAXII 2.1 client side: push what waits for a partner to its collection, poll what it published.

``taxii2-client`` (OASIS) speaks to the partner's server. Each exchange records its outcome on the
partner (``last_ok_at``, ``last_error``, ``failures``) so the partners page shows a status per partner;
after a failure the next attempt waits (doubling from ``RATC_ALERTS_RETRY_SECONDS`` up to an hour), and
the periodic task (``alerts.exchange``) tries again when it is due. Nothing is lost: an object stays
unpushed until the partner's server answered that it took it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from taxii2client.v21 import Collection, as_pages

from apps.alerts import services, stix
from apps.alerts.models import OutboundObject, Partner

log = logging.getLogger("apps.alerts")

#: Objects per POST and per page of a poll.
BATCH = 50
#: Polls reach back this far behind the last one, so that an object added while we polled is not missed
#: (the import is idempotent: what is read twice is stored once).
POLL_OVERLAP = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


class TokenAuth(requests.auth.AuthBase):
    """``Authorization: Token <secret>``: how one RATC Ops installation authenticates at another."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Token {self.secret}"
        return request


def collection_of(partner: Partner) -> Collection:
    url = partner.taxii_api_root.rstrip("/") + f"/collections/{partner.taxii_collection}/"
    if partner.auth == Partner.Auth.TOKEN:
        collection = Collection(url, auth=TokenAuth(partner.secret))
    else:
        collection = Collection(url, user=partner.username or None, password=partner.secret or None)
    collection._conn.session.request = _with_timeout(collection._conn.session.request)
    return collection


def _with_timeout(request: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", settings.RATC_ALERTS_TIMEOUT_SECONDS)
        return request(*args, **kwargs)

    return call


def _failed(partner: Partner, error: str) -> None:
    wait = min(
        timedelta(seconds=settings.RATC_ALERTS_RETRY_SECONDS * 2 ** min(partner.failures, 12)), MAX_BACKOFF
    )
    Partner.objects.filter(pk=partner.pk).update(
        failures=F("failures") + 1, last_error=error[:1000], next_attempt_at=timezone.now() + wait
    )
    log.warning("TAXII exchange with partner %s failed: %s", partner.pk, error)


def _ok(partner: Partner, **fields: Any) -> None:
    Partner.objects.filter(pk=partner.pk).update(
        failures=0, last_error="", next_attempt_at=None, last_ok_at=timezone.now(), **fields
    )


def push(partner: Partner) -> int:
    """POST every unpushed object of the partner's to its collection; how many it took."""
    if not partner.taxii_api_root or not partner.active:
        return 0
    waiting = list(
        OutboundObject.objects.filter(partner=partner, pushed_at__isnull=True).order_by("pk")[:BATCH]
    )
    if not waiting:
        return 0
    OutboundObject.objects.filter(pk__in=[o.pk for o in waiting]).update(attempts=F("attempts") + 1)
    envelope = {"objects": _unique_objects(waiting)}
    try:
        status = collection_of(partner).add_objects(envelope, wait_for_completion=False)
    except Exception as exc:  # a network error, an HTTP error, a bad answer: all a failed attempt
        _failed(partner, f"push: {exc}")
        return 0
    failed = {f.get("id") for f in (getattr(status, "failures", None) or [])}
    done = [o.pk for o in waiting if o.stix_id not in failed]
    OutboundObject.objects.filter(pk__in=done).update(pushed_at=timezone.now())
    if failed:
        _failed(partner, f"push: the partner refused {', '.join(sorted(map(str, failed)))}")
    else:
        _ok(partner, last_push_at=timezone.now())
    return len(done)


def _unique_objects(rows: list[OutboundObject]) -> list[dict[str, Any]]:
    """The objects of several bundles, each (id, modified) once: the published ones repeat in each.

    The extension definition is not pushed: medallion 3.0 reads its ``version`` property ("1.0.0") as the
    object's version and then fails every GET of the collection. It is published in docs/alerts.md and
    in each partner's collection on our own server, and the alert names it by id.
    """
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        for obj in row.bundle.get("objects", []):
            if obj["type"] == "extension-definition":
                continue
            key = (obj["id"], obj.get("modified", obj.get("created", "")))
            if key not in seen:
                seen.add(key)
                out.append(obj)
    return out


def poll(partner: Partner) -> services.ImportResult | None:
    """GET the partner's new objects (since the last poll, with an overlap) and import them, page by page.

    A refused page is recorded as the partner's error; what was stored before it stays (each page is one
    transaction) and the next poll starts again from the same point.
    """
    if not partner.taxii_api_root or not partner.active:
        return None
    started = timezone.now()
    kwargs: dict[str, Any] = {}
    if partner.poll_cursor:
        kwargs["added_after"] = partner.poll_cursor
    total = services.ImportResult([], [], [], [], [])
    try:
        for envelope in as_pages(collection_of(partner).get_objects, per_request=BATCH, **kwargs):
            objects = envelope.get("objects") or []
            if not objects:
                continue
            found = services.import_bundle(partner=partner, data={"type": "bundle", "objects": objects})
            for name in ("created", "updated", "unchanged", "sightings", "skipped"):
                getattr(total, name).extend(getattr(found, name))
    except stix.BundleRefused as refused:
        _failed(partner, f"poll: refused {refused}")
        return None
    except Exception as exc:
        _failed(partner, f"poll: {exc}")
        return None
    cursor = (started - POLL_OVERLAP).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _ok(partner, last_poll_at=timezone.now(), poll_cursor=cursor)
    return total


def exchange(partner: Partner) -> None:
    """Push, then poll: one round with a partner."""
    push(partner)
    partner.refresh_from_db()
    if partner.failures == 0:
        poll(partner)


def due_partners() -> list[int]:
    now = timezone.now()
    rows = Partner.objects.filter(active=True).exclude(taxii_api_root="")
    return [p.pk for p in rows if p.next_attempt_at is None or p.next_attempt_at <= now]
