"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.targeting import api

router = SimpleRouter()
router.register("targets", api.TargetViewSet, basename="target")
router.register("target-queues", api.QueueViewSet, basename="target-queue")
router.register("holds", api.HoldViewSet, basename="target-hold")
router.register("instructions", api.InstructionViewSet, basename="target-instruction")

urlpatterns = router.urls
