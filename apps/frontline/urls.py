"""Tablet pages of the frontline examination, mounted at /port/ (the service worker's scope)."""

from django.urls import path

from apps.compliance.gate import personal_data
from apps.frontline import views

app_name = "frontline"

urlpatterns = [
    path("", views.home, name="home"),
    # The tablet shows the traveller's name with the instruction: purpose first, every view logged.
    personal_data(
        path("instructions/<int:pk>/", views.instruction, name="instruction"),
        object_type="instruction",
        model="targeting.Instruction",
        subject="target.subject",
    ),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("offline/", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
