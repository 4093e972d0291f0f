from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "calltally.accounts"
    label = "accounts"
    verbose_name = "Sign-in accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
