"""Targeting routes that take a parameter, each with a maker of a customs object not shared with BIO."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from apps.targeting.models import (
    Attachment,
    Comment,
    DispatchProposal,
    Hold,
    Instruction,
    JointOperation,
    TargetShare,
)
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


def _target(world: Any, **kwargs: Any):
    return TargetFactory(
        subject=SubjectFactory(source__owner_agency=world.customs, port=world.port_a), **kwargs
    )


def _author(world: Any):
    """The customs author of the objects below (made once: the anonymous check calls every maker)."""
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username="iso-author").first()
    return existing or member("iso-author", world.customs, "supervisor")


def _target_pk(world: Any) -> dict[str, int]:
    return {"pk": _target(world).pk}


def _subject(world: Any) -> dict[str, int]:
    return {"subject_pk": SubjectFactory(source__owner_agency=world.customs).pk}


def _operation(world: Any) -> dict[str, int]:
    now = timezone.now()
    return {"pk": JointOperation.objects.create(name="Op", owner_agency=world.customs, starts_at=now,
                                                ends_at=now + timezone.timedelta(days=1)).pk}  # fmt: skip


def _attachment(world: Any) -> dict[str, int]:
    comment = Comment.objects.create(
        target=_target(world), author=_author(world), owner_agency=world.customs, body="x"
    )
    found = Attachment(comment=comment, name="note.txt", content_type="text/plain", size=5, sha256="0" * 64)
    found.file.save("note.txt", ContentFile(b"hello"), save=True)
    return {"pk": found.pk}


def _hold(world: Any) -> dict[str, int]:
    return {
        "pk": Hold.objects.create(
            target=_target(world), agency=world.customs, placed_by=_author(world), reason="x"
        ).pk
    }


def _instruction(world: Any) -> dict[str, int]:
    target = _target(world, state="dispatched")
    return {"pk": Instruction.objects.create(target=target, port=world.port_a, method="scan", instruction="x",
                                             dispatched_by=_author(world)).pk}  # fmt: skip


def _comment(world: Any) -> dict[str, int]:
    comment = Comment.objects.create(
        target=_target(world), author=_author(world), owner_agency=world.customs, body="x"
    )
    return {"pk": comment.pk}


def _share(world: Any) -> dict[str, int]:
    """A customs target shared with the police (consent needed): not with the outsider's agency."""
    share = TargetShare.objects.create(
        target=_target(world), agency=world.police, code="consent", shared_by=_author(world)
    )
    return {"pk": share.pk}


def _proposal(world: Any) -> dict[str, int]:
    proposal = DispatchProposal.objects.create(
        port=world.port_a, shift="early", agency=world.customs, created_by=_author(world),
        selected=[{"target": _target(world, state="approved").pk, "version": 1, "method": "scan", "p": 0.5,
                   "value": 0.5}],
    )  # fmt: skip
    return {"pk": proposal.pk}


SCOPED_ROUTES = {
    "targeting:detail": _target_pk,
    "targeting:export_target": _target_pk,
    "targeting:nominate": _subject,
    "targeting:operation": _operation,
    "targeting:attachment": _attachment,
    "target-detail": _target_pk,
    "target-transitions": _target_pk,
    "target-claim": _target_pk,
    "target-hold-detail": _hold,
    "target-instruction-detail": _instruction,
    "target-comment-detail": _comment,
    "target-attachment-detail": _attachment,
    "target-attachment-download": _attachment,
    "target-share-detail": _share,
    "target-share-consent": _share,
    "joint-operation-detail": _operation,
    "joint-operation-targets": _operation,
    "dispatch-proposal-detail": _proposal,
    "dispatch-proposal-accept": _proposal,
}

# Each action on a target has its own URL (``targeting/urls.py``: ``<pk>/<action>/``), named
# ``target_<action>``; every one of them must miss for another agency as the page does.
from apps.targeting import transitions  # noqa: E402

_ACTIONS = ("claim", "release", "hold", "release_hold", "comment", "share", "consent", *transitions.buttons())
SCOPED_ROUTES.update({f"targeting:target_{action}": _target_pk for action in _ACTIONS})
