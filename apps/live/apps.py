from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "apps.live"
    verbose_name = "Live operations"

    def ready(self) -> None:
        from apps.live import signals  # noqa: F401  (connects the logout and membership handlers)
