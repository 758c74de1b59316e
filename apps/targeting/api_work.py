"""Targeting API around the targets: comments and attachments, sharing and consent (joint operations and
dispatch proposals are in ``api_dispatch``, which shares the pieces at the top of this module).

The same services and checks as the target page:

- every queryset goes through the model's ``visible_to``, and a child's visibility is its parent
  target's (a comment, attachment or share of a target the caller cannot see is 404);
- every change calls the page's service function (``call_service`` turns its refusals into 403, 404,
  400 or 409), and what the page withholds (the sharing, from an officer at the port) is withheld
  here too;
- attachments are uploaded with their comment (multipart, checked by ``services.add_comment``) and
  downloaded from the same storage as the page's link.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Prefetch
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.models import Agency
from apps.core.api import ScopedViewSetMixin
from apps.targeting import services
from apps.targeting.api import Conflict, call_service
from apps.targeting.disclosure import reads_briefing_only
from apps.targeting.models import Attachment, Comment, HandlingCode, Target, TargetShare

# --------------------------------------------------------------------------- shared pieces

#: The answers every endpoint may give besides its own (their bodies are described, not pinned: the
#: error format is the API's, the same for every endpoint).
_ERROR = OpenApiTypes.OBJECT
READ_ERRORS = {
    403: OpenApiResponse(_ERROR, description="Your role may not do this."),
    404: OpenApiResponse(_ERROR, description="No such object among those you may see."),
}
WRITE_ERRORS = {
    400: OpenApiResponse(_ERROR, description="A field is missing or wrong (the error names it)."),
    **READ_ERRORS,
    409: OpenApiResponse(
        _ERROR, description="Changed by someone else meanwhile, or not possible in this state."
    ),
}
LIST_ERRORS = {403: READ_ERRORS[403]}


def person_name(user: Any) -> str | None:
    """A person's full name, else username (as the pages' ``person`` filter writes it)."""
    return (user.get_full_name() or user.username) if user is not None else None


def visible_target(request: Request, pk: int) -> Target:
    """The target ``pk`` if the caller may see it; else 404, as for one that does not exist."""
    target = (
        Target.objects.visible_to(request.user)
        .select_related("owner_agency", "port", "subject")
        .filter(pk=pk)
        .first()
    )
    if target is None:
        raise NotFound()
    return target


# --------------------------------------------------------------------------- comments and attachments


class AttachmentSerializer(serializers.ModelSerializer):
    """A file on a comment: its name, type, size and SHA-256, and where to download it."""

    target = serializers.IntegerField(source="comment.target_id", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "comment",
            "target",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, obj: Attachment) -> str:
        url = reverse("target-attachment-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class CommentSerializer(serializers.ModelSerializer):
    """A note on a target as the target page shows it: author, agency, text, mentions, attachments.

    ``own_agency_only`` is the page's "own agency only" mark; ``shared_with`` names the agencies that
    read it, except to an officer at the port, whom the page shows no sharing.
    """

    author = serializers.SerializerMethodField()
    agency = serializers.CharField(source="owner_agency.code", read_only=True)
    own_agency_only = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "target", "author", "agency", "body", "own_agency_only", "shared_with", "mentions",
                  "attachments", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_author(self, obj: Comment) -> str:
        return person_name(obj.author) or ""

    def get_own_agency_only(self, obj: Comment) -> bool:
        return not obj.shared_with.all()

    def get_shared_with(self, obj: Comment) -> list[str]:
        if reads_briefing_only(self.context["request"].user):
            return []
        return sorted(a.code for a in obj.shared_with.all())

    def get_mentions(self, obj: Comment) -> list[str]:
        return [u.username for u in obj.mentions.all()]


class AddCommentSerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    body = serializers.CharField(
        help_text="The note; ``@username`` mentions a colleague who may see the target."
    )
    private = serializers.BooleanField(
        required=False, default=False, help_text="Keep the note within your own agency."
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Files (multipart only): PDF, PNG, JPEG, text or CSV, up to 10 MB each.",
    )


@extend_schema_view(
    list=extend_schema(
        responses={200: CommentSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(responses={200: CommentSerializer, **READ_ERRORS}),
)
class CommentViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Comments on the targets the caller may see, each shared as its author's agency chose.

    ``POST`` adds one (JSON, or multipart with ``attachments``), through the target page's service.
    """

    queryset = Comment.objects.select_related("author", "owner_agency").prefetch_related(
        "shared_with",
        "mentions",
        Prefetch("attachments", queryset=Attachment.objects.select_related("comment")),
    )
    serializer_class = CommentSerializer
    operations = {"*": "target.view", "create": "target.comment"}
    filterset_fields = {"target": ["exact"], "owner_agency": ["exact"], "created_at": ["gte", "lt"]}
    ordering_fields = ("created_at", "id")

    @extend_schema(
        request={"application/json": AddCommentSerializer, "multipart/form-data": AddCommentSerializer},
        responses={201: CommentSerializer, **WRITE_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AddCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = visible_target(request, data.validated_data["target"])
        comment = call_service(
            services.add_comment, actor=request.user, target=target, body=data.validated_data["body"],
            attachments=data.validated_data["attachments"], private=data.validated_data["private"],
        )  # fmt: skip
        return Response(
            self.get_serializer(self.get_queryset().get(pk=comment.pk)).data, status=status.HTTP_201_CREATED
        )


class FileRenderer(renderers.BaseRenderer):
    """Lets a client ask for the file by its own type (``Accept: application/pdf``); the file itself is
    streamed by ``FileResponse``, so this only renders an error answer on that route."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


@extend_schema_view(
    list=extend_schema(
        responses={200: AttachmentSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(responses={200: AttachmentSerializer, **READ_ERRORS}),
)
class AttachmentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Attachments of the comments the caller may see; ``download`` answers the file itself.

    Files are uploaded with their comment (``POST /comments/`` as multipart), as on the target page.
    """

    queryset = Attachment.objects.select_related("comment")
    serializer_class = AttachmentSerializer
    operations = {"*": "target.view"}
    # ``comment__target``: the attachments of every comment on one target.
    filterset_fields = {"comment": ["exact"], "comment__target": ["exact"], "content_type": ["exact"]}
    ordering_fields = ("uploaded_at", "id")

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file as uploaded (its own content type)."
            ),
            **READ_ERRORS,
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        """The file, from the same storage and through the same scoping as the target page's link."""
        found = self.get_object()
        return FileResponse(
            found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type
        )


# --------------------------------------------------------------------------- sharing and consent


class TargetShareSerializer(serializers.ModelSerializer):
    """One agency a target is shared with, under which handling code, and the owner's consent."""

    agency = serializers.CharField(source="agency.code", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    shared_by = serializers.SerializerMethodField()
    consent_given_by = serializers.SerializerMethodField()
    consent_required = serializers.SerializerMethodField()
    may_act = serializers.BooleanField(read_only=True)

    class Meta:
        model = TargetShare
        fields = ["id", "target", "agency", "agency_name", "code", "shared_by", "shared_at", "consent_required",
                  "consent_given_by", "consent_given_at", "may_act"]  # fmt: skip
        read_only_fields = fields

    def get_shared_by(self, obj: TargetShare) -> str | None:
        return person_name(obj.shared_by)

    def get_consent_given_by(self, obj: TargetShare) -> str | None:
        return person_name(obj.consent_given_by)

    def get_consent_required(self, obj: TargetShare) -> bool:
        return obj.code == HandlingCode.CONSENT


class ShareSerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    agency = serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.all(), help_text="The agency's code, e.g. POL."
    )
    code = serializers.ChoiceField(choices=HandlingCode.choices, default=HandlingCode.SEE)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            agency = self.fields["agency"]
            assert isinstance(agency, serializers.RelatedField)  # declared as a SlugRelatedField above
            # The stubs type ``queryset`` with Manager, a descriptor: mypy reads any assignment as its __get__.
            agency.queryset = Agency.objects.visible_to(user)  # type: ignore[arg-type]


class ConsentSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True)


