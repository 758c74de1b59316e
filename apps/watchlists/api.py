"""API for watchlists: lists (read), entries (read, create, update), imports (files or JSON), screening.

Every queryset goes through ``visible_to``; writes go through the services, which check
``watchlist.manage`` and that the caller's agency owns the list. ``POST /api/v1/screen/`` screens only
against the lists the caller may see.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.agencies.operations import can
from apps.core.api import ScopedReadOnlyViewSet, ScopedViewSetMixin
from apps.core.errors import parse_id
from apps.watchlists import rulings, services
from apps.watchlists.models import (
    EntryKind,
    HitRuling,
    ImportRun,
    MatchRuling,
    Watchlist,
    WatchlistEntry,
    WatchlistHit,
)
from apps.watchlists.screening import screen_name_for


def _api_errors(exc: Exception) -> Exception:
    """Service errors as DRF answers (400 with the fields, 403)."""
    if isinstance(exc, ValidationError):
        return ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return ApiPermissionDenied(str(exc))


class WatchlistSerializer(serializers.ModelSerializer):
    owner_agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )
    live_entries = serializers.IntegerField(read_only=True)

    class Meta:
        model = Watchlist
        fields = ["id", "name", "description", "owner_agency", "source_kind", "default_handling",
                  "risk_area", "weight", "version", "live_entries", "updated_at"]  # fmt: skip


class WatchlistViewSet(ScopedReadOnlyViewSet):
    queryset = Watchlist.objects.select_related("owner_agency")
    serializer_class = WatchlistSerializer
    operations = {"*": "watchlist.view"}
    filterset_fields = {"source_kind": ["exact"], "risk_area": ["exact"]}
    ordering_fields = ("name", "updated_at", "id")

    def get_queryset(self):
        from django.db.models import Count, Q

        return super().get_queryset().annotate(live_entries=Count("entries", filter=Q(entries__active=True)))


class EntrySerializer(serializers.ModelSerializer):
    watchlist: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    handling = serializers.CharField(read_only=True)

    class Meta:
        model = WatchlistEntry
        fields = ["id", "watchlist", "external_id", "kind", "name", "aliases", "dates_of_birth",
                  "places_of_birth", "nationalities", "documents", "addresses", "identifiers",
                  "programmes", "gender", "reference", "remarks", "listed_on", "handling_code", "handling",
                  "expires_on", "active", "updated_at"]  # fmt: skip


class EntryWriteSerializer(serializers.Serializer):
    """An entry as written by an integrator (see ``services.entry_from_dict``)."""

    watchlist = serializers.IntegerField(required=False, help_text="list id (create only)")
    id = serializers.CharField(required=False, help_text="the list's stable id of the entry (create only)")
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
    name = serializers.CharField(required=False)
    aliases = serializers.ListField(child=serializers.JSONField(), required=False)
    dates_of_birth = serializers.ListField(child=serializers.CharField(), required=False)
    nationalities = serializers.ListField(child=serializers.CharField(), required=False)
    documents = serializers.ListField(child=serializers.DictField(), required=False)
    addresses = serializers.ListField(child=serializers.JSONField(), required=False)
    programmes = serializers.ListField(child=serializers.CharField(), required=False)
    imo = serializers.ListField(child=serializers.CharField(), required=False, help_text="IMO numbers")
    containers = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="ISO 6346 container numbers"
    )
    phones = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="+country code, or national in the nationality",
    )
    emails = serializers.ListField(child=serializers.CharField(), required=False)
    payment_cards = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="card numbers or their SHA-256 hex"
    )
    remarks = serializers.CharField(required=False, allow_blank=True)
    listed_on = serializers.CharField(required=False)
    handling_code = serializers.CharField(required=False, allow_blank=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)


@extend_schema(parameters=[OpenApiParameter("watchlist", int), OpenApiParameter("q", str)])
class EntryViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Entries of the lists you may see. Create and update go through the services (owner agency only)."""

    queryset = WatchlistEntry.objects.select_related("watchlist").order_by("watchlist_id", "name", "pk")
    serializer_class = EntrySerializer
    operations = {"create": "watchlist.manage", "update": "watchlist.manage",
                  "partial_update": "watchlist.manage", "*": "watchlist.view"}  # fmt: skip
    # ``watchlist`` and ``q``: get_queryset
    filterset_fields = {"kind": ["exact"], "active": ["exact"], "handling_code": ["exact"]}
    ordering_fields = ("name", "updated_at", "id")

    def get_queryset(self):
        rows = super().get_queryset()
        if watchlist := self.request.query_params.get("watchlist"):
            rows = rows.filter(watchlist_id=parse_id(watchlist, field="watchlist"))
        if q := self.request.query_params.get("q"):
            rows = rows.filter(name__icontains=q)
        return rows

    @extend_schema(request=EntryWriteSerializer, responses={201: EntrySerializer})
    def create(self, request, *args, **kwargs):
        data = EntryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "watchlist" not in data.validated_data:
            raise ApiValidationError({"watchlist": "required"})
        try:
            watchlist = services.get_watchlist_for(request.user, data.validated_data["watchlist"])
            entry = services.create_entry(actor=request.user, watchlist=watchlist, data=request.data)
        except (ValidationError, PermissionDenied) as exc:
            raise _api_errors(exc) from None
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EntryWriteSerializer, responses={200: EntrySerializer})
    def update(self, request, *args, **kwargs):
        entry = self.get_object()
        data = EntryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        payload = {k: v for k, v in request.data.items() if k not in {"watchlist", "id"}}
        try:
            entry = services.update_entry(actor=request.user, entry=entry, data=payload)
        except (ValidationError, PermissionDenied) as exc:
            raise _api_errors(exc) from None
        return Response(EntrySerializer(entry).data)


