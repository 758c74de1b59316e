"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.compliance.gate import PersonalRoute, personal_data_api
from apps.risk import api

router = SimpleRouter()
router.register("rules", api.RuleViewSet, basename="risk-rule")
router.register("assessments", api.AssessmentViewSet, basename="risk-assessment")
router.register("backtests", api.BacktestViewSet, basename="risk-backtest")

# Assessments explain their watchlist matches with what was screened: a traveller's name.
urlpatterns = personal_data_api(router, {"risk-assessment": PersonalRoute("assessment", "risk.Assessment")})
