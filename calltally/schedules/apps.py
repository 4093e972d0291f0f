from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "calltally.schedules"
    label = "schedules"
    verbose_name = "Scheduled reports"
    default_auto_field = "django.db.models.BigAutoField"
