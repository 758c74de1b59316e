from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    verbose_name = "Integrations (webhooks)"

    def ready(self) -> None:
        """Instruction events of the targeting workflow (sent after commit) become webhook deliveries
        (retried by the periodic job ``integrations-retry-due-webhooks``, ``apps.core.schedule``)."""
        from apps.integrations.services import on_instruction_event
        from apps.targeting.events import instruction_event

        instruction_event.connect(on_instruction_event, dispatch_uid="integrations.webhooks")
