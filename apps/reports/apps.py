from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    verbose_name = "Performance reporting"

    def ready(self) -> None:
        """In the embedded mode (no Celery beat) the server process keeps the report figures current."""
        from apps.reports.schedule import start_in_server

        start_in_server()
