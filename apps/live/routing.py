"""Websocket routes (mounted in ``ratc_ops/asgi.py`` behind the session and Origin checks)."""

from django.urls import path, re_path

from apps.live import consumers

websocket_urlpatterns = [
    path("ws/notifications/", consumers.NotificationsConsumer.as_asgi()),
    re_path(
        r"^ws/boards/(?P<board>floor|queue|port-[A-Za-z0-9]{5}|operation-[0-9]{1,18})/$",
        consumers.BoardConsumer.as_asgi(),
    ),
    path("ws/targets/<int:pk>/presence/", consumers.TargetPresenceConsumer.as_asgi()),
    path("ws/rules/", consumers.RulesConsumer.as_asgi()),
]
