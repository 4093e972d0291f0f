from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "calltally.services"
    label = "services"
    default_auto_field = "django.db.models.BigAutoField"
