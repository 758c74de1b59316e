from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "apps.quality"
    verbose_name = "Data quality by carrier"
