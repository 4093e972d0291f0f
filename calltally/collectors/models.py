from __future__ import annotations

from django.db import models

from calltally.sites.models import Site

from . import schema
from .choices import ConnectionKind


class Connection(models.Model):
    """One way a site's raw records arrive (FTP push, TCP stream, folder…).

    ``parameters`` holds the kind's options; the Recorder reads them. Its secrets
    (the options each kind declares as such) are stored encrypted with the storage
    key, hashed, or as a reference to an environment variable, and shown only as
    "(set)": see schema.py.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="connections")
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    # The Recorder restarts a connection whose row changed since it started it.
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        # The table the sites app created before connections moved here, beside their collectors.
        db_table = "sites_connection"
        ordering = ["site__code", "id"]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.kind}#{self.pk}"

    def save(self, *args, **kwargs):
        # Whatever writes a connection (a command, the admin, a script, a test), no secret
        # reaches the table in clear; values already sealed are kept as they are.
        self.parameters = schema.sealed(self.kind, self.parameters)
        super().save(*args, **kwargs)


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
