"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.reports import api

router = SimpleRouter()
# Figures only (no subject's data): not marked personal, like the report pages and their exports.
router.register("reports", api.ReportViewSet, basename="report")

urlpatterns = router.urls
