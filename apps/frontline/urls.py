"""Tablet pages of the frontline examination, mounted at /port/ (the service worker's scope)."""

from django.urls import path

from apps.frontline import views

app_name = "frontline"

urlpatterns = [
    path("", views.home, name="home"),
    path("instructions/<int:pk>/", views.instruction, name="instruction"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("offline/", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
