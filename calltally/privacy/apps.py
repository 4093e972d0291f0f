from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "calltally.privacy"
    label = "privacy"
    verbose_name = "Retention and privacy"
    default_auto_field = "django.db.models.BigAutoField"
