from __future__ import annotations

from django.conf import settings
from django.db import models

from calltally.calls.choices import DiscardReason
from calltally.claims import Claimable
from calltally.sites.models import Site


class Kind(models.TextChoices):
    RECALCULATE = "recalculate", "Recalculate calls"
    REPROCESS = "reprocess", "Reprocess discarded calls"


class State(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# The states a job can still leave: a second identical job is refused while one is in them.
ACTIVE = (State.QUEUED, State.RUNNING)
FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)


class Job(models.Model):
    """A recalculation or a reprocess run asked for from the web, run later by the Scheduler
    (or ``calltally job run``), with its progress and its result kept.

    ``site`` empty means every site. A recalculation makes again the calls that
    started from ``first`` to ``last`` (local days of each site, either open); a
    reprocess makes the discarded calls again, those of one ``reason`` or all.

    A worker takes a queued job with one ``UPDATE … WHERE state = 'queued'``, so two
    workers never run the same job; it names itself in ``claimed_by`` (host:pid)
    and beats ``heartbeat`` while it works. A running job whose heartbeat stops
    (its worker was killed) is queued again, up to a few ``attempts``, then failed
    with a message: both runs make the same calls, so running it again is safe.

    ``done`` of ``total`` is the progress in records; ``result`` keeps the run's
    figures (the MineSummary as ``calltally recalc --json`` prints them).
    Instants are UTC.
    """

    kind = models.CharField(max_length=16, choices=Kind.choices)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs",
                             help_text="Empty: every site.")
    first = models.DateField(null=True, blank=True, help_text="First day (site's time zone); empty: from the start.")
    last = models.DateField(null=True, blank=True, help_text="Last day, included; empty: up to now.")
    reason = models.CharField(max_length=32, blank=True, choices=DiscardReason.choices,
                              help_text="Reprocess only the discarded calls of this reason; empty: all.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=300, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        verbose_name = "background job"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["state", "created"], name="job_state_created")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display().lower()}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def percent(self) -> int:
        """How far the job is, 0–100 (a finished job is 100 whatever it counted)."""
        if self.state == State.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return max(0, min(100, round(100 * self.done / self.total)))

    def scope_text(self) -> str:
        """What the job works on, in words: ``HQ, 2026-03-01 to 2026-03-31``."""
        where = self.site.code if self.site_id else "every site"
        if self.kind == Kind.REPROCESS:
            return f"{where}, " + (f"reason {self.get_reason_display().lower()}" if self.reason else "every reason")
        if self.first and self.last:
            return f"{where}, {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
        if self.first:
            return f"{where}, from {self.first:%Y-%m-%d}"
        if self.last:
            return f"{where}, up to {self.last:%Y-%m-%d}"
        return f"{where}, every call"


class Periodic(Claimable):
    """One of the Scheduler's periodic tasks (the LDAP sync, the retention run, the alert checks…):
    when it is next due and how its last run went.

    A Scheduler runs a task only after it claimed the row (:mod:`calltally.claims`), so with two
    Schedulers the task runs once per period; the next due instant is written with the release, so
    a Scheduler killed mid-run leaves the task due, and the next Scheduler runs it again.
    """

    name = models.CharField(max_length=64, unique=True)
    next_due = models.DateTimeField(help_text="UTC.")
    last_started = models.DateTimeField(null=True, blank=True)
    last_finished = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True)
    last_message = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "periodic task"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
