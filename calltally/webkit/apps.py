from django.apps import AppConfig


class WebkitConfig(AppConfig):
    name = "calltally.webkit"
    label = "webkit"
    verbose_name = "Page kit"
