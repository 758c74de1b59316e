from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TargetingConfig(AppConfig):
    name = "apps.targeting"
    verbose_name = "Targeting workflow"

    def ready(self) -> None:
        from apps.targeting.models.service_levels import forget_port_modes

        post_save.connect(forget_port_modes, sender="agencies.Port", dispatch_uid="port-modes-saved")
        post_delete.connect(forget_port_modes, sender="agencies.Port", dispatch_uid="port-modes-deleted")
