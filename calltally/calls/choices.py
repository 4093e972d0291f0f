"""Choices shared by calls and discarded calls."""

from django.db import models


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    INTERNAL = "internal", "Internal"


class CallKind(models.TextChoices):
    CALL = "call", "Call"  # one raw record, one call
    LEG = "leg", "Leg"  # one record of a call that several records describe
    MERGED = "merged", "Merged call"  # the call those legs make together


class Disposition(models.TextChoices):
    ANSWERED = "answered", "Answered"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    FAILED = "failed", "Failed"


class DiscardReason(models.TextChoices):
    # The words administrators of the product we replace know; keep them.
    UNRECOGNISED = "unrecognised", "Cannot recognise call type"
    EXTENSION_NOT_CONFIGURED = "extension_not_configured", "Extension not configured"
