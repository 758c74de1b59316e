"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.learning import api

router = SimpleRouter()
router.register("model-versions", api.ModelVersionViewSet, basename="modelversion")
router.register("training-runs", api.TrainingRunViewSet, basename="trainingrun")

urlpatterns = router.urls
