"""A target's page: reasons, subject (masked as the law says), history, holds, sharing, comments and the
buttons of what the viewer may do (each posting to its own URL, ``views.actions``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.agencies.models import Agency, ExaminationMethod
from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest, drawing_access_key, note_object
from apps.targeting import flow, services
from apps.targeting.disclosure import disclose
from apps.targeting.models import OPEN_STATES, TARGET_ROW, Comment, HandlingCode, Target
from apps.targeting.queries import TargetAccess, has_panel, panels_of
from apps.targeting.routing import deciding_team_label
from apps.targeting.services.sharing import may_pass_on


def _detail_context(request: HttpRequest, target: Target) -> dict[str, Any]:
    user = request.user
    membership = membership_of(user)
    seen = disclose(user, target)  # everything of the target below is rendered from what this returns
    # A panel whose table has no row of this target at all (``panels_of``, read with the target) costs
    # no query; one that has rows reads them as before, through the same rule.
    holds = []
    if has_panel(target, "holds"):
        holds = [seen.hold(h) for h in target.holds.select_related("agency", "placed_by", "released_by")]
    shares = []
    if has_panel(target, "shares"):
        shares = list(target.shares.select_related("agency", "shared_by", "consent_given_by"))
    comments: Any = []
    if has_panel(target, "comments"):
        comments = (
            Comment.objects.visible_to(user)
            .filter(target=target)
            .select_related("author", "owner_agency")
            .prefetch_related("attachments", "mentions", "shared_with")
        )
    instructions: list[Any] = []
    if has_panel(target, "instructions"):
        instructions = list(target.instructions.select_related("port", "dispatched_by"))
    # One visibility query and one read of the configuration for every button of the page.
    access = TargetAccess(user, target, visible=True)  # the view loaded it through visible_to
    actions = [
        {"name": m.action, "label": m.label, "style": m.style, "reason_required": m.reason_required,
         "url": reverse(f"targeting:target_{m.action}", args=[target.pk])}
        for m in access.moves()
    ]  # fmt: skip
    can_dispatch = "dispatch" in {a["name"] for a in actions}
    owner = membership.agency_id == target.owner_agency_id
    # The pass-on rule is the service's own (``may_pass_on``): the button shows when sharing would pass.
    can_share = access.may("target.share") and may_pass_on(membership.agency_id, target, shares)
    return {
        "target": target,
        "subject": seen.subject,
        "reasons": seen.reasons,
        "history": seen.history(),
        "operation": seen.operation,
        "briefing_only": seen.briefing_only,
        "random_control": seen.random_control,
        "score": seen.score,
        "holds": holds,
        "active_holds": [h for h in holds if h.active],
        "my_agency_id": membership.agency_id,
        "shares": shares,
        "comments": comments,
        "actions": [a for a in actions if a["name"] != "dispatch"],
        "can_dispatch": can_dispatch,
        # The dispatch box starts with what the analyst wrote for the port (``services.default_instruction``).
        "default_instruction": services.default_instruction(target, user) if can_dispatch else "",
        "methods": ExaminationMethod.choices,
        "instructions": instructions,
        "can_claim": access.may("target.claim") and target.state in OPEN_STATES,
        "can_hold": access.may("target.hold") and target.state in services.HOLDABLE_STATES | {"on_hold"},
        "can_comment": access.may("target.comment"),
        "can_share": can_share,
        "is_owner": owner,
        # Read only for the form that lists them.
        "share_agencies": list(Agency.objects.exclude(pk=target.owner_agency_id)) if can_share else [],
        "codes": HandlingCode.choices if owner else [(HandlingCode.SEE, "May see"), (HandlingCode.CONSENT, "Owner consent before action")],
        "team": deciding_team_label(target, access.config),
        "now": timezone.now(),
        # What the target came from and what came of it, each only if the viewer may open it.
        "links": flow.links_for_target(user, target, seen, instructions=instructions),
        "results": seen.results(),
    }  # fmt: skip


@login_required
@require_GET
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A target: reasons, subject (masked as the law says), history, holds, sharing, comments, actions."""
    check(request.user, "target.view")
    # Who claimed it and its joint operation are not joined: each is read only when set (the operation
    # through ``disclose``'s own rule), and two more joins cost the planner more than the statement's
    # execution (planning 3-6 ms against 1.2 ms with both left out, 50,000 subjects).
    queryset = Target.objects.select_related(*TARGET_ROW).annotate(**panels_of(request.user))
    # The access log's key comes with the target's row (the gate writes the entry after this view).
    target = get_object_for(request.user, drawing_access_key(request, queryset), pk=pk)
    # Purpose and the access log, for the page and its htmx panel alike: the gate in ``urls.py``.
    note_object(request, target)  # loaded with its subject: the log names the data's owner from it
    return render_page_or_fragment(
        request, "targeting/detail.html", _detail_context(request, target), fragment="panel"
    )
