"""Tariffs: carriers, their plans, the dated versions of a plan, time bands,
rates by prefix, which plan a site (or one of its trunks) uses, and the
holidays an administrator adds to the public ones.

A plan version is what a TOML plan file describes (see docs/rating.md); its
rate table can also come from a carrier's CSV rate deck. The Miner never reads
these tables call by call: ``services.rater_for_site`` loads a site's plans once
into the pure engine in ``engine.py``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from calltally.sites.models import Site

DIRECTION_CHOICES = ("outbound", "inbound", "internal")


class Carrier(models.Model):
    """Who bills the calls a plan prices; plans name their carrier."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TariffPlan(models.Model):
    """A named plan of a carrier; what it charges is in its versions."""

    name = models.CharField(max_length=100, unique=True)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="plans")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TariffVersion(models.Model):
    """The plan as it applies from ``valid_from`` (a date in the site's time zone)
    until the day before the next version, or until ``valid_to`` (included)."""

    plan = models.ForeignKey(TariffPlan, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    rounding_decimals = models.PositiveSmallIntegerField(default=4, validators=[MaxValueValidator(4)])
    markup_percent = models.DecimalField(
        max_digits=9, decimal_places=4, default=0, validators=[MinValueValidator(-100)]
    )
    directions = models.JSONField(default=list, help_text="Which calls the plan prices: outbound, inbound, internal.")
    default_band = models.CharField(max_length=32)
    holiday_band = models.CharField(max_length=32, blank=True, help_text="Blank: holidays are ordinary days.")
    public_holidays = models.BooleanField(
        default=True, help_text="Count the public holidays of the site's country (besides the holidays added here)."
    )
    source = models.CharField(max_length=255, blank=True, help_text="The file it was loaded from.")
    # Changes whenever the version or its bands or rates change: raters cache by (id, updated).
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan__name", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["plan", "valid_from"], name="tariff_version_unique_start")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.plan.name} ({self.valid_from.isoformat()})"


class TimeBand(models.Model):
    """One window of a band: on ``days`` (mon…sun), from ``start_minute`` (included)
    to ``end_minute`` (excluded) of the local day. Times no window covers are in
    the version's default band."""

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="bands")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=32)
    days = models.CharField(max_length=27, help_text="Comma-separated: mon,tue,wed,thu,fri,sat,sun.")
    start_minute = models.PositiveSmallIntegerField(validators=[MaxValueValidator(1439)])
    end_minute = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1440)])

    class Meta:
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return f"{self.name} {self.days} {self.start_minute}-{self.end_minute}"


class Rate(models.Model):
    """What calls to numbers starting with ``prefix`` cost in one band (``band``
    blank: every band). The longest matching prefix wins; the prefix ``""``
    (written ``*`` in files) matches every number."""

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="rates", db_index=False)
    prefix = models.CharField(max_length=20, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=16, blank=True, help_text="Overrides the number's category when set.")
    band = models.CharField(max_length=32, blank=True)
    rate_per_minute = models.DecimalField(max_digits=14, decimal_places=6)
    connection_fee = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    first_increment = models.PositiveIntegerField(default=1)
    next_increment = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    minimum_duration = models.PositiveIntegerField(default=0)
    minimum_charge = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    maximum_charge = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["version", "prefix", "band"]
        constraints = [
            models.UniqueConstraint(fields=["version", "prefix", "band"], name="rate_unique_prefix_band"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix or '*'} {self.band or 'all bands'} {self.rate_per_minute}/min"


class PlanAssignment(models.Model):
    """Which plan prices a site's calls: the default (``pattern`` blank) or the
    plan of the calls whose trunk/device matches ``pattern`` (a regular
    expression searched in the device: dest_device for outbound calls,
    orig_device for inbound). Patterns are tried by descending priority."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="plan_assignments")
    plan = models.ForeignKey(TariffPlan, on_delete=models.CASCADE, related_name="assignments")
    pattern = models.CharField(max_length=200, blank=True)
    priority = models.IntegerField(default=0)

    class Meta:
        ordering = ["site", "-priority", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "pattern"], name="plan_assignment_unique_pattern")]

    def __str__(self) -> str:
        return f"{self.site.code}: {self.plan.name}" + (f" for /{self.pattern}/" if self.pattern else "")


class Holiday(models.Model):
    """A day priced in the holiday band besides the country's public holidays:
    for every site (no site, no country), the sites of one country, or one site."""

    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code; blank: every country.")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="holidays")

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
