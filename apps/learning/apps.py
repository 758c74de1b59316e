from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "apps.learning"
    verbose_name = "Learning loop"
