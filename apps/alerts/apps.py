from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    verbose_name = "Alerts with partner administrations (STIX/TAXII)"

    def ready(self) -> None:
        """An examination that follows a partner's alert goes back as a sighting: the workflow already
        announces instruction moves after commit (``apps.targeting.events``); nothing in it changes. In the
        embedded mode the server process exchanges with partners itself (no beat)."""
        from apps.alerts.schedule import start_in_server
        from apps.alerts.services import on_instruction_event
        from apps.targeting.events import instruction_event

        instruction_event.connect(on_instruction_event, dispatch_uid="alerts.sightings")
        start_in_server()
