from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    verbose_name = "Compliance and oversight"

    def ready(self) -> None:
        """In the embedded mode (no Celery beat) the server process applies retention on schedule."""
        from apps.compliance.schedule import start_in_server

        start_in_server()
