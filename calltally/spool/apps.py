from django.apps import AppConfig


class SpoolConfig(AppConfig):
    name = "calltally.spool"
    label = "spool"
    default_auto_field = "django.db.models.BigAutoField"
