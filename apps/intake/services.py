"""Services for data sources. Every function checks the actor first and works in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from apps.agencies.models import Agency
from apps.agencies.operations import check
from apps.intake.models import DataSource


def share_source(*, actor: Any, source: DataSource, agency: Agency) -> None:
    """Let ``agency`` see ``source`` (its legal basis allows the disclosure). Only the owner may share."""
    check(actor, "source.share", source)
    with transaction.atomic():
        assign_perm("intake.view_datasource", agency.group, source)


def unshare_source(*, actor: Any, source: DataSource, agency: Agency) -> None:
    check(actor, "source.share", source)
    with transaction.atomic():
        remove_perm("intake.view_datasource", agency.group, source)


def shared_with(source: DataSource) -> list[Agency]:
    """Agencies (other than the owner) granted sight of the source."""
    group_ids = source.datasourcegroupobjectpermission_set.filter(
        permission__codename="view_datasource"
    ).values("group_id")
    return list(Agency.objects.filter(group_id__in=group_ids).order_by("name"))
