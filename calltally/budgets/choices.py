"""The budgets' vocabulary: periods, who is told, what became of a notice."""

from django.db import models


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (Monday to Sunday)"
    MONTH = "month", "Month"


class Notify(models.TextChoices):
    PERSON = "person", "The person"
    MANAGER = "manager", "The manager"
    ADMINISTRATORS = "administrators", "Administrators"


class NoticeState(models.TextChoices):
    PENDING = "pending", "To send"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Passed in the same check as a higher threshold: only the higher one mails.
    PASSED = "passed", "Passed with a higher threshold"
    # Nobody to tell (no address for any chosen recipient): kept so the threshold counts as done.
    NOBODY = "nobody", "No recipient"
