from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "apps.entities"
    verbose_name = "Entities and networks"
