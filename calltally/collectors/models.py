from __future__ import annotations

from django.db import models

from calltally.sites.models import Connection


class ConnectionState(models.Model):
    """What the Recorder last knew of one connection: listening, connected,
    polling, in error… and when its last record arrived.

    Written by the Recorder (a few times a minute at most, never per record),
    read by `calltally status` and the web pages.
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="state")
    state = models.CharField(max_length=16, default="stopped")
    detail = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)
    last_record_at = models.DateTimeField(null=True)
    records_total = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.connection}: {self.state}"
