from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    name = "calltally.collectors"
    label = "collectors"
    default_auto_field = "django.db.models.BigAutoField"
