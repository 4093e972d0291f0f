"""Choices used by sites."""

from django.db import models


class TransferBilling(models.TextChoices):
    """Who pays for a call that several extensions handled."""

    ORIGINATOR = "originator", "Originator pays"
    LAST_EXTENSION = "last_extension", "Last extension pays"
