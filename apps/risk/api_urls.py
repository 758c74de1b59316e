"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.risk import api

router = SimpleRouter()
router.register("rules", api.RuleViewSet, basename="risk-rule")
router.register("assessments", api.AssessmentViewSet, basename="risk-assessment")
router.register("backtests", api.BacktestViewSet, basename="risk-backtest")

urlpatterns = router.urls
