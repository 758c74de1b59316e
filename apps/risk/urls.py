"""Pages of the risk engine, mounted at /risk/."""

from django.urls import path

from apps.compliance.gate import personal_data
from apps.risk import services, views

app_name = "risk"

urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/parse/", views.parse_preview, name="parse"),
    path("rules/<int:pk>/", views.rule_detail, name="rule"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    # One URL per lifecycle button (publish to shadow, activate, retire).
    *[
        path(f"rules/<int:pk>/{action}/", views.rule_move(action), name=f"rule_{action}")
        for action in services.TRANSITIONS
    ],
    path("lab/", views.rule_lab, name="lab"),
    path("lab/<int:pk>/", views.backtest_detail, name="backtest"),
    # The list names each subject (a traveller by name): purpose declared, the list logged with its count.
    personal_data(path("assessments/", views.assessments, name="assessments"), object_type="assessment"),
    # An assessment names its subject and explains its watchlist matches (what was screened).
    personal_data(
        path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
        object_type="assessment",
        model="risk.Assessment",
    ),
]
