from django.urls import path

from apps.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.carriers, name="carriers"),
    path("recompute/", views.recompute, name="recompute"),
    path("<int:source_pk>/<str:carrier>/", views.carrier, name="carrier"),
    path("<int:source_pk>/<str:carrier>/request/", views.request_data, name="request"),
]
