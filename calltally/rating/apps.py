from django.apps import AppConfig


class RatingConfig(AppConfig):
    name = "calltally.rating"
    label = "rating"
    default_auto_field = "django.db.models.BigAutoField"
