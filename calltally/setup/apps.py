from django.apps import AppConfig


class SetupConfig(AppConfig):
    name = "calltally.setup"
    label = "setup"
    verbose_name = "Setup wizard"
    default_auto_field = "django.db.models.BigAutoField"
