"""What the live app keeps: only when each person last opened their notifications.

Notifications themselves are not stored: ``apps.live.notifications`` reads them from the instructions,
comments and results the person may see at the moment of asking, so a notification about something
that is no longer visible (a share withdrawn, an officer moved to another port) is simply gone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationsRead(models.Model):
    """The moment a person last opened their notifications; anything newer counts as unread."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "notifications read mark"

    def __str__(self) -> str:
        return f"Notifications of user {self.user_id} read up to {self.seen_at:%Y-%m-%d %H:%M}"
