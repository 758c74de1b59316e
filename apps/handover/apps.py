from django.apps import AppConfig


class HandoverConfig(AppConfig):
    name = "apps.handover"
    verbose_name = "Shift handover"
