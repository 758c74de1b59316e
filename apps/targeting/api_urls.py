"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.compliance.gate import PersonalRoute, personal_data_api
from apps.targeting import api, api_dispatch, api_work

router = SimpleRouter()
router.register("targets", api.TargetViewSet, basename="target")
router.register("target-queues", api.QueueViewSet, basename="target-queue")
router.register("holds", api.HoldViewSet, basename="target-hold")
router.register("instructions", api.InstructionViewSet, basename="target-instruction")
# Around the targets: notes and their files, sharing (``api_work``); joint operations, dispatch (``api_dispatch``).
router.register("comments", api_work.CommentViewSet, basename="target-comment")
router.register("attachments", api_work.AttachmentViewSet, basename="target-attachment")
router.register("target-shares", api_work.TargetShareViewSet, basename="target-share")
router.register("joint-operations", api_dispatch.JointOperationViewSet, basename="joint-operation")
router.register("dispatch-proposals", api_dispatch.DispatchProposalViewSet, basename="dispatch-proposal")

# Targets carry their subject (a traveller's name, date of birth, document, booking); an instruction its
# target's subject.
urlpatterns = personal_data_api(
    router,
    {
        "target": PersonalRoute("target", "targeting.Target"),
        "target-instruction": PersonalRoute("instruction", "targeting.Instruction", "target.subject"),
    },
)
