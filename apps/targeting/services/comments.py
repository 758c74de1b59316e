"""Notes on a target, shared with the agencies that see it (or private), with ``@username`` mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.agencies.operations import check
from apps.core.events import group_name, publish_on_commit
from apps.targeting.models import Attachment, Comment, Target
from apps.targeting.services.attachments import _check_attachment
from apps.targeting.services.moves import _member_agency, _publish

MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


def add_comment(
    *,
    actor: User,
    target: Target,
    body: str,
    attachments: Iterable[UploadedFile] = (),
    private: bool = False,
) -> Comment:
    """Add a note to the target; ``@username`` mentions people who may see the target.

    The note is owned by the author's agency. Unless ``private``, it is shared with every agency that
    sees the target; a private note stays within the author's agency.
    """
    check(actor, "target.comment", target)
    if not body.strip():
        raise ValidationError({"body": "Write something."})
    checked = [(upload, *_check_attachment(upload)) for upload in attachments]
    agency = _member_agency(actor)
    with transaction.atomic():
        comment = Comment.objects.create(target=target, author=actor, owner_agency=agency, body=body.strip())
        if not private:
            audience = {target.owner_agency_id, *target.shares.values_list("agency_id", flat=True)} - {
                agency.pk
            }
            comment.shared_with.set(audience)
        names = set(MENTION.findall(body))
        if names:
            users = get_user_model().objects.filter(username__in=names, membership__isnull=False)
            audience_agencies = {agency.pk, *comment.shared_with.values_list("pk", flat=True)}
            mentioned = [u for u in users if u.membership.agency_id in audience_agencies]
            comment.mentions.set(mentioned)
            for user in mentioned:
                publish_on_commit(group_name("user", user.pk), "target.changed", target=target.pk, state=target.state,
                                  version=target.version)  # fmt: skip
        for upload, content_type, sha256, size in checked:
            Attachment.objects.create(
                comment=comment, file=upload, name=(upload.name or "")[:200], content_type=content_type, size=size,
                sha256=sha256,
            )  # fmt: skip
        _publish(target)
    return comment
