"""Notes on a target, shared as their author's agency decides, and the files attached to them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.scoping import ScopedManager
from apps.core.storage import uploads
from apps.targeting.models.choices import HandlingCode
from apps.targeting.models.target import Target


class Comment(models.Model):
    """A note on a target, owned by the author's agency and visible to the agencies it is shared with."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    shared_with = models.ManyToManyField("agencies.Agency", blank=True, related_name="+")
    code = models.CharField(max_length=10, choices=HandlingCode.choices, default=HandlingCode.SEE)
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.target_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        on_visible_target = Q(target__in=Target.visible_pks(membership))
        shared = Q(owner_agency_id=membership.agency_id) | Q(
            pk__in=Comment.shared_with.through.objects.filter(agency_id=membership.agency_id).values(
                "comment_id"
            )
        )
        return on_visible_target & shared


class Attachment(models.Model):
    """A file on a comment: type and size checked on upload, stored with its SHA-256."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="targeting/%Y/%m/", storage=uploads)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(comment__in=Comment.objects.filter(Comment.visibility_q(membership)).values("pk"))
