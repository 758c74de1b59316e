from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "apps.entities"
    verbose_name = "Entities and networks"

    def ready(self) -> None:
        """A batch intake stores is queued in intake's transaction and linked against everything stored
        after the commit."""
        from apps.entities.services import on_batch_stored
        from apps.intake.events import batch_stored

        batch_stored.connect(on_batch_stored, dispatch_uid="entities.link-batch")
