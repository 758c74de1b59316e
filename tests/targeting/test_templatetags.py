"""The target rows tag: the markup the target tables show, escaped, with the viewer's claim buttons."""

from __future__ import annotations

from datetime import timedelta

from django.template import engines
from django.test import RequestFactory
from django.utils import timezone

from apps.targeting.models import Target

ROWS = engines["django"].from_string("{% load targeting %}{% target_rows targets %}")


def render(user, targets, *, show_claim=True, path="/targets/queues/work/?port=GBFXT"):
    request = RequestFactory().get(path)
    request.user = user
    return ROWS.render({"targets": targets, "now": timezone.now(), "show_claim": show_claim}, request)


def test_rows_show_state_priority_sla_and_escape_names(make_target, customs_analyst, customs_supervisor):
    customs_supervisor.first_name, customs_supervisor.last_name = "Sam <b>", "O'Neil"
    customs_supervisor.save()
    soon = make_target(priority=95, arrival_at=timezone.now() + timedelta(minutes=30), by_engine=True)
    make_target(priority=40, claimed_by=customs_supervisor, arrival_at=None, port=None, state="approved")
    now = timezone.now()
    html = render(customs_analyst, list(Target.objects.with_urgency(now).order_by("-urgency")))
    assert f'<a class="tg-ref" href="/targets/{soon.pk}/">{soon.reference}</a>' in html
    assert 'class="tg-row-breach"' in html and "⚠ SLA breached" in html and ">engine<" in html
    # The priority as set, not the queue's ranking key (95 + 40, capped at 100): the SLA flag says "soon".
    assert '<span class="tg-prio" style="--p: 95">95</span>' in html
    assert "Sam &lt;b&gt; O&#x27;Neil" in html and "<b>" not in html
    assert html.count('<span class="muted">—</span>') == 2  # no port, no arrival


def test_rows_offer_claim_release_or_nothing(make_target, customs_analyst, customs_supervisor):
    free = make_target()
    mine = make_target(claimed_by=customs_analyst)
    theirs = make_target(claimed_by=customs_supervisor)
    html = render(customs_analyst, [free, mine, theirs])
    rows = {t.pk: html.split(f'data-target="{t.pk}"')[1].split("</tr>")[0] for t in (free, mine, theirs)}
    assert (
        f'action="/targets/{free.pk}/claim/"' in rows[free.pk]
        and 'name="csrfmiddlewaretoken"' in rows[free.pk]
    )
    assert f'action="/targets/{mine.pk}/release/"' in rows[mine.pk]
    assert "<form" not in rows[theirs.pk]
    assert 'name="next" value="/targets/queues/work/?port=GBFXT"' in rows[free.pk]
    assert "<form" not in render(customs_analyst, [free], show_claim=False)


def test_no_rows_says_so(customs_analyst):
    assert "Nothing here." in render(customs_analyst, [])
