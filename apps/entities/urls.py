from django.urls import path

from apps.compliance.gate import personal_data
from apps.entities import views

app_name = "entities"

urlpatterns = [
    # The network names travellers: gated (purpose declared, the opened subject logged; the view logs
    # every other subject drawn).
    personal_data(
        path("subjects/<int:pk>/network/", views.network_page, name="network"),
        object_type="subject",
        model="intake.Subject",
        subject="",
    ),
    personal_data(
        path("subjects/<int:pk>/network.json", views.network_json, name="network_json"),
        object_type="subject",
        model="intake.Subject",
        subject="",
    ),
    path("links/<int:pk>/decide/", views.decide, name="decide"),
]
