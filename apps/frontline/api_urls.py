"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.frontline import api

router = SimpleRouter()
router.register("examination-results", api.ExaminationResultViewSet, basename="examination-result")

urlpatterns = router.urls
