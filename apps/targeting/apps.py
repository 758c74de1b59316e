from django.apps import AppConfig


class TargetingConfig(AppConfig):
    name = "apps.targeting"
    verbose_name = "Targeting workflow"

    def ready(self) -> None:
        """In the embedded mode (no Celery beat) the server process marks released targets missed."""
        from apps.targeting.schedule import start_in_server

        start_in_server()
