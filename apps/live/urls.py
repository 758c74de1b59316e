"""Live board pages, mounted at /live/ (sockets are in ``routing.py``)."""

from django.urls import path

from apps.live import views

app_name = "live"

urlpatterns = [
    path("", views.floor, name="floor"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/seen/", views.notifications_seen, name="notifications_seen"),
    path("queue/", views.queue, name="queue"),
    path("ports/<str:locode>/", views.port, name="port"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    path("targets/<int:pk>/presence/", views.presence, name="presence"),
]
