"""The one conditional state change every transition makes, and what comes with it: the history row, the
after-commit events to the target's audience and the message that names who moved a target first.

Each transition checks the actor (role, agency, routing), changes state by a conditional UPDATE on
``(pk, state, version)`` inside a transaction, writes an append-only ``Transition`` and publishes ids-only
events after commit (``_move``, as the table in ``apps.targeting.transitions`` says).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, models, transaction
from django.db.models import F, sql
from django.utils import timezone

from apps.agencies.models import Agency
from apps.agencies.operations import check, membership_of
from apps.compliance.chain import keyed_by_sequence, next_key_sql
from apps.core.events import publish_many_on_commit
from apps.targeting import transitions
from apps.targeting.audience import audience_of
from apps.targeting.events import announce_target_changed, instruction_moved
from apps.targeting.models import Target, TargetState, Transition
from apps.targeting.queries import known_visible

S = TargetState


class StaleChange(Exception):
    """Someone else changed the target first; the user must look again before acting."""


class TransitionRefused(PermissionDenied):
    """The transition is not allowed from the target's current state (or a hold forbids it)."""


RANDOM_CONTROL_REFUSAL = (
    "{ref} was drawn for random control: it cannot be {done}, or the centre's measure of what it misses "
    "would be biased. If it cannot be examined, mark it missed and say why."
)
#: How the refusal names each move the table does not allow on a random-control target.
RANDOM_CONTROL_DONE = {"reject": "rejected", "withdraw": "withdrawn"}


def _agency_of(actor: User | None) -> Agency | None:
    membership = membership_of(actor)
    return membership.agency if membership else None


def _member_agency(actor: User) -> Agency:
    """The agency of an actor ``check`` has just let through: only a member passes ``check``."""
    agency = _agency_of(actor)
    assert agency is not None, "check() lets only members of an agency through"
    return agency


def _publish(target: Target, event_type: str = "target.changed", groups: list[str] | None = None) -> None:
    """Tell the target's audience (``apps.targeting.audience``) after commit, ids only (one callback for
    all its groups: their numbers in one Redis round trip)."""
    audience = audience_of(target) if groups is None else groups
    publish_many_on_commit(audience, event_type, target=target.pk, state=target.state, version=target.version)


def _record(
    target: Target, actor: User | None, from_state: str, to_state: str, reason: str, *, key: int | None = None
) -> Transition:
    """Append the history row; ``key``: its key, when the caller's statement took it from the sequence."""
    agency = _agency_of(actor)
    transition = Transition(
        target=target,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_agency=agency,
        from_state=from_state,
        to_state=to_state,
        version=target.version,
        reason=reason,
    )
    if key is not None:
        keyed_by_sequence(transition, key)
    transition.save()
    announce_target_changed(target.pk)  # the report's summary row of the target, rewritten after the commit
    return transition


#: The column of ``_update_returning``'s row that holds the history row's key (PostgreSQL).
TRANSITION_KEY = "ratc_transition_key"


def _update_returning(queryset: Any, values: dict[str, Any]) -> Target | None:
    """``queryset.update(**values)`` that also returns the updated row (``UPDATE ... RETURNING``), or
    None when no row matched: the row as this very statement left it, without reading it again.

    On PostgreSQL the same statement takes the key of the move's history row from its sequence
    (``TRANSITION_KEY``; only when a row matched: ``RETURNING`` is evaluated per updated row), so that
    the row is inserted without a ``nextval`` round trip of its own."""
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    text, params = query.get_compiler(queryset.db).as_sql()
    quote = connections[queryset.db].ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in Target._meta.concrete_fields)
    next_key = next_key_sql(Transition)
    if next_key is not None:
        columns += f", {next_key} AS {quote(TRANSITION_KEY)}"
    rows = list(Target.objects.using(queryset.db).raw(f"{text} RETURNING {columns}", params))
    return rows[0] if rows else None


