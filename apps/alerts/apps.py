from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    verbose_name = "Alerts with partner administrations (STIX/TAXII)"

    def ready(self) -> None:
        """An examination that follows a partner's alert goes back as a sighting: the workflow already
        announces instruction moves after commit (``apps.targeting.events``); nothing in it changes. The
        periodic exchange with partners is the job ``alerts-exchange`` (``apps.core.schedule``). The target
        page learns with its target whether it has any sighting at all (``register_panel``): most have none,
        and their page then asks no more."""
        from apps.alerts.services import on_instruction_event
        from apps.targeting.events import instruction_event
        from apps.targeting.queries import register_panel

        instruction_event.connect(on_instruction_event, dispatch_uid="alerts.sightings")
        register_panel("partner_sightings", "alerts.PartnerSighting", "target")
