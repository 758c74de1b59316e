from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    verbose_name = "Risk engine"

    def ready(self) -> None:
        """What intake stores (announced after its commit) is assessed; intake does not import the engine."""
        from apps.intake.events import subjects_stored
        from apps.risk.tasks import on_subjects_stored

        subjects_stored.connect(on_subjects_stored, dispatch_uid="risk.assess-stored")
