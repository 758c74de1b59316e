"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.compliance import api

router = SimpleRouter()
# Neither answers with a subject's data (ids and officers' reads only): not marked personal, like the pages.
router.register("access-log", api.AccessLogViewSet, basename="accesslog")
router.register("unmask-requests", api.UnmaskRequestViewSet, basename="unmaskrequest")

urlpatterns = router.urls
