from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models

from calltally.sites.models import Site
from calltally.vocabulary import WEEKDAYS


class ServiceHeartbeat(models.Model):
    """The last sign of life of one CallTally service (web, miner…).

    Each service updates its row every few seconds; the status command and the
    web pages read it to tell running from stalled or stopped services.

    The row is also the control channel of ``calltally up``: ``calltally service
    stop|start|restart NAME`` writes ``desired`` or ``restart_requested`` and the
    supervisor, which polls the rows every second, acts on them. The supervisor
    writes what it is doing with the child in ``supervisor_state``.
    """

    DESIRED_RUNNING = "running"
    DESIRED_STOPPED = "stopped"

    name = models.CharField(max_length=32, unique=True)
    pid = models.IntegerField(null=True)
    host = models.CharField(max_length=255, blank=True)
    started = models.DateTimeField(null=True)
    beat = models.DateTimeField(null=True)
    stopped = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)
    # Written by `calltally service`, read by the supervisor.
    desired = models.CharField(max_length=8, default=DESIRED_RUNNING)
    restart_requested = models.DateTimeField(null=True)
    # Written by the supervisor: starting, running, restarting (back-off), stopped; blank when unsupervised.
    supervisor_state = models.CharField(max_length=16, blank=True)
    supervisor_pid = models.IntegerField(null=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_business_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class SiteMonitoring(models.Model):
    """When a site's silence is an alarm: no raw record for ``silent_after_hours``
    hours counted within its business hours (``business_days`` are weekday
    numbers, Monday 0; the times are in the site's time zone). ``silent_after_hours``
    0 turns the alarm off. A site without a row uses the defaults."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="monitoring")
    silent_after_hours = models.PositiveSmallIntegerField(default=4)
    business_days = models.JSONField(default=default_business_days)
    business_start = models.TimeField(default=dt.time(8, 0))
    business_end = models.TimeField(default=dt.time(18, 0))
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.site.code}: silent after {self.silent_after_hours} h"

    def clean(self) -> None:
        if not isinstance(self.business_days, list) or not all(
            isinstance(day, int) and 0 <= day <= 6 for day in self.business_days
        ):
            raise ValidationError({"business_days": "Business days are weekday numbers 0 (Monday) to 6 (Sunday)."})
        if self.business_start >= self.business_end:
            raise ValidationError({"business_end": "Business hours must end after they start."})

    @property
    def days_text(self) -> str:
        return ",".join(WEEKDAYS[day] for day in sorted(self.business_days))
