from __future__ import annotations

from django.db import models


class ServiceHeartbeat(models.Model):
    """The last sign of life of one CallTally service (web, miner…).

    Each service updates its row every few seconds; the status command and the
    web pages read it to tell running from stalled or stopped services.
    """

    name = models.CharField(max_length=32, unique=True)
    pid = models.IntegerField(null=True)
    host = models.CharField(max_length=255, blank=True)
    started = models.DateTimeField(null=True)
    beat = models.DateTimeField(null=True)
    stopped = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