class ImportRunSerializer(serializers.ModelSerializer):
    watchlist: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportRun
        fields = ["id", "watchlist", "format", "files", "deactivate_missing", "status", "progress_done",
                  "progress_total", "percent", "counts", "error", "created_at", "finished_at"]  # fmt: skip


class ImportSubmitSerializer(serializers.Serializer):
    watchlist = serializers.IntegerField(help_text="Id of a list your agency owns.")
    format = serializers.ChoiceField(choices=services.IMPORT_FORMATS, default="api")
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="multipart: one file, or OFAC's three"
    )
    entries = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="JSON entries (format 'api')"
    )
    deactivate_missing = serializers.BooleanField(
        default=False, help_text="the upload is the whole list: deactivate entries not in it"
    )


class ImportRunViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Import into a list (files or JSON entries) and follow the progress (GET the run)."""

    queryset = ImportRun.objects.select_related("watchlist")
    serializer_class = ImportRunSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    operations = {"create": "watchlist.manage", "*": "watchlist.view"}
    filterset_fields = {"watchlist": ["exact"], "status": ["exact"]}
    ordering_fields = ("created_at", "id")

    @extend_schema(request=ImportSubmitSerializer, responses={202: ImportRunSerializer})
    def create(self, request, *args, **kwargs):
        data = ImportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fmt = data.validated_data["format"]
        files = [(f.name, f.chunks()) for f in request.FILES.getlist("files")]
        if "entries" in data.validated_data:
            files = [("entries.json", [json.dumps({"entries": data.validated_data["entries"]}).encode()])]
            fmt = "api"
        if not files:
            raise ApiValidationError({"files": "send files (multipart) or JSON entries"})
        try:
            watchlist = services.get_watchlist_for(request.user, data.validated_data["watchlist"])
            run = services.submit_import(
                actor=request.user,
                watchlist=watchlist,
                fmt=fmt,
                files=files,
                deactivate_missing=data.validated_data["deactivate_missing"],
            )
        except (ValidationError, PermissionDenied) as exc:
            raise _api_errors(exc) from None
        run.refresh_from_db()
        return Response(ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ScreenRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    dob = serializers.CharField(max_length=30, required=False, allow_blank=True)
    nationality = serializers.CharField(max_length=60, required=False, allow_blank=True)
    document = serializers.CharField(max_length=60, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=5)
    threshold = serializers.FloatField(
        min_value=0.5,
        max_value=1.0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Lowest match score returned; without it, each list's own calibrated threshold.",
    )


class ScreenMatchSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField()
    external_id = serializers.CharField()
    entry_name = serializers.CharField()
    kind = serializers.CharField()
    watchlist_id = serializers.IntegerField()
    watchlist = serializers.CharField()
    owner_agency = serializers.CharField()
    alias = serializers.CharField()
    score = serializers.FloatField()
    name_score = serializers.FloatField()
    handling_code = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    parts = serializers.ListField(child=serializers.DictField(), help_text="The evidence: key, weight, text.")
    threshold = serializers.FloatField(help_text="The threshold this match reached.")


class ScreenResultSerializer(serializers.Serializer):
    """What ``POST /api/v1/screen/`` answers: the name screened and its matches, best first."""

    name = serializers.CharField()
    matches = ScreenMatchSerializer(many=True)


class ScreenViewSet(viewsets.ViewSet):
    """``POST /api/v1/screen/``: screen a name (with date of birth, nationality, document) against the
    lists you may see; each match comes with its reasons."""

    @extend_schema(request=ScreenRequestSerializer, responses={200: ScreenResultSerializer})
    def create(self, request):
        if not can(request.user, "watchlist.view"):
            raise ApiPermissionDenied("Your role may not perform watchlist.view.")
        data = ScreenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        hits = screen_name_for(
            request.user,
            v["name"],
            date_of_birth=v.get("dob") or None,
            nationality=v.get("nationality") or None,
            document=v.get("document") or None,
            kind=v.get("kind"),
            limit=v["limit"],
            threshold=v.get("threshold"),
        )
        matches = [{k: val for k, val in h.as_dict().items() if k != "owner_agency_id"} for h in hits]
        return Response({"name": v["name"], "matches": ScreenMatchSerializer(matches, many=True).data})


class HitRulingSerializer(serializers.ModelSerializer):
    ruled_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="username"
    )
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )

    class Meta:
        model = HitRuling
        fields = ["id", "hit", "ruling", "reason", "ruled_by", "agency", "ruled_at"]


class WatchlistHitSerializer(serializers.ModelSerializer):
    """A hit as ids and scores: the subject's and the entry's own data are read from their endpoints."""

    subject_kind = serializers.CharField(source="subject.kind", read_only=True)
    watchlist = serializers.IntegerField(source="entry.watchlist_id", read_only=True)
    ruling = serializers.CharField(source="current", read_only=True, allow_null=True)
    rulings = HitRulingSerializer(many=True, read_only=True)

    class Meta:
        model = WatchlistHit
        fields = ["id", "subject", "subject_kind", "entry", "watchlist", "score", "subject_field",
                  "first_seen_at", "last_seen_at", "ruling", "rulings"]  # fmt: skip


class RuleHitSerializer(serializers.Serializer):
    ruling = serializers.ChoiceField(choices=MatchRuling.choices)
    reason = serializers.CharField(min_length=rulings.MIN_REASON, max_length=2000)


@extend_schema(parameters=[OpenApiParameter("status", str, enum=["pending", "ruled", "all"])])
class WatchlistHitViewSet(ScopedReadOnlyViewSet):
    """Watchlist hits on subjects and lists you may see; ``?status=pending`` (default) lists those no
    ruling stands for. ``POST /api/v1/watchlist-hits/<id>/rule/`` rules one: true_match, false_match or
    unsure, with a reason."""

    queryset = WatchlistHit.objects.select_related("subject", "entry").prefetch_related(
        "rulings__ruled_by", "rulings__agency"
    )
    serializer_class = WatchlistHitSerializer
    operations = {"*": "hit.rule"}
    # ``status`` (pending/confirmed/false): get_queryset
    filterset_fields = {"entry": ["exact"], "subject": ["exact"]}
    ordering_fields = ("last_seen_at", "score", "id")

    def get_queryset(self):
        rows = rulings.with_standing(super().get_queryset()).order_by("-last_seen_at", "-pk")
        if self.action != "list":
            return rows
        status_ = self.request.query_params.get("status", "pending")
        if status_ == "pending":
            return rows.filter(current__isnull=True)
        if status_ == "ruled":
            return rows.filter(current__isnull=False)
        if status_ == "all":
            return rows
        raise ApiValidationError({"status": "one of: pending, ruled, all"})

    @extend_schema(request=RuleHitSerializer, responses={201: HitRulingSerializer})
    @action(detail=True, methods=["post"])
    def rule(self, request, pk=None):
        hit = self.get_object()
        data = RuleHitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ruling = services.rule_hit(actor=request.user, hit=hit, **data.validated_data)
        except (ValidationError, PermissionDenied) as exc:
            raise _api_errors(exc) from None
        return Response(HitRulingSerializer(ruling).data, status=status.HTTP_201_CREATED)
