"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.alerts import api

router = SimpleRouter()
router.register("alert-exports", api.ExportViewSet, basename="alertexport")

urlpatterns = router.urls
