"""API routes of intake, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.compliance.gate import PersonalRoute, personal_data_api
from apps.intake import api

router = SimpleRouter()
router.register("intake-runs", api.IntakeRunViewSet, basename="intakerun")
router.register("subjects", api.SubjectViewSet, basename="subject")

urlpatterns = personal_data_api(router, {"subject": PersonalRoute("subject", "intake.Subject", subject="")})