def _take_row(target: Target, row: Target, changes: dict[str, Any]) -> None:
    """Make ``target`` the updated ``row`` (``_update_returning``), keeping what the caller loaded with
    it that the update did not change, so that the page or answer that shows it next does not fetch its
    owner, port and subject one query at a time.

    Related rows are kept when the update left their id alone, else taken from ``changes`` (the claimant
    a review sets) or dropped (read when asked). The shares the caller prefetched are kept: every change
    of a target's shares raises its version in the same transaction (``sharing``), and this update
    succeeded on the version they were read with, so they are the shares of the target as it now is.
    Whether it was loaded through the actor's scope (``queries.loaded_through_scope``) is kept too: it
    is the same row."""
    field: Any  # a concrete field; the foreign keys among them cache their related row
    for field in Target._meta.concrete_fields:
        setattr(target, field.attname, getattr(row, field.attname))
        if not field.is_relation:
            continue
        given = changes.get(field.name)
        if isinstance(given, models.Model):
            field.set_cached_value(target, given)
        elif field.is_cached(target):
            cached = field.get_cached_value(target)
            if getattr(cached, "pk", None) != getattr(target, field.attname):
                field.delete_cached_value(target)
    prefetched = getattr(target, "_prefetched_objects_cache", {})
    target._prefetched_objects_cache = {  # type: ignore[attr-defined]  # Django's own
        name: rows for name, rows in prefetched.items() if name == "shares"
    }


def _stale_message(target_pk: int) -> str:
    fresh = Target.objects.filter(pk=target_pk).first()
    if fresh is None:
        return "This target no longer exists."
    last = (
        Transition.objects.filter(target_id=target_pk).select_related("actor").order_by("-at", "-id").first()
    )
    who = (last.actor.get_full_name() or last.actor.username) if last and last.actor else "the system"
    return (
        f"{fresh.reference} was changed by {who} before you (it is now "
        f"“{fresh.get_state_display()}”, version {fresh.version}). Reload it and decide again."
    )


def _move(
    *,
    actor: User | None,
    target: Target,
    action: str,
    expected_version: int | None,
    reason: str,
    extra: dict[str, Any] | None = None,
    event: str = "target.changed",
    checked: str = "",
) -> Target:
    """The one conditional state change every transition uses, as the table (``transitions``) says.

    The row of ``action`` that fits the target (random control or not), the actor (a person, or
    ``actor=None``: the system, whose history line says so) and the target's state gives the operation to
    check, whether a reason is required, the state to go to and whether the claim ends. ``checked``: the
    operation the calling service has just checked on this target for this actor; the row's operation is
    not checked a second time when it is that one (a check reads visibility and configuration: two
    queries on the transition API's path), and is checked when it is any other.
    """
    system = actor is None
    rows = transitions.moves_for(action, random_control=target.random_control, system=system)
    if not rows:
        if actor is not None and target.random_control and any(transitions.rows(action)):
            check(actor, next(transitions.rows(action)).operation, target)  # no right: told that, not why
            raise TransitionRefused(
                RANDOM_CONTROL_REFUSAL.format(
                    ref=target.reference, done=RANDOM_CONTROL_DONE.get(action, action)
                )
            )
        raise TransitionRefused(f"{target.reference}: “{action}” is not a move this target can make.")
    row = next((m for m in rows if target.state in m.from_states), None)
    if actor is not None and (row or rows[0]).operation != checked:  # not the system, not checked already
        check(actor, (row or rows[0]).operation, target, visible=known_visible(target, actor))
    if (row or rows[0]).reason_required and not reason.strip():
        raise ValidationError({"reason": "Give a reason for this decision."})
    version = target.version if expected_version is None else expected_version
    if target.version != version:
        raise StaleChange(_stale_message(target.pk))
    if row is None:
        to_state = rows[0].to_state
        going = S(to_state).label if to_state in S.values else "where it was before the hold"
        raise TransitionRefused(
            f"{target.reference} is “{target.get_state_display()}”: it cannot go to “{going}” from there."
        )
    to_state = row.to_state
    changes = dict(extra or {})
    if to_state == transitions.RESUME:
        to_state, changes["resume_state"] = target.resume_state or S.APPROVED, ""
    if row.clears_claim:
        changes.update(claimed_by=None, claimed_at=None)
    now = timezone.now()
    with transaction.atomic():
        matched = Target.objects.filter(pk=target.pk, version=version, state__in=row.from_states)
        updated = _update_returning(
            matched, {"state": to_state, "version": F("version") + 1, "updated_at": now, **changes}
        )
        if updated is None:
            raise StaleChange(_stale_message(target.pk))
        from_state = target.state
        _take_row(target, updated, changes)
        # Who to tell is read before the history row is appended (appending locks nothing shared; rows
        # are linked into the chain after the commit: apps.compliance.chain).
        groups = audience_of(target, shares=getattr(target, "_prefetched_objects_cache", {}).get("shares"))
        _record(target, actor, from_state, to_state, reason, key=getattr(updated, TRANSITION_KEY, None))
        _publish(target, event, groups)
        instruction_moved(target.pk, from_state, to_state)  # port systems' webhooks, after the commit
    return target
