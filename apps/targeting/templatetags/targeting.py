"""Small template helpers for the targeting pages."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django import template
from django.template.defaultfilters import date, timesince_filter, timeuntil_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # missing in django-stubs
from django.utils.translation import get_language

from apps.core.timewords import lasting, since, until
from apps.targeting.disclosure import random_control_agency, shows_random_control

register = template.Library()

SLA_FLAGS = {
    "breached": '<span class="tg-sla tg-sla-breached" title="Undecided past its service level, or arriving within 2 hours">⚠ SLA breached</span>',
    "due": '<span class="tg-sla tg-sla-due" title="The decision is due soon">Due soon</span>',
}
DASH = '<span class="muted">—</span>'
FREE = '<span class="muted">free</span>'
NOT_PROVIDED = "NOTPROVIDED"  # the CSRF context processor's value when there is no request


@register.filter
def time_since(value: Any, now: Any = None) -> str:
    """``timesince``, with "under a minute" for less than a minute (``apps.core.timewords``); "" for no time."""
    return since(value, now or None) if isinstance(value, datetime) else ""


@register.filter
def time_until(value: Any, now: Any = None) -> str:
    """``timeuntil``, with "under a minute" for less than a minute (``apps.core.timewords``); "" for no time."""
    return until(value, now or None) if isinstance(value, datetime) else ""


@register.filter
def person(user: Any, default: str = "System") -> str:
    """A person's full name, else username; ``default`` when there is nobody (the system did it)."""
    if user is None:
        return default
    return user.get_full_name() or user.username


#: The columns ``target_rows`` reads of a target and its port, owner and claimant (for ``QuerySet.only``
#: with ``select_related("port", "owner_agency", "claimed_by")``): a queue loads only these for its fifty
#: rows. A field read by the rows and missing here costs a query per row, which
#: ``tests/targeting/test_queries.py`` counts.
ROW_FIELDS = (
    "state", "risk_area", "priority", "arrival_at", "created_at", "by_engine", "random_control",
    "port__locode", "port__name", "port__mode", "owner_agency__code",
    "claimed_by__username", "claimed_by__first_name", "claimed_by__last_name",
)  # fmt: skip


@register.simple_tag(takes_context=True)
def target_rows(context: template.Context, targets: Any) -> SafeString:
    """The rows of a target table (``_target_table.html``): reference, state, risk area, priority, port,
    arrival with its SLA flag, owner, who works it and, with ``show_claim``, a claim or release button.

    Written in Python rather than as a template loop because the queue page shows fifty rows and the
    template engine spent more on them than the rest of the page together; the markup is the same.
    What is the same for every row (the URL pattern, the choice labels, month names, the CSRF field,
    the page's own path) is worked out once per table, not once per row (docs/performance.md).
    """
    table = _Table(context)
    rows = [_target_row(context, t, table) for t in targets]
    if not rows:
        return mark_safe('\n<tr><td colspan="9" class="muted tg-empty">Nothing here.</td></tr>\n')
    return mark_safe("".join(rows) + "\n")  # noqa: S308 (every value in the rows is escaped by ``e``)


class _Table:
    """What every row of one table shares, computed once for the table."""

    #: A number no target has, put in the detail URL once and replaced by each row's id.
    MARK = "987654321987654321"

    def __init__(self, context: template.Context) -> None:
        from apps.targeting.models import Target

        self.context = context
        self.now = context.get("now")
        self.request = request = context.get("request")
        # Random control is told only to the owner agency's floor (``disclosure``): the officer at the port
        # and a partner agency treat a draw as any other target.
        self.random_agency = random_control_agency(request.user) if request is not None else None
        self.detail_url = reverse("targeting:detail", args=[int(self.MARK)])
        # Each claim button posts to its own action's URL (``targeting:target_claim``, ``target_release``).
        self.action_urls = {
            name: reverse(f"targeting:target_{name}", args=[int(self.MARK)]) for name in ("claim", "release")
        }
        self.states = {k: str(v) for k, v in Target._meta.get_field("state").flatchoices}
        self.areas = {k: str(v) for k, v in Target._meta.get_field("risk_area").flatchoices}
        self.months: dict[int, str] = {}
        self.show_claim = bool(context.get("show_claim"))
        self.csrf = self.next = ""
        if self.show_claim and request is not None:
            token = context.get("csrf_token")  # as {% csrf_token %} renders it
            self.csrf = (
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(token)}">'
                if token and str(token) != NOT_PROVIDED
                else ""
            )
            self.next = e(request.get_full_path())

    def url(self, pk: int) -> str:
        return e(self.detail_url.replace(self.MARK, str(pk)))

    def action_url(self, name: str, pk: int) -> str:
        return e(self.action_urls[name].replace(self.MARK, str(pk)))

    def when(self, local: Any) -> str:
        """``date(local, "d M H:i")`` with the month's (translated) name looked up once per month."""
        month = self.months.get(local.month)
        if month is None:
            month = self.months[local.month] = date(local, "M")
        return f"{local.day:02d} {month} {local.hour:02d}:{local.minute:02d}"


