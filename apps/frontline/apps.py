from django.apps import AppConfig


class FrontlineConfig(AppConfig):
    name = "apps.frontline"
    verbose_name = "Frontline examination"
