"""Small template helpers for the targeting pages."""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.template.defaultfilters import date, timesince_filter, timeuntil_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from apps.targeting.disclosure import reads_briefing_only

register = template.Library()

SLA_FLAGS = {
    "breached": '<span class="tg-sla tg-sla-breached" title="Undecided past its service level, or arriving within 2 hours">⚠ SLA breached</span>',
    "due": '<span class="tg-sla tg-sla-due" title="The decision is due soon">Due soon</span>',
}
DASH = '<span class="muted">—</span>'
FREE = '<span class="muted">free</span>'
NOT_PROVIDED = "NOTPROVIDED"  # the CSRF context processor's value when there is no request


@register.filter
def person(user: Any, default: str = "System") -> str:
    """A person's full name, else username; ``default`` when there is nobody (the system did it)."""
    if user is None:
        return default
    return user.get_full_name() or user.username


@register.simple_tag(takes_context=True)
def target_rows(context: template.Context, targets: Any) -> SafeString:
    """The rows of a target table (``_target_table.html``): reference, state, risk area, priority, port,
    arrival with its SLA flag, owner, who works it and, with ``show_claim``, a claim or release button.

    Written in Python rather than as a template loop because the queue page shows fifty rows and the
    template engine spent more on them than the rest of the page together; the markup is the same.
    """
    request = context.get("request")
    # Random control is not revealed to an officer at the port (``disclosure``): the examination is as thorough.
    hide_random = request is not None and reads_briefing_only(request.user)
    rows = [_target_row(context, t, hide_random=hide_random) for t in targets]
    if not rows:
        return mark_safe('\n<tr><td colspan="9" class="muted tg-empty">Nothing here.</td></tr>\n')
    return mark_safe("".join(rows) + "\n")  # noqa: S308 (every value in the rows is escaped by ``e``)


def _target_row(context: template.Context, t: Any, *, hide_random: bool = False) -> str:
    # Plain f-strings with every value escaped as the template's autoescape would (``html.escape``):
    # ``format_html`` per cell cost as much as the template did.
    now = context.get("now")
    request = context.get("request")
    detail_url = e(reverse("targeting:detail", args=[t.pk]))
    sla = t.sla_status()
    # The priority as set (``Target.display_priority``), as every screen shows it; a queue's ranking
    # by urgency decides only the order of the rows, and the SLA flag says how near arrival is.
    priority = e(t.display_priority)
    pills = (
        ' <span class="pill" title="Nominated by the risk engine">engine</span>' if t.by_engine else ""
    ) + (' <span class="pill">random</span>' if t.random_control and not hide_random else "")
    if t.arrival_at:
        local = template_localtime(t.arrival_at, context.use_tz)
        relative = (
            f"in {e(timeuntil_filter(t.arrival_at, now))}"
            if now not in (None, "") and t.arrival_at > now  # without ``now`` the template said "ago"
            else f"{e(timesince_filter(t.arrival_at, now))} ago"
        )
        arrival = (
            f'<time datetime="{e(date(local, "c"))}">{e(date(local, "d M H:i"))}</time> '
            f'<span class="muted small">{relative}</span> {SLA_FLAGS.get(sla, "")}'
        )
    else:
        arrival = DASH
    claimed = f'<span class="tg-claim">● {e(person(t.claimed_by))}</span>' if t.claimed_by else FREE
    port = f"<code>{e(t.port.locode)}</code>" if t.port else DASH
    claim = (
        f'\n  <td class="tg-actions">{_claim_form(context, request, t, detail_url)}</td>'
        if context.get("show_claim")
        else ""
    )
    return (
        f'\n<tr class="{"tg-row-breach" if sla == "breached" else ""}" data-target="{t.pk}">'
        f'\n  <td><a class="tg-ref" href="{detail_url}">{e(t.reference)}</a>{pills}</td>'
        f'\n  <td><span class="tg-state tg-state-{e(t.state)}">{e(t.get_state_display())}</span></td>'
        f"\n  <td>{e(t.get_risk_area_display())}</td>"
        f'\n  <td class="num"><span class="tg-prio" style="--p: {priority}">{priority}</span></td>'
        f"\n  <td>{port}</td>"
        f"\n  <td>{arrival}</td>"
        f'\n  <td><span class="badge badge-agency">{e(t.owner_agency.code.upper())}</span></td>'
        f"\n  <td>{claimed}</td>{claim}"
        "\n</tr>"
    )


def _claim_form(context: template.Context, request: Any, t: Any, detail_url: str) -> str:
    if t.claimed_by_id == request.user.pk:
        do, label, style = "release", "Release", "btn btn-small"
    elif not t.claimed_by_id:
        do, label, style = "claim", "Claim", "btn btn-small btn-primary"
    else:
        return ""
    token = context.get("csrf_token")  # as {% csrf_token %} renders it
    csrf = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(token)}">'
        if token and str(token) != NOT_PROVIDED
        else ""
    )
    return (
        f'<form method="post" action="{detail_url}">{csrf}<input type="hidden" name="do" value="{do}">'
        f'<input type="hidden" name="next" value="{e(request.get_full_path())}">'
        f'<button class="{style}" type="submit">{label}</button></form>'
    )


def e(value: Any) -> str:
    """Escape as the template engine's autoescape does."""
    return html.escape(str(value))
