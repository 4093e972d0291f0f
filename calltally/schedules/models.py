"""Scheduled reports: the schedule itself, each occurrence of it (a run), and each mail or file of a
run (a delivery). Runs and deliveries are :class:`~calltally.claims.Claimable`: one Scheduler at a
time works on one, and what it did is written before it lets go (see calltally/claims.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from calltally.claims import Claimable
from calltally.directory.models import Person

from . import recurrence


class Format(models.TextChoices):
    PDF = "pdf", "PDF attachment"
    XLSX = "xlsx", "XLSX attachment"
    CSV = "csv", "CSV attachment"
    HTML = "html", "HTML table in the mail"


class Every(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    CRON = "cron", "Cron expression"


class Burst(models.TextChoices):
    NONE = "", "No burst"
    MANAGERS = "managers", "Each cost-center manager: their subtree"
    PEOPLE = "people", "Each person: their own calls"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTLY_FAILED = "partly-failed", "Partly failed"
    FAILED = "failed", "Failed"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class DeliveryKind(models.TextChoices):
    MAIL = "mail", "E-mail"
    FILE = "file", "File"


# A run still to be worked on: planned or not, with deliveries pending or waiting for a retry.
OPEN_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)
# How many times one mail is tried before it is failed for good.
MAX_ATTEMPTS = 4


class Schedule(models.Model):
    """A report of the catalogue (``report``) run on a relative period and sent on a schedule.

    ``options`` are the report's options as ``ReportOptions.to_dict()`` wrote them, with a
    relative ``period`` (yesterday, last-week, last-month, this-month = month to date…), resolved
    at each occurrence's due instant. Where it goes is one of three: mail to ``addresses``,
    ``people`` (their directory e-mail) and ``roles`` (every active account of the role that has an
    e-mail), all with ``owner``'s scope (no owner: everything, as the server); or a ``burst``: each
    cost-center manager gets the report narrowed to the subtree of the cost centers they manage,
    or each person their own calls; or files written to ``folder`` on the server.

    When: ``every`` day / week (on ``weekday``, 0 = Monday) / month (on ``day``, clamped to the
    month's end) at ``at``, or a 5-field ``cron`` expression, in ``time_zone``
    (:mod:`.recurrence`). ``next_due`` (UTC) is the next occurrence the Scheduler waits for.
    """

    name = models.SlugField(max_length=64, unique=True,
                            help_text="Letters, digits, - and _: the name the CLI and the files use.")
    report = models.CharField(max_length=64, help_text="A report of the catalogue (calltally report list).")
    options = models.JSONField(default=dict, blank=True, help_text="The report's options (period relative).")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.PDF)
    addresses = models.JSONField(default=list, blank=True, help_text="E-mail addresses.")
    people = models.ManyToManyField(Person, blank=True, related_name="report_schedules",
                                    help_text="Directory people, at their e-mail address.")
    roles = models.JSONField(default=list, blank=True,
                             help_text="Every active account of these roles that has an e-mail address.")
    burst = models.CharField(max_length=16, choices=Burst.choices, default=Burst.NONE, blank=True)
    folder = models.CharField(max_length=500, blank=True, help_text="Write the files to this folder on the server "
                                                                    "instead of mailing them.")
    every = models.CharField(max_length=8, choices=Every.choices, default=Every.DAILY)
    cron = models.CharField(max_length=120, blank=True, help_text="minute hour day month weekday")
    at = models.TimeField(default=dt.time(7, 0), help_text="Time of day (not for a cron expression).")
    weekday = models.PositiveSmallIntegerField(default=0, help_text="Weekly: 0 = Monday … 6 = Sunday.")
    day = models.PositiveSmallIntegerField(default=1, help_text="Monthly: day of the month (the last day of a "
                                                                "shorter month).")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA zone of the time of day.")
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The account whose scope a non-burst report runs with "
                                                          "(empty: every call).")
    next_due = models.DateTimeField(null=True, blank=True, help_text="UTC.")
    created = models.DateTimeField(auto_now_add=True)
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "scheduled report"
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "next_due"], name="schedule_due")]

    def __str__(self) -> str:
        return self.name

    def recurrence(self) -> recurrence.Recurrence:
        return recurrence.Recurrence(every=self.every, zone=self.time_zone, at=self.at, weekday=self.weekday,
                                     day=self.day, cron=self.cron)

    @property
    def period(self) -> str:
        return (self.options or {}).get("period", "")

    def recipients_text(self) -> str:
        """Where the report goes, in words."""
        if self.folder:
            return f"folder {self.folder}"
        if self.burst:
            return "each cost-center manager" if self.burst == Burst.MANAGERS else "each person (own calls)"
        parts = list(self.addresses or [])
        if self.pk:
            parts += [p.username for p in self.people.all()]
        parts += [f"role {role}" for role in self.roles or []]
        return ", ".join(parts) or "nobody"


class ScheduleRun(Claimable):
    """One occurrence of a schedule: the one due at ``due`` (UTC), or a *run now* (``manual``,
    due when it was asked). Unique per (schedule, due), so any number of Schedulers make one.

    The holder plans its deliveries once (``planned``), then works them; ``first_day`` and
    ``last_day`` are the period the report covered (resolved at ``due``, in the schedule's zone),
    the counts and ``message`` say how it went.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    due = models.DateTimeField(help_text="The occurrence's instant (UTC); the report's 'now'.")
    manual = models.BooleanField(default=False, help_text="Asked for with Run now.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    planned = models.BooleanField(default=False)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    deliveries_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0, help_text="People left out: no call in the period.")
    missed_count = models.PositiveIntegerField(default=0, help_text="Earlier occurrences that fell due while no "
                                                                    "Scheduler ran (only this latest one is sent).")
    message = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "scheduled report run"
        ordering = ["-due", "-id"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due"], name="schedule_run_once")]
        indexes = [models.Index(fields=["state"], name="schedule_run_state")]

    def __str__(self) -> str:
        return f"{self.schedule.name} {self.due:%Y-%m-%d %H:%M}"

    @property
    def open(self) -> bool:
        return self.state in OPEN_RUN_STATES


class Delivery(Claimable):
    """One mail (to ``address``) or one file (``address`` is its path) of a run, with the scope
    the report is rendered with (``scope``: ``{"role": …, "cost_centers": […], "person": id}``) and
    ``scope_text``, who or what that is in words.

    Pending until sent; a refused mail is ``failed`` with ``last_error`` and tried again at
    ``retry_at`` (None: failed for good after :data:`MAX_ATTEMPTS`). ``message_id`` is fixed
    per delivery, so a mail sent again after a crash between the server's "accepted" and the
    record of it is still one message to mail clients. A sent delivery is never sent again.
    """

    run = models.ForeignKey(ScheduleRun, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=8, choices=DeliveryKind.choices, default=DeliveryKind.MAIL)
    address = models.CharField(max_length=500)
    scope = models.JSONField(default=dict, blank=True)
    scope_text = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Rows of the report sent.")

    class Meta:
        verbose_name = "delivery"
        verbose_name_plural = "deliveries"
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["run", "address"], name="delivery_once_per_address")]

    def __str__(self) -> str:
        return self.address
