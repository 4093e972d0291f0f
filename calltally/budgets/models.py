"""Budgets: an amount a person or a cost center may spend on calls per day, week or month, and
the notices mailed when the spending crosses its thresholds."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from calltally.claims import Claimable
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import validate_timezone

from .choices import NoticeState, Period


class Budget(models.Model):
    """What one person, or one cost center with every cost center below it, may spend on calls
    in each calendar day, week (Monday to Sunday) or month.

    Only the calls charged in the budget's ``currency`` count (costs of different currencies are
    never added). A period is a calendar period in the budget's ``timezone``: its days are the
    local days the calls are filed under at their site (the rollups' days), so for sites in the
    budget's zone a period is exactly the calendar period there. Nothing has to renew a budget: the
    period containing "now" is always the current one, and its notices start afresh.

    ``thresholds`` are percentages of the period's amount (``"80,100"``): when the spending reaches
    one, a :class:`BudgetNotice` is mailed, once per period, to the people ``notify`` names
    (``person``: the budget's person; ``manager``: the person's manager, else their cost center's,
    or the cost center's manager; ``administrators``: every administrator with an address) and to
    ``emails``. With ``carry_over`` what the previous period left unspent (never less than zero,
    and only one period back: carried amounts do not pile up) is added to the current amount.
    """

    name = models.CharField(max_length=100, unique=True,
                            help_text="How the budget is named on pages, in mails and on the command line.")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="budgets",
                               help_text="The person whose calls count (or choose a cost center).")
    cost_center = models.ForeignKey(CostCenter, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="budgets",
                                    help_text="The cost center whose calls count, with every one below it.")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, help_text="Only calls charged in this currency count.")
    thresholds = models.CharField(max_length=100, default="80,100",
                                  help_text="Percentages of the amount that send a notice, e.g. 80,100.")
    notify = models.JSONField(default=list, blank=True,
                              help_text="Who is told: any of person, manager, administrators.")
    emails = models.JSONField(default=list, blank=True, help_text="More addresses to tell.")
    carry_over = models.BooleanField(default=False,
                                     help_text="Add what the previous period left unspent to this period's amount.")
    timezone = models.CharField(max_length=64, validators=[validate_timezone],
                                help_text="The zone whose calendar days, weeks and months the periods follow.")
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False, cost_center__isnull=True)
                           | Q(person__isnull=True, cost_center__isnull=False)),
                name="budget_person_or_cost_center"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def threshold_list(self) -> list[int]:
        """The thresholds as numbers, lowest first."""
        return sorted({int(part) for part in self.thresholds.split(",") if part.strip().isdigit()})

    @property
    def who(self) -> str:
        """Whose calls count, in words: ``person alice`` or ``cost center SALES``."""
        if self.person_id:
            return f"person {self.person.username}"
        return f"cost center {self.cost_center.code}"


class BudgetNotice(Claimable):
    """One threshold of one budget reached in one period: the mail telling so, sent once.

    The row is made (unique per budget, period and threshold) when a check first sees the
    threshold reached, before anything is sent, so a threshold mails once per period however many
    Schedulers check. Sending follows :mod:`calltally.claims`: the worker that claimed the row
    sends the mail and writes the result when it gives the row back; a worker killed in between
    leaves the row pending, and the next one sends it again with the same ``message_id`` (mail
    clients show such a message once). A failed send stays pending and is tried again at each
    check, up to :data:`calltally.budgets.services.ATTEMPTS` times.
    """

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="notices")
    period_start = models.DateField(help_text="The first day of the budget's period (the budget's zone).")
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the period's amount.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="The period's amount, carry included.")
    spent = models.DecimalField(max_digits=18, decimal_places=4, help_text="What was spent when it was reached.")
    state = models.CharField(max_length=8, choices=NoticeState.choices, default=NoticeState.PENDING)
    recipients = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last send failed.")
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-threshold"]
        constraints = [models.UniqueConstraint(fields=["budget", "period_start", "threshold"],
                                               name="budget_notice_once")]
        indexes = [models.Index(fields=["state"], name="budget_notice_state")]

    def __str__(self) -> str:
        return f"{self.budget} {self.threshold}% from {self.period_start:%Y-%m-%d}"
