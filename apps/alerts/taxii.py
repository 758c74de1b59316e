"""The product's own TAXII 2.1 server: discovery, the API root, a collection per partner, its objects
(GET and POST), its manifest, and the status of a POST.

Each partner authenticates with its system account's API token (``Authorization: Token …``, the hashed
tokens of ``apps.agencies.tokens``) and sees one collection: its own. Another partner's collection, or a
status of another partner's POST, answers 404 as if it did not exist. A GET returns what was put in the
partner's collection (``OutboundObject``: alerts and lookouts we sent it, sightings of its alerts, with the
published objects each bundle carries), one object by id too; a POST imports a
bundle as incoming alerts (``services.import_bundle``), all or nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from apps.agencies.drf import ApiTokenAuthentication, IsMember
from apps.alerts import services, stix
from apps.alerts.models import OutboundObject, Partner, TaxiiStatus
from apps.core.requests import signed_in

MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
MAX_PAGE = 100
MAX_CONTENT_LENGTH = 10 * 1024 * 1024


def taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def error(status: int, title: str, description: str = "") -> HttpResponse:
    return taxii({"title": title, "description": description, "http_status": str(status)}, status)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TaxiiRenderer(JSONRenderer):
    """Lets content negotiation accept TAXII clients (the views answer with ``taxii()`` themselves)."""

    media_type = "application/taxii+json"
    format = "taxii"


class TaxiiView(APIView):
    """Token-authenticated, answered in TAXII's media type; not part of the product's REST schema."""

    renderer_classes = [TaxiiRenderer, JSONRenderer]
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsMember]
    schema = None

    def partner(self) -> Partner:
        partner = Partner.objects.filter(account=signed_in(self.request), active=True).first()
        if partner is None:
            raise Http404("Not found.")
        return partner

    def collection(self, collection_id: Any) -> Partner:
        partner = self.partner()
        if str(partner.collection_id) != str(collection_id):
            raise Http404("Not found.")
        return partner

    # TAXII answers in its own media type, a plain HttpResponse, which DRF finalises like a Response.
    def handle_exception(self, exc: Exception) -> HttpResponse:  # type: ignore[override]
        if isinstance(exc, Http404):
            return error(404, "Not found", "No such resource for this account.")
        response = super().handle_exception(exc)
        detail = getattr(response, "data", {}) or {}
        return error(
            response.status_code, "Refused", str(detail.get("detail", "")) if isinstance(detail, dict) else ""
        )


def collection_info(partner: Partner) -> dict[str, Any]:
    return {
        "id": str(partner.collection_id),
        "title": f"Alerts exchanged with {partner.name}",
        "description": "Alerts and sightings this centre shares with you; POST your alerts here.",
        "can_read": True,
        "can_write": True,
        "media_types": [STIX_MEDIA_TYPE],
    }


class Discovery(TaxiiView):
    def get(self, request: Any) -> HttpResponse:
        root = request.build_absolute_uri(reverse("alerts:taxii-root"))
        return taxii({"title": "RATC Ops alert exchange", "default": root, "api_roots": [root]})


class ApiRoot(TaxiiView):
    def get(self, request: Any) -> HttpResponse:
        return taxii(
            {"title": "RATC Ops alerts", "versions": [MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH}
        )


class Collections(TaxiiView):
    def get(self, request: Any) -> HttpResponse:
        return taxii({"collections": [collection_info(self.partner())]})


class CollectionDetail(TaxiiView):
    def get(self, request: Any, collection_id: Any) -> HttpResponse:
        return taxii(collection_info(self.collection(collection_id)))


def _page(request: Any, partner: Partner) -> tuple[list[OutboundObject], bool]:
    """The partner's rows after ``added_after`` (a time) and ``next`` (our cursor: the last row's id)."""
    rows = OutboundObject.objects.filter(partner=partner).order_by("pk")
    added_after = request.query_params.get("added_after")
    if added_after:
        try:
            rows = rows.filter(added_at__gt=datetime.fromisoformat(added_after.replace("Z", "+00:00")))
        except ValueError:
            raise stix.BundleRefused("", "added_after", "not an RFC 3339 timestamp") from None
    after = request.query_params.get("next", "")
    if after:
        if not after.isdigit():
            raise stix.BundleRefused("", "next", "not a cursor this server gave")
        rows = rows.filter(pk__gt=int(after))
    try:
        limit = min(int(request.query_params.get("limit") or MAX_PAGE), MAX_PAGE)
    except ValueError:
        raise stix.BundleRefused("", "limit", "a whole number") from None
    limit = max(limit, 1)
    found = list(rows[: limit + 1])
    return found[:limit], len(found) > limit


def _objects(rows: list[OutboundObject], request: Any) -> list[dict[str, Any]]:
    wanted_ids = set(filter(None, request.query_params.get("match[id]", "").split(",")))
    wanted_types = set(filter(None, request.query_params.get("match[type]", "").split(",")))
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        for obj in row.bundle.get("objects", []):
            key = (obj["id"], obj.get("modified", obj.get("created", "")))
            if key in seen:
                continue
            if (wanted_ids and obj["id"] not in wanted_ids) or (
                wanted_types and obj["type"] not in wanted_types
            ):
                continue
            seen.add(key)
            out.append(obj)
    return out


def _headers(rows: list[OutboundObject]) -> dict[str, str]:
    if not rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": _ts(rows[0].added_at),
        "X-TAXII-Date-Added-Last": _ts(rows[-1].added_at),
    }


class Objects(TaxiiView):
    def get(self, request: Any, collection_id: Any) -> HttpResponse:
        partner = self.collection(collection_id)
        try:
            rows, more = _page(request, partner)
        except stix.BundleRefused as refused:
            return error(400, "Bad filter", str(refused))
        body: dict[str, Any] = {"more": more, "objects": _objects(rows, request)}
        if more:
            body["next"] = str(rows[-1].pk)
        return taxii(body, headers=_headers(rows))

    def post(self, request: Any, collection_id: Any) -> HttpResponse:
        partner = self.collection(collection_id)
        raw = request._request.body
        if len(raw) > MAX_CONTENT_LENGTH:
            return error(413, "Too large", f"At most {MAX_CONTENT_LENGTH} bytes.")
        try:
            result = services.import_bundle(partner=partner, data=raw)
        except stix.BundleRefused as refused:
            return error(422, "Bundle refused, nothing stored", str(refused))
        objects = json.loads(raw).get("objects", [])
        versions = {o["id"]: o.get("modified", o.get("created", "")) for o in objects if isinstance(o, dict)}
        # All or nothing: once the import returned, every object of the envelope was taken (or was ours).
        successes = [{"id": i, "version": v} for i, v in versions.items()]
        del result
        status = TaxiiStatus.objects.create(partner=partner, successes=successes)
        return taxii(_status_body(status, len(objects)), status=202)


class ObjectDetail(TaxiiView):
    """One object of the partner's collection (TAXII 2.1 "Get an Object"): its latest version, or every
    version with ``match[version]=all`` (the published objects too: the extension definition is read here,
    since medallion cannot hold it)."""

    def get(self, request: Any, collection_id: Any, object_id: str) -> HttpResponse:
        partner = self.collection(collection_id)
        versions: dict[str, dict[str, Any]] = {}
        rows = OutboundObject.objects.filter(partner=partner).order_by("pk")
        for row in rows.iterator():
            for obj in row.bundle.get("objects", []):
                if obj.get("id") == object_id:
                    versions.setdefault(obj.get("modified", obj.get("created", "")), obj)
        if not versions:
            raise Http404("Not found.")
        ordered = [versions[v] for v in sorted(versions)]
        wanted = request.query_params.get("match[version]", "last")
        chosen = {"all": ordered, "first": ordered[:1], "last": ordered[-1:]}.get(
            wanted, [o for o in ordered if o.get("modified", o.get("created")) in wanted.split(",")]
        )
        return taxii({"more": False, "objects": chosen})


def _status_body(status: TaxiiStatus, total: int | None = None) -> dict[str, Any]:
    success_count = len(status.successes)
    return {
        "id": str(status.id),
        "status": "complete",
        "request_timestamp": _ts(status.request_at),
        "total_count": total if total is not None else success_count + len(status.failures),
        "success_count": success_count,
        "successes": status.successes,
        "failure_count": len(status.failures),
        "failures": status.failures,
        "pending_count": 0,
    }


class Manifest(TaxiiView):
    def get(self, request: Any, collection_id: Any) -> HttpResponse:
        partner = self.collection(collection_id)
        try:
            rows, more = _page(request, partner)
        except stix.BundleRefused as refused:
            return error(400, "Bad filter", str(refused))
        entries = [
            {
                "id": row.stix_id,
                "date_added": _ts(row.added_at),
                "version": row.modified,
                "media_type": STIX_MEDIA_TYPE,
            }
            for row in rows
        ]
        body: dict[str, Any] = {"more": more, "objects": entries}
        if more:
            body["next"] = str(rows[-1].pk)
        return taxii(body, headers=_headers(rows))


class Status(TaxiiView):
    def get(self, request: Any, status_id: Any) -> HttpResponse:
        status = TaxiiStatus.objects.filter(pk=status_id, partner=self.partner()).first()
        if status is None:
            raise Http404("Not found.")
        return taxii(_status_body(status))
