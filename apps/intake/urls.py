from django.urls import path

from apps.intake import views

app_name = "intake"

urlpatterns = [
    path("sources/", views.sources, name="sources"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
]
