"""Switching the centre's operating model, and the open work it re-routes (BRIEF capability 10).

Routing reads the model each time it is asked (``routing``), so a switch changes at once who sees,
reviews and approves each open target. What a person on the floor must not lose is the thread: a target
he was working may now belong to another team. :func:`change_operating_model` therefore, in the same
transaction as the switch, finds every open target whose deciding team changes, gives back its claim
(whoever held it was working for the old team), raises its version (a form opened before the switch is
stale) and writes a history line naming the old team, the new one, the models and who switched. Boards
and open pages hear of each target after the commit, as of any other change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from apps.agencies.models import CentreConfiguration, OperatingModel
from apps.agencies.operations import check
from apps.targeting.models import OPEN_STATES, Target
from apps.targeting.routing import deciding_team_label


@dataclass
class Rerouted:
    """What a switch did: the models, and how many open targets changed team (by the new team)."""

    old: str
    new: str
    targets: int
    to_teams: dict[str, int]

    def summary(self) -> str:
        if self.old == self.new:
            return "The operating model is unchanged; no target was re-routed."
        teams = ", ".join(f"{n} to {team}" for team, n in sorted(self.to_teams.items())) or "none"
        return (
            f"Operating model changed from {OperatingModel(self.old).label.split(':')[0].lower()} to "
            f"{OperatingModel(self.new).label.split(':')[0].lower()}: {self.targets} open target"
            f"{'' if self.targets == 1 else 's'} re-routed ({teams})."
        )


def change_operating_model(
    *, actor: User, operating_model: str, config: CentreConfiguration | None = None
) -> Rerouted:
    """Switch to ``operating_model`` and re-route the open targets whose deciding team changes.

    ``config``: the configuration being saved (the admin's form instance, with its other fields), else
    the current one. An administrator of the national centre switches (``reference.manage``), or the
    installation's superuser.
    """
    if not getattr(actor, "is_superuser", False):  # the installation's superuser has no agency
        check(actor, "reference.manage")
    if operating_model not in OperatingModel.values:
        choices = ", ".join(OperatingModel.values)
        raise ValidationError({"operating_model": f"Operating model: choose one of {choices}."})
    from apps.targeting.services.moves import _publish, _record

    with transaction.atomic():
        current = None
        if config is not None and config.pk is not None:  # an unsaved configuration has no row to lock
            current = CentreConfiguration.objects.select_for_update().filter(pk=config.pk).first()
        current = current or CentreConfiguration.current()
        before = CentreConfiguration(
            pk=current.pk,
            operating_model=current.operating_model,
            national_agency_id=current.national_agency_id,
        )
        config = config or current
        config.operating_model = operating_model
        config.save()
        if before.operating_model == operating_model:
            return Rerouted(before.operating_model, operating_model, 0, {})
        moved: list[tuple[Target, str, str]] = []
        open_targets = Target.objects.filter(state__in=sorted(OPEN_STATES)).select_related("port")
        for target in open_targets.iterator(chunk_size=1000):
            old_team, new_team = deciding_team_label(target, before), deciding_team_label(target, config)
            if old_team != new_team:
                moved.append((target, old_team, new_team))
        ids = [t.pk for t, _, _ in moved]
        for start in range(0, len(ids), 1000):
            Target.objects.filter(pk__in=ids[start : start + 1000]).update(
                version=F("version") + 1, claimed_by=None, claimed_at=None
            )
        old_name = OperatingModel(before.operating_model).label.split(":")[0].lower()
        new_name = OperatingModel(operating_model).label.split(":")[0].lower()
        to_teams: dict[str, int] = {}
        for target, old_team, new_team in moved:
            target.version += 1
            target.claimed_by_id = None
            _record(
                target, actor, target.state, target.state,
                f"Re-routed from {old_team} to {new_team}: operating model changed from {old_name} to {new_name}",
            )  # fmt: skip
            _publish(target)
            to_teams[new_team] = to_teams.get(new_team, 0) + 1
    return Rerouted(before.operating_model, operating_model, len(moved), to_teams)
