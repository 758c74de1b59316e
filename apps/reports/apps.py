from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    verbose_name = "Performance reporting"

    def ready(self) -> None:
        """The reports are fed by what the apps below announce; none of them imports the reports.

        A target moved, decided or examined (``apps.targeting.events.target_changed``, inside the
        workflow's transaction) has its summary row rewritten after the commit; a source shared or
        unshared (``apps.intake.events.sharing_changed``, after the commit) drops the cached reports.
        """
        from apps.intake.events import sharing_changed
        from apps.reports.services import on_sharing_changed
        from apps.reports.stats import on_target_changed
        from apps.targeting.events import target_changed

        target_changed.connect(on_target_changed, dispatch_uid="reports.target-stat")
        sharing_changed.connect(on_sharing_changed, dispatch_uid="reports.forget-on-sharing")
