from django.urls import path

from apps.compliance.gate import personal_data
from apps.intake import views

app_name = "intake"

urlpatterns = [
    path("sources/", views.sources, name="sources"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("intake/", views.upload, name="upload"),
    path("intake/runs/<int:pk>/", views.run_detail, name="run"),
    # Subjects are travellers too: the search and the page are gated (purpose declared, access logged).
    personal_data(path("subjects/", views.subjects, name="subjects"), object_type="subject"),
    personal_data(
        path("subjects/<int:pk>/", views.subject_detail, name="subject"),
        object_type="subject",
        model="intake.Subject",
        subject="",
    ),
]