@extend_schema_view(
    list=extend_schema(
        responses={200: TargetShareSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(responses={200: TargetShareSerializer, **READ_ERRORS}),
)
class TargetShareViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """With whom the targets the caller may see are shared. ``POST`` shares one; ``consent`` lets an
    agency whose share awaits the owner's consent act. An officer at the port sees no sharing."""

    queryset = TargetShare.objects.select_related("agency", "shared_by", "consent_given_by")
    serializer_class = TargetShareSerializer
    operations = {"*": "target.view", "create": "target.share", "consent": "target.share"}
    filterset_fields = {"target": ["exact"], "agency": ["exact"], "code": ["exact"]}
    ordering_fields = ("shared_at", "id")

    @extend_schema(
        request=ShareSerializer,
        responses={
            201: TargetShareSerializer,
            200: OpenApiResponse(
                TargetShareSerializer, description="Already shared: the share as it is now."
            ),
            **WRITE_ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ShareSerializer(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        target = visible_target(request, data.validated_data["target"])
        agency = data.validated_data["agency"]
        existed = TargetShare.objects.filter(target=target, agency=agency).exists()
        share = call_service(
            services.share_target, actor=request.user, target=target, agency=agency,
            code=data.validated_data["code"],
        )  # fmt: skip
        return Response(
            self.get_serializer(share).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @extend_schema(request=ConsentSerializer, responses={200: TargetShareSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def consent(self, request: Request, pk: str | None = None) -> Response:
        """The owner agency consents to action by the agency of this share (code "consent")."""
        share = self.get_object()
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The page offers consent only on a share that needs it and has not had it.
        if share.code != HandlingCode.CONSENT:
            raise ValidationError({"code": "This share does not wait for the owner's consent."})
        if share.consent_given_at is not None:
            raise Conflict("Consent was already given.")
        share = call_service(
            services.give_consent, actor=request.user, share=share, reason=data.validated_data["reason"]
        )
        return Response(self.get_serializer(share).data)
