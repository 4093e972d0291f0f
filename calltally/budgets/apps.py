"""Budgets: amounts per person or cost center and period, with the thresholds that notify."""
from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "calltally.budgets"
    label = "budgets"
    verbose_name = "Budgets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The budget report joins the report catalogue (a lower layer that knows no budgets).
        from . import report  # noqa: F401
