from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "calltally.accounts"
    label = "accounts"
    verbose_name = "Sign-in accounts"
    default_auto_field = "django.db.models.BigAutoField"
