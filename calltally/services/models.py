from __future__ import annotations

from django.db import models


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
    """Kept for migration 0002, which made the site monitoring table (its model is now
    :class:`calltally.alerts.models.SiteMonitoring`)."""
    return [0, 1, 2, 3, 4]
