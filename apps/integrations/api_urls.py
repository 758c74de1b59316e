"""API routes of this app, included under /api/v1/.

No personal-data gate: an endpoint holds a URL and its events, a delivery its status and attempts (the
body posted, which carries the instruction, is not rendered here; the instruction is read, gated and
logged, at ``/api/v1/instructions/``).
"""

from rest_framework.routers import SimpleRouter

from apps.integrations import api

router = SimpleRouter()
router.register("webhooks", api.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", api.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
