"""Periodic work of reporting: keep the summary table fresh, and send the weekly report."""

from __future__ import annotations

from datetime import UTC, timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(name="reports.refresh_daily_stats")
def refresh_daily_stats_task(days: int = 2) -> int:
    """Rebuild the summary rows of the last ``days`` days (and tomorrow). Returns the rows written."""
    from apps.reports.services import forget_reports
    from apps.reports.stats import refresh_daily_stats

    today = timezone.now().astimezone(UTC).date()
    rows = refresh_daily_stats(today - timedelta(days=days - 1), today + timedelta(days=1)).rows
    forget_reports()
    return rows


@shared_task(name="reports.refresh_target_stats", ignore_result=True)
def refresh_target_stats_task(target_ids: list[int]) -> int:
    """Rewrite the target summary rows of ``target_ids`` (after a workflow commit). Returns rows written.

    ``ignore_result``: nobody waits for this task (``stats._send_changes`` sends it and goes on), and a
    kept result made every sending request subscribe to the result's channel in Redis, and unsubscribe,
    and the worker store the result for a day.
    """
    from apps.reports.services import forget_reports
    from apps.reports.stats import refresh_target_stats

    rows = refresh_target_stats(target_ids)
    forget_reports()
    return rows


@shared_task(name="reports.send_weekly_report")
def send_weekly_report() -> int:
    """Send the weekly performance report to every subscriber. Returns how many were sent."""
    from apps.reports.weekly import send_weekly_reports

    return send_weekly_reports()
