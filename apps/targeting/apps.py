from django.apps import AppConfig


class TargetingConfig(AppConfig):
    name = "apps.targeting"
    verbose_name = "Targeting workflow"
