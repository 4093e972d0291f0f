"""Alert rules, the alerts they raise, and each site's silence threshold and business hours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from calltally.claims import Claimable
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site
from calltally.vocabulary import CATEGORIES, WEEKDAYS

from .choices import ARMED_OFF, CALL_KINDS, REQUIRED, Kind, Scope, State
from .silence import Monitoring, days_text, parse_business_hours


def default_business_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class SiteMonitoring(models.Model):
    """When a site's silence is an alarm: no raw record for ``silent_after_hours`` hours counted
    within its business hours (``business_days`` are weekday numbers, Monday 0; the times are in
    the site's time zone). ``silent_after_hours`` 0 turns the alarm off. A site without a row uses
    the defaults. A silent-site rule reads these unless it names its own hours.

    The table was made by the services app and keeps its name: the model moved here (below the
    services) so that the alert rules can read it."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="monitoring")
    silent_after_hours = models.PositiveSmallIntegerField(default=4)
    business_days = models.JSONField(default=default_business_days)
    business_start = models.TimeField(default=dt.time(8, 0))
    business_end = models.TimeField(default=dt.time(18, 0))
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "services_sitemonitoring"

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


def split_list(text: str) -> list[str]:
    """A comma- or space-separated list as its items."""
    return [item for item in (text or "").replace(";", ",").replace(" ", ",").split(",") if item]


class AlertRule(Claimable):
    """What the Scheduler watches for, over which calls or sites, and whom it tells.

    A rule has one ``kind`` and the parameters that kind reads (the others stay empty); its
    ``scope`` narrows the calls (every site, one site, a cost center with those below it, one
    person). ``last_call_id`` is the watermark: the calls with a larger id arrived since the rule
    was last checked (ids only grow), so each call is looked at once. The Claimable columns let
    one Scheduler at a time check the rule and send its notifications.

    Notifications go to ``emails`` and/or ``webhook`` (a JSON POST), at once (one per alert) or as
    one ``digest`` a day; an alert is told once until it is reset.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.ALL)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules")
    cost_center = models.ForeignKey(CostCenter, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="alert_rules")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules")

    # --- the kinds' parameters ----------------------------------------------------------------
    hours = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Silent site: business hours without a record; empty: each site's own threshold.")
    cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True,
                               validators=[MinValueValidator(Decimal("0"))],
                               help_text="Call cost: an alert above this amount.")
    currency = models.CharField(max_length=3, blank=True,
                                help_text="The amounts' currency (ISO 4217); empty: the calls' own, any.")
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Call duration: seconds of talk.")
    prefixes = models.CharField(max_length=500, blank=True,
                                help_text="Destination: number prefixes as dialled or in E.164, e.g. 0900, +88")
    countries = models.CharField(max_length=300, blank=True,
                                 help_text="Destination: ISO country codes of the called number, e.g. CU, SO")
    categories = models.CharField(max_length=200, blank=True,
                                  help_text="Destination: call categories, e.g. premium, special")
    business_hours = models.CharField(
        max_length=100, blank=True,
        help_text="e.g. Mon-Fri 08:00-18:00, in each site's zone. Silent site: empty reads each site's own.")
    holidays = models.CharField(max_length=1000, blank=True,
                                help_text="Days outside business hours: YYYY-MM-DD, or MM-DD every year.")
    site_holidays = models.BooleanField(
        default=True, help_text="Out of hours: the sites' holidays (their country's public ones and those added "
                                "under Holidays) are outside business hours too.")
    count = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(2)],
                                        help_text="Repeated number: this many calls …")
    minutes = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)],
                                          help_text="… within this many minutes.")
    factor = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal("1"))],
                                 help_text="Cost spike: today's cost above the usual daily cost times this.")
    baseline_days = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)],
                                                     help_text="Cost spike: the usual is the mean of these last days.")
    floor = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True,
                                validators=[MinValueValidator(Decimal("0"))],
                                help_text="Cost spike: never below this amount (a person who rarely calls).")

    # --- whom it tells ----------------------------------------------------------------------
    emails = models.CharField(max_length=1000, blank=True, help_text="E-mail addresses, separated by commas.")
    webhook = models.URLField(max_length=500, blank=True, help_text="A URL that receives each alert as a JSON POST.")
    digest = models.BooleanField(default=False, help_text="One mail a day listing the alerts, not one per alert.")

    # --- the Scheduler's bookkeeping --------------------------------------------------------
    last_call_id = models.BigIntegerField(default=0, editable=False,
                                          help_text="The last call looked at: later ids arrived since.")
    last_checked = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is None and not self.last_call_id:
            # A new rule starts at the newest call: the calls already stored are history, not news.
            from calltally.calls.models import Call

            self.last_call_id = Call.rows.order_by("-pk").values_list("pk", flat=True).first() or 0
        super().save(*args, **kwargs)

    # --- reading the parameters ---------------------------------------------------------
    @property
    def email_list(self) -> list[str]:
        return split_list(self.emails)

    @property
    def prefix_list(self) -> list[str]:
        return split_list(self.prefixes)

    @property
    def country_list(self) -> list[str]:
        return [code.upper() for code in split_list(self.countries)]

    @property
    def category_list(self) -> list[str]:
        return [name.lower() for name in split_list(self.categories)]

    def hours_spec(self) -> Monitoring | None:
        """The rule's own business hours (None: not given)."""
        if not self.business_hours:
            return None
        days, start, end = parse_business_hours(self.business_hours)
        return Monitoring(self.hours or 0, days, start, end)

    def holiday(self, day: dt.date) -> bool:
        return any(text in (day.isoformat(), day.strftime("%m-%d")) for text in split_list(self.holidays))

    def owner_site(self) -> Site | None:
        """The site the rule belongs to, for who may see and change it (None: an administrator's)."""
        if self.scope == Scope.SITE:
            return self.site
        if self.scope == Scope.PERSON and self.person_id:
            return self.person.site
        return None

    @property
    def scope_text(self) -> str:
        if self.scope == Scope.SITE and self.site_id:
            return f"site {self.site.code}"
        if self.scope == Scope.COST_CENTER and self.cost_center_id:
            return f"cost center {self.cost_center.code} and below"
        if self.scope == Scope.PERSON and self.person_id:
            return f"person {self.person.username}"
        return "every site"

    @property
    def parameters_text(self) -> str:
        """The kind's parameters in words (for lists and mails)."""
        money = f" {self.currency}" if self.currency else ""
        if self.kind == Kind.SILENT_SITE:
            hours = f"{self.hours} h" if self.hours else "each site's threshold"
            return f"{hours}, {self.business_hours or 'each site’s business hours'}"
        if self.kind == Kind.CALL_COST:
            return f"cost above {self.cost}{money}"
        if self.kind == Kind.CALL_DURATION:
            return f"talk above {self.duration} s"
        if self.kind == Kind.DESTINATION:
            parts = [f"{label} {value}" for label, value in (
                ("prefixes", self.prefixes), ("countries", self.countries), ("categories", self.categories)) if value]
            return "; ".join(parts)
        if self.kind == Kind.OUT_OF_HOURS:
            days = [*(["the sites' holidays"] if self.site_holidays else []),
                    *([self.holidays] if self.holidays else [])]
            return f"outside {self.business_hours}" + (f" and on {', '.join(days)}" if days else "")
        if self.kind == Kind.REPEATED:
            return f"{self.count} calls to one number within {self.minutes} min"
        if self.kind == Kind.COST_SPIKE:
            floor = f", at least {self.floor}{money}" if self.floor else ""
            return f"today above {self.factor} × the mean of the last {self.baseline_days} days{floor}"
        return ""

    @property
    def notify_text(self) -> str:
        targets = [*self.email_list, *([f"webhook {self.webhook}"] if self.webhook else [])]
        if not targets:
            return "the alerts page only"
        return ", ".join(targets) + (" (daily digest)" if self.digest else "")

    def clean(self) -> None:
        errors: dict[str, str] = {}
        targets = {Scope.SITE: "site", Scope.COST_CENTER: "cost_center", Scope.PERSON: "person"}
        for scope, field in targets.items():
            if self.scope == scope and not getattr(self, f"{field}_id"):
                errors[field] = f"A rule for {Scope(scope).label.lower()} names it."
            if self.scope != scope:
                setattr(self, field, None)  # what another scope named does not count
        if self.kind == Kind.SILENT_SITE and self.scope not in (Scope.ALL, Scope.SITE):
            errors["scope"] = "A silent-site rule watches every site or one site."
        for field in REQUIRED.get(self.kind, ()):
            if getattr(self, field) in (None, ""):
                errors[field] = f"Required for {Kind(self.kind).label.lower()}."
        if self.kind == Kind.DESTINATION and not (self.prefixes or self.countries or self.categories):
            errors["prefixes"] = "Name prefixes, countries or categories the rule watches."
        if self.business_hours:
            try:
                parse_business_hours(self.business_hours)
            except ValueError as exc:
                errors["business_hours"] = str(exc)
        for text in split_list(self.holidays):
            for form in ("%Y-%m-%d", "%m-%d"):
                try:
                    dt.datetime.strptime(text if form == "%Y-%m-%d" else f"2000-{text}", "%Y-%m-%d")
                    break
                except ValueError:
                    continue
            else:
                errors["holidays"] = f"{text!r} is not a day: write YYYY-MM-DD, or MM-DD for every year."
        unknown = [name for name in self.category_list if name not in CATEGORIES]
        if unknown:
            errors["categories"] = f"Unknown categories {', '.join(unknown)}; they are: {', '.join(CATEGORIES)}."
        wrong = [code for code in self.country_list if len(code) != 2 or not code.isalpha()]
        if wrong:
            errors["countries"] = f"Countries are ISO codes of two letters (CU, SO…), not {', '.join(wrong)}."
        if self.currency and (len(self.currency) != 3 or not self.currency.isalpha()):
            errors["currency"] = "A currency is an ISO 4217 code, e.g. EUR."
        self.currency = self.currency.upper()
        if errors:
            raise ValidationError(errors)

    @property
    def watches_calls(self) -> bool:
        return self.kind in CALL_KINDS

    @property
    def business_hours_text(self) -> str:
        spec = self.hours_spec() if self.business_hours else None
        return f"{days_text(spec.days)} {spec.start:%H:%M}-{spec.end:%H:%M}" if spec else ""


class Alert(models.Model):
    """What a rule saw: one row per rule and ``key`` (a site code, a person, a number…) while it is
    open or acknowledged — later matches add to it (``count``, ``last_seen``, the sample calls)
    and nothing is sent again; a reset closes it, and the next match opens a new one.

    ``notified_at`` is written once every target was told (``delivered`` keeps which target got
    it when, so a retry after a failure tells only those still waiting)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=200)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=0, help_text="Matching calls (silent site: checks that found it).")
    sample_call_ids = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reset_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    delivered = models.JSONField(default=dict, blank=True, help_text="Target (email, webhook) → when it was told.")
    notify_error = models.TextField(blank=True)
    notify_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            # One alert per rule and key holds the rule until it is reset: two Schedulers cannot both open one.
            models.UniqueConstraint(fields=["rule", "key"], condition=Q(state__in=ARMED_OFF),
                                    name="alert_one_armed_per_key"),
        ]
        indexes = [models.Index(fields=["state", "rule"], name="alert_state_rule")]

    def __str__(self) -> str:
        return f"{self.rule.name}: {self.key}"

    @property
    def is_open(self) -> bool:
        return self.state == State.OPEN
