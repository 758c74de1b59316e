"""The header search, mounted at /search/: gated, since it finds people by name and document (purpose
declared first; each search logged with its query and the number of results)."""

from django.urls import path

from apps.compliance.gate import personal_data
from apps.core import views

app_name = "core"

urlpatterns = [
    personal_data(path("", views.search, name="search"), object_type="search"),
]
