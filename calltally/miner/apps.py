from django.apps import AppConfig


class MinerConfig(AppConfig):
    name = "calltally.miner"
    label = "miner"
    default_auto_field = "django.db.models.BigAutoField"
