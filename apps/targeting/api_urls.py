"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.compliance.gate import PersonalRoute, personal_data_api
from apps.targeting import api

router = SimpleRouter()
router.register("targets", api.TargetViewSet, basename="target")
router.register("target-queues", api.QueueViewSet, basename="target-queue")
router.register("holds", api.HoldViewSet, basename="target-hold")
router.register("instructions", api.InstructionViewSet, basename="target-instruction")

# Targets carry their subject (a traveller's name, date of birth, document, booking); an instruction its
# target's subject.
urlpatterns = personal_data_api(
    router,
    {
        "target": PersonalRoute("target", "targeting.Target"),
        "target-instruction": PersonalRoute("instruction", "targeting.Instruction", "target.subject"),
    },
)
