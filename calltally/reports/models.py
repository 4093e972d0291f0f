"""What an account keeps of its reports: the options it last ran with, and reports saved by name."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedReport(models.Model):
    """A report and its options kept for one sign-in account.

    With a ``name``, a report the account saved to run again ("Sales mobiles, last month"); with
    none, the options the account last ran any report with (``report`` blank too), which the
    report pages start from. ``options`` is ``ReportOptions.to_dict()``; it is validated again,
    with the account's scope of the day, whenever it is used (a cost center may have gone).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports")
    name = models.CharField(max_length=100, blank=True)
    report = models.CharField(max_length=64, blank=True)
    options = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_report_unique_name")]

    def __str__(self) -> str:
        return self.name or f"last options of {self.user_id}"