def _target_row(context: template.Context, t: Any, table: _Table) -> str:
    # Plain f-strings with every value escaped as the template's autoescape would (``html.escape``):
    # ``format_html`` per cell cost as much as the template did.
    now = table.now
    detail_url = table.url(t.pk)
    sla = t.sla_status()
    # The priority as set (``Target.display_priority``), as every screen shows it; a queue's ranking
    # by urgency decides only the order of the rows, and the SLA flag says how near arrival is.
    priority = e(t.display_priority)
    pills = (
        ' <span class="pill" title="Nominated by the risk engine">engine</span>' if t.by_engine else ""
    ) + (' <span class="pill">random</span>' if shows_random_control(table.random_agency, t) else "")
    if t.arrival_at:
        local = template_localtime(t.arrival_at, context.use_tz)
        relative = (
            f"in {e(_between(now, t.arrival_at) or timeuntil_filter(t.arrival_at, now))}"
            if now not in (None, "") and t.arrival_at > now  # without ``now`` the template said "ago"
            else f"{e(_between(t.arrival_at, now) or timesince_filter(t.arrival_at, now))} ago"
        )
        # ``date(local, "c")`` is ``isoformat()`` of the local time.
        arrival = (
            f'<time datetime="{e(local.isoformat())}">{e(table.when(local))}</time> '
            f'<span class="muted small">{relative}</span> {SLA_FLAGS.get(sla, "")}'
        )
    else:
        arrival = DASH
    claimed = f'<span class="tg-claim">● {e(person(t.claimed_by))}</span>' if t.claimed_by else FREE
    port = f"<code>{e(t.port.locode)}</code>" if t.port else DASH
    claim = f'\n  <td class="tg-actions">{_claim_form(table, t)}</td>' if table.show_claim else ""
    return (
        f'\n<tr class="{"tg-row-breach" if sla == "breached" else ""}" data-target="{t.pk}">'
        f'\n  <td><a class="tg-ref" href="{detail_url}">{e(t.reference)}</a>{pills}</td>'
        f'\n  <td><span class="tg-state tg-state-{e(t.state)}">{e(table.states.get(t.state, t.state))}</span></td>'
        f"\n  <td>{e(table.areas.get(t.risk_area, t.risk_area))}</td>"
        f'\n  <td class="num"><span class="tg-prio" style="--p: {priority}">{priority}</span></td>'
        f"\n  <td>{port}</td>"
        f"\n  <td>{arrival}</td>"
        f'\n  <td><span class="badge badge-agency">{e(t.owner_agency.code.upper())}</span></td>'
        f"\n  <td>{claimed}</td>{claim}"
        "\n</tr>"
    )


#: Below four weeks, ``timesince``'s words depend only on the whole minutes between the two times (no
#: month or year, whose lengths vary with the calendar, can be counted), so the words for a number of
#: minutes are worked out once per process and language, not once per row of every queue page.
_SAME_WORDS_BELOW = timedelta(days=27)


def _between(earlier: Any, later: Any) -> str:
    """``timesince(earlier, later)`` (``timeuntil`` reversed) as the filters write it, for the times of a
    queue row; "" when the filters must say it themselves (no times, or four weeks and more apart)."""
    if not isinstance(earlier, datetime) or not isinstance(later, datetime):
        return ""
    if earlier.tzinfo is not UTC or later.tzinfo is not UTC:
        # In a zone with summer time ``timesince`` counts wall-clock hours; the database's times and
        # ``timezone.now()`` are UTC, where wall clock and elapsed time agree.
        return ""
    delta = later - earlier
    if delta >= _SAME_WORDS_BELOW:
        return ""
    seconds = delta.days * 86400 + delta.seconds  # as ``timesince`` counts: microseconds ignored
    return _minutes_in_words(max(seconds, 0) // 60, get_language() or "")


@lru_cache(maxsize=8192)
def _minutes_in_words(minutes: int, language: str) -> str:
    # ``language`` is in the key: the words are the active language's (``get_language``).
    return lasting(timedelta(minutes=minutes))


def _claim_form(table: _Table, t: Any) -> str:
    if table.request is None:  # a claim button needs the viewer (and its CSRF field)
        return ""
    if t.claimed_by_id == table.request.user.pk:
        do, label, style = "release", "Release", "btn btn-small"
    elif not t.claimed_by_id:
        do, label, style = "claim", "Claim", "btn btn-small btn-primary"
    else:
        return ""
    return (
        f'<form method="post" action="{table.action_url(do, t.pk)}">{table.csrf}'
        f'<input type="hidden" name="next" value="{table.next}">'
        f'<button class="{style}" type="submit">{label}</button></form>'
    )


def e(value: Any) -> str:
    """Escape as the template engine's autoescape does."""
    return html.escape(str(value))
