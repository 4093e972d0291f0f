from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "calltally.system"
    label = "system"
    verbose_name = "Settings"
    default_auto_field = "django.db.models.BigAutoField"
