"""The one navigation: each entry names the operation it needs, so every role sees only what it may use.

Entries whose page is not installed (its URL name does not resolve) are left out, so a capability
appears in the navigation by registering its URLs, with no change here beyond its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from apps.agencies.operations import can


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    url_name: str
    operation: str
    section: str
    icon: str = ""


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("Home", "home", "reference.view", "Floor", "home"),
    NavItem("Floor board", "live:floor", "board.view", "Floor", "board"),
    NavItem("Queues", "targeting:queues", "target.view", "Floor", "queue"),
    NavItem("Targets", "targeting:list", "target.view", "Floor", "target"),
    NavItem("Joint operations", "targeting:operations", "target.view", "Floor", "group"),
    NavItem("Partner alerts", "alerts:queue", "target.nominate", "Floor", "queue"),
    NavItem("Shift handover", "handover:list", "handover.view", "Floor", "log"),
    NavItem("My instructions", "frontline:home", "exam.record", "Port", "tablet"),
    NavItem("Subjects", "intake:subjects", "subject.view", "Data", "subject"),
    NavItem("Intake", "intake:upload", "intake.upload", "Data", "upload"),
    NavItem("Data sources", "intake:sources", "source.view", "Data", "source"),
    NavItem("Data quality", "quality:carriers", "quality.view", "Data", "chart"),
    NavItem("Rules", "risk:rules", "rule.view", "Risk", "rule"),
    NavItem("Assessments", "risk:assessments", "rule.view", "Risk", "rule"),
    NavItem("Rule lab", "risk:lab", "rule.backtest", "Risk", "lab"),
    NavItem("Watchlists", "watchlists:list", "watchlist.view", "Risk", "list"),
    NavItem("Hits to rule", "watchlists:hits", "hit.rule", "Risk", "list"),
    NavItem("Risk model", "learning:models", "model.view", "Risk", "model"),
    NavItem("Reports", "reports:home", "report.view", "Reports", "chart"),
    NavItem("Access log", "compliance:log", "audit.view", "Oversight", "log"),
    NavItem("Unmasking requests", "compliance:unmask", "unmask.approve", "Oversight", "key"),
    NavItem("Integrity and retention", "compliance:oversight", "audit.view", "Oversight", "shield"),
    NavItem("Agencies and ports", "agencies:directory", "reference.view", "Reference", "port"),
    NavItem("People", "agencies:people", "membership.view", "Reference", "people"),
    NavItem("API docs", "api-docs", "reference.view", "Reference", "api"),
    # The centre's settings (operating model, ports, examination focus ...) live in the admin, which
    # shows an agency's administrator only his agency's rows (apps.core.admin).
    NavItem("Administration", "admin:index", "reference.manage", "Reference", "key"),
)


def items_for(user) -> list[dict[str, str]]:
    """The navigation entries this user may use, with their URLs, in display order."""
    items = []
    prefix, urlconf = get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF
    for item in NAVIGATION:
        if not can(user, item.operation):  # the person's right: asked on every request
            continue
        url = _url(item.url_name, prefix, urlconf)
        if url is not None:
            items.append({"label": item.label, "url": url, "section": item.section, "icon": item.icon})
    return items


@cache
def _url(url_name: str, prefix: str, urlconf: str) -> str | None:
    """The entry's URL, or None when its page is not installed: the same for every request of one
    script prefix and URL configuration, so reversed once for each (25 ``reverse`` calls a page before)."""
    try:
        return reverse(url_name, urlconf=urlconf)  # under ``prefix``, the current script prefix
    except NoReverseMatch:
        return None
