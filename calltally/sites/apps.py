from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "calltally.sites"
    label = "sites"
    default_auto_field = "django.db.models.BigAutoField"
