from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import Action


class AuditEvent(models.Model):
    """One thing someone did: signing in or out, changing, exporting or recalculating data.

    The account is kept twice: ``user`` links to it while it exists, ``username``
    keeps the name it had (or the name typed, for a failed sign-in), so the trail
    outlives deleted accounts. ``before`` and ``after`` are what the caller chose to
    keep of the object, never its secrets (see :func:`calltally.audit.services.record`).
    Times are stored in UTC.
    """

    when = models.DateTimeField(default=timezone.now)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="audit_events")
    address = models.GenericIPAddressField("client address", null=True, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model, e.g. sites.site")
    object_id = models.CharField(max_length=64, blank=True)
    object_text = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-when", "-id"]
        # The audit page filters by time, by action and by account, newest first.
        indexes = [
            models.Index(fields=["-when"], name="audit_when"),
            models.Index(fields=["action", "-when"], name="audit_action_when"),
            models.Index(fields=["username", "-when"], name="audit_username_when"),
        ]

    def __str__(self) -> str:
        who = self.username or "-"
        what = f" {self.object_type} {self.object_id}" if self.object_type else ""
        return f"{self.when:%Y-%m-%d %H:%M:%S} {who} {self.action}{what}"
