from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from calltally.drivers import DriverConfigError, DriverOptions, get_driver_class, make_driver

from .choices import TransferBilling

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
    "Use 1 to 32 letters, digits, '-' or '_', starting with a letter or digit.",
)


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Rome or America/New_York.") from None


class Site(models.Model):
    """One PBX (or cluster) whose records CallTally receives.

    The site says how to read its records (driver and driver options), how to
    tell its extensions from outside numbers (the internal extension plan and
    outside-line access codes) and how to show and price its calls (country,
    area code, time zone, currency). Its code names its spool folder, so it
    never changes once records have arrived.
    """

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166 country code, e.g. IT, US.")
    area_code = models.CharField(max_length=10, blank=True, help_text="Local area code, e.g. 02 for Milan.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code, e.g. EUR.")
    driver = models.CharField(max_length=64)
    driver_options = models.JSONField(default=dict, blank=True)
    import_internal = models.BooleanField(default=True, help_text="Store calls between two extensions.")
    access_codes = models.JSONField(
        default=list, blank=True, help_text="Outside-line access codes dialled before external numbers, e.g. 0 or 9."
    )
    internal_digits_min = models.PositiveSmallIntegerField(default=2)
    internal_digits_max = models.PositiveSmallIntegerField(default=5)
    internal_pattern = models.CharField(
        max_length=200, blank=True, help_text="Regular expression for extension numbers; replaces the digit range."
    )
    auto_acquire = models.BooleanField(
        default=False, help_text="Create unknown extensions automatically instead of discarding their calls."
    )
    # Several records can describe one call (a ring group, a transfer, a forward);
    # see calltally/miner/legs.py for how they become one call.
    merge_legs = models.BooleanField(
        default=True, help_text="Merge the records (legs) of one call into one call for reports."
    )
    transfer_billing = models.CharField(
        max_length=16, choices=TransferBilling.choices, default=TransferBilling.ORIGINATOR,
        help_text="Who is charged for a transferred call: the extension that made or took it, or the last one.",
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    # Set by the Miner when the site's records are not being read as calls (most skipped as
    # "not calls" or unreadable: the wrong driver, say), with what to do; cleared when
    # records make calls again. Shown by `calltally status`, `import` and the site page.
    reading_problem = models.TextField(blank=True, editable=False)
    reading_problem_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = {}
        self.country = (self.country or "").upper()
        self.currency = (self.currency or "").upper()
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            errors["country"] = "Use a two-letter ISO 3166 code such as IT or US."
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            errors["currency"] = "Use a three-letter ISO 4217 code such as EUR or USD."
        if self.internal_pattern:
            try:
                re.compile(self.internal_pattern)
            except re.error as exc:
                errors["internal_pattern"] = f"Not a valid regular expression: {exc}."
        elif not 1 <= self.internal_digits_min <= self.internal_digits_max <= 15:
            errors["internal_digits_min"] = "The extension digit range must satisfy 1 ≤ min ≤ max ≤ 15."
        if not isinstance(self.access_codes, list) or not all(
            isinstance(code, str) and re.fullmatch(r"[0-9*#]{1,6}", code) for code in self.access_codes
        ):
            errors["access_codes"] = "Access codes are 1 to 6 digits each, e.g. 0 or 9."
        try:
            get_driver_class(self.driver).validate_options(self.driver_options or {})
        except DriverConfigError as exc:
            errors["driver" if "unknown driver" in str(exc) else "driver_options"] = str(exc)
        if errors:
            raise ValidationError(errors)

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def extension_matcher(self) -> Callable[[str], bool]:
        """The internal extension plan as a fast predicate on a whole number."""
        if self.internal_pattern:
            return re.compile(self.internal_pattern).fullmatch  # type: ignore[return-value]
        low, high = self.internal_digits_min, self.internal_digits_max

        def by_length(number: str) -> bool:
            return low <= len(number) <= high and number.isdecimal()

        return by_length

    @property
    def extension_plan(self) -> str:
        if self.internal_pattern:
            return f"pattern {self.internal_pattern}"
        if self.internal_digits_min == self.internal_digits_max:
            return f"{self.internal_digits_min} digits"
        return f"{self.internal_digits_min}-{self.internal_digits_max} digits"

    def make_driver(self):
        return make_driver(self.driver, DriverOptions(timezone=self.zone, options=dict(self.driver_options or {})))
