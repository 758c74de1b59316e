from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "Core"

    def ready(self) -> None:
        # The admin has imported every app's admin module by now (it is earlier in INSTALLED_APPS):
        # whatever a library registered unscoped is put behind the agency-scoped admin.
        from django.contrib import admin

        from apps.core import lookups  # noqa: F401  (registers ``field__any``)
        from apps.core.admin import scope_every_admin

        scope_every_admin(admin.site)

        from apps.core import metrics

        metrics.connect()

        # Without a broker no beat runs: the server process runs the registered periodic jobs itself.
        from apps.core import periodic

        periodic.start_in_server()
