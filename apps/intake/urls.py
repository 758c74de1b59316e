from django.urls import path

from apps.intake import views

app_name = "intake"

urlpatterns = [
    path("sources/", views.sources, name="sources"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("intake/", views.upload, name="upload"),
    path("intake/runs/<int:pk>/", views.run_detail, name="run"),
    path("subjects/", views.subjects, name="subjects"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject"),
]
