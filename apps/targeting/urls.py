"""Targeting pages, mounted at /targets/."""

from django.urls import path

from apps.compliance.gate import personal_data
from apps.targeting import views

app_name = "targeting"

urlpatterns = [
    path("", views.target_list, name="list"),
    personal_data(path("export.csv", views.export, name="export"), object_type="target", export=True),
    path("queues/", views.queues, name="queues"),
    path("queues/work/", views.queue, name="queue"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("instructions/", views.instructions, name="instructions"),
    path("operations/", views.operations, name="operations"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    personal_data(
        path("nominate/<int:subject_pk>/", views.nominate, name="nominate"),
        object_type="subject",
        model="intake.Subject",
        subject="",
        lookup="subject_pk",
    ),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    # The page and its htmx panel show the subject, a traveller's name and documents included.
    personal_data(
        path("<int:pk>/", views.detail, name="detail"), object_type="target", model="targeting.Target"
    ),
    personal_data(
        path("<int:pk>/history.csv", views.export_target, name="export_target"),
        object_type="target",
        model="targeting.Target",
        export=True,
    ),
]
