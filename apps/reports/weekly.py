# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The weekly report by e-mail: each subscriber gets the last seven full days, as their agency may see them."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from apps.agencies.operations import can
from apps.reports.charts import fmt
from apps.reports.models import ReportSubscription
from apps.reports.pdf import render_pdf
from apps.reports.services import build_report, ledger_table
from apps.reports.slicing import Slice

logger = logging.getLogger(__name__)


def last_week(today: date | None = None) -> Slice:
    """The seven full UTC days before ``today``."""
    today = today or timezone.now().astimezone(UTC).date()
    return Slice(start=today - timedelta(days=7), end=today - timedelta(days=1))


def weekly_message(user: Any, s: Slice) -> EmailMessage:
    """The e-mail for one subscriber: headline figures in the text, the full report as a PDF."""
    report = build_report(user, s)
    lines = [f"Performance report, {s.describe()}.", ""]
    for k in report.kpis:
        unit = k["measure"].unit
        value = k["value"]
        shown = (
            "–" if value is None else (f"{float(value):,.0f}" if unit == "money" else fmt(float(value), unit))
        )
        lines.append(f"  {k['measure'].label}: {shown}")
    lines += [
        "",
        "The PDF attached has the charts, the tables and what each measure means.",
        "You receive this because you are subscribed to the weekly report in RATC Ops.",
    ]
    message = EmailMessage(
        subject=f"RATC Ops weekly report {s.start:%d %b} – {s.end:%d %b %Y}",
        body="\n".join(lines),
        from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
        to=[user.email],
    )
    pdf = render_pdf(report, [ledger_table(user, s)], who=user.username)
    message.attach(f"ratc-report-{s.start:%Y%m%d}-{s.end:%Y%m%d}.pdf", pdf, "application/pdf")
    return message


def send_weekly_reports(today: date | None = None) -> int:
    """Send the weekly report to every active subscriber who may still see reports; returns how many."""
    s = last_week(today)
    sent = 0
    for subscription in ReportSubscription.objects.filter(active=True).select_related("user", "port"):
        user = subscription.user
        if not user.is_active or not user.email or not can(user, "report.view"):
            continue
        mine = replace(
            s,
            port_id=subscription.port_id,
            labels={"port": str(subscription.port)} if subscription.port else {},
        )
        try:
            weekly_message(user, mine).send()
        except Exception:  # one bad address must not stop the others
            logger.exception("Weekly report to %s failed", user.username)
            continue
        ReportSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
        sent += 1
    return sent
