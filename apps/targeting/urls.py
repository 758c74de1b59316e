"""Targeting pages, mounted at /targets/."""

from django.urls import path

from apps.targeting import views

app_name = "targeting"

urlpatterns = [
    path("", views.target_list, name="list"),
    path("export.csv", views.export, name="export"),
    path("queues/", views.queues, name="queues"),
    path("queues/work/", views.queue, name="queue"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("instructions/", views.instructions, name="instructions"),
    path("operations/", views.operations, name="operations"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    path("nominate/<int:subject_pk>/", views.nominate, name="nominate"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/history.csv", views.export_target, name="export_target"),
]
