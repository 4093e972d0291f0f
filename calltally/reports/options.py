"""What a report runs on: the period and filters every report shares.

:class:`ReportOptions` is the plain, JSON-serialisable value (remembered per account, saved as a
named report, carried by drill-down links); :class:`OptionsForm` is THE validation of it, used by
the web pages, ``calltally report`` and the REST API alike, so nothing is accepted on one and
refused on another. :func:`calls_for` turns options and an account's scope into the calls a
report reads.

A period is resolved per site, in the site's own time zone: "yesterday" or "last month" begin at
each site's local midnight, as everywhere else in CallTally (calltally/services/today.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django import forms
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from calltally.accounts.models import Role
from calltally.accounts.scope import Scope, subtree
from calltally.calls.choices import Category, Direction
from calltally.calls.models import Call
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site
from calltally.vocabulary import TRUNK_DEVICE

# The period presets, in the order forms offer them.
PERIODS = {
    "today": "Today", "yesterday": "Yesterday",
    "this-week": "This week", "last-week": "Last week",
    "this-month": "This month", "last-month": "Last month",
    "this-quarter": "This quarter", "last-quarter": "Last quarter",
    "this-year": "This year", "last-year": "Last year",
    "custom": "Custom range",
}
DEFAULT_PERIOD = "this-month"
ANSWERED_CHOICES = {"answered": "Answered only", "unanswered": "Unanswered only"}
# A filter on a grouped field set to this finds the calls without a value there (no person, no
# cost center, no destination…): what a summary's "(none)" row drills down to.
NONE = "(none)"
DEFAULT_TOP = 10
DEFAULT_WITHIN = 20
REMOTE_TERM = re.compile(r"^!?[0-9A-Za-z+*#._@-]+$")


def trunk_expression():
    """A call's trunk/device (:data:`calltally.vocabulary.TRUNK_DEVICE`): the destination device of
    an outbound call, the originating device of an inbound one; internal calls use no trunk."""
    return Case(*(When(direction=direction, then=F(column)) for direction, column in TRUNK_DEVICE.items()),
                default=Value(""), output_field=CharField())


def trunk_q(value: str) -> Q:
    """The calls whose trunk/device is ``value`` (blank: internal calls and calls with no device)."""
    q = Q()
    for direction, column in TRUNK_DEVICE.items():
        q |= Q(direction=direction, **{column: value})
    if value == "":
        q |= ~Q(direction__in=list(TRUNK_DEVICE))
    return q


@dataclass
class ReportOptions:
    """The period and filters of one report run (see the module's doc). Empty means "any"."""

    period: str = DEFAULT_PERIOD
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # included
    time_from: dt.time | None = None  # on date_from (a custom range only)
    time_to: dt.time | None = None  # on date_to, excluded
    sites: list[str] = field(default_factory=list)  # site codes
    cost_center: str = ""  # a code: that cost center and every one below it
    person: str = ""  # username
    extension: str = ""
    direction: str = ""
    category: str = ""
    destination: str = ""
    tariff: str = ""
    trunk: str = ""
    account: str = ""  # as shown (a description where the code is replaced)
    answered: str = ""  # "answered" | "unanswered" | ""
    currency: str = ""  # a summary row is one currency's: its drill-down keeps to it
    remote: str = ""  # patterns: "0039*,!*1234"
    min_duration: int | None = None  # talk seconds
    min_cost: Decimal | None = None
    ignore_short_missed: int | None = None  # seconds of ringing
    top: int = DEFAULT_TOP  # rows of the top-N reports
    within: int = DEFAULT_WITHIN  # inbound performance: answered within this many seconds
    plans: list[str] = field(default_factory=list)  # tariff comparison

    def to_dict(self) -> dict:
        """Plain JSON values: dates and times as ISO text, the cost as decimal text."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, (dt.date, dt.time)):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, list):
                value = list(value)
            out[item.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ReportOptions:
        """The options :meth:`to_dict` wrote (unknown keys are ignored: a saved report survives a
        removed option). Not a validation: use :func:`validate` for what a person typed."""
        known = {item.name for item in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        for name in ("date_from", "date_to"):
            if values.get(name):
                values[name] = dt.date.fromisoformat(values[name])
        for name in ("time_from", "time_to"):
            if values.get(name):
                values[name] = dt.time.fromisoformat(values[name])
        if values.get("min_cost") not in (None, ""):
            values["min_cost"] = Decimal(str(values["min_cost"]))
        return cls(**values)

    def replace(self, **changes) -> ReportOptions:
        """A copy with some options changed (drill-down narrows a summary's options to one row)."""
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data.update(changes)
        data["sites"] = list(data["sites"])
        data["plans"] = list(data["plans"])
        return ReportOptions(**data)

    def to_query(self) -> dict[str, str | list[str]]:
        """The options as the form's data (a query string: ``urlencode(q, doseq=True)``); only
        those that differ from the defaults."""
        query: dict[str, str | list[str]] = {}
        default = ReportOptions()
        for name, value in self.to_dict().items():
            if value == getattr(default, name) or value in (None, "", []):
                continue
            if name == "sites":
                query["site"] = list(value)
            elif name == "plans":
                query["plan"] = list(value)
            else:
                query[name] = str(value)
        return query

    def describe(self) -> list[tuple[str, str]]:
        """The options a report ran with, in words, for its heading (every report prints them)."""
        if self.period == "custom":
            start = f"{self.date_from}{' ' + self.time_from.strftime('%H:%M') if self.time_from else ''}"
            end = f"{self.date_to or 'now'}{' ' + self.time_to.strftime('%H:%M') if self.time_to else ''}"
            lines = [("Period", f"{start} to {end}")]
        else:
            lines = [("Period", PERIODS.get(self.period, self.period))]
        labels = [("sites", "Sites"), ("cost_center", "Cost center (and below)"), ("person", "Person"),
                  ("extension", "Extension"), ("direction", "Direction"), ("category", "Category"),
                  ("destination", "Destination"), ("tariff", "Tariff"), ("trunk", "Trunk/device"),
                  ("account", "Account"), ("answered", "Answered"), ("currency", "Currency"),
                  ("remote", "Remote number"),
                  ("min_duration", "Minimum duration (s)"), ("min_cost", "Minimum cost"),
                  ("ignore_short_missed", "Ignore missed calls shorter than (s)")]
        for name, label in labels:
            value = getattr(self, name)
            if value in (None, "", []):
                continue
            lines.append((label, ", ".join(value) if isinstance(value, list) else str(value)))
        return lines


# --- periods ----------------------------------------------------------------------------------

def preset_dates(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last local day (both included) of a preset, seen from ``today``."""
    if period == "today":
        return today, today
    if period == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if period in ("this-week", "last-week"):
        monday = today - dt.timedelta(days=today.weekday())
        if period == "last-week":
            monday -= dt.timedelta(days=7)
        return monday, monday + dt.timedelta(days=6)
    if period in ("this-month", "last-month"):
        first = today.replace(day=1)
        if period == "last-month":
            first = (first - dt.timedelta(days=1)).replace(day=1)
        return first, _month_after(first) - dt.timedelta(days=1)
    if period in ("this-quarter", "last-quarter"):
        first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        if period == "last-quarter":
            first = dt.date(first.year - 1, 10, 1) if first.month == 1 else dt.date(first.year, first.month - 3, 1)
        after = first
        for _ in range(3):
            after = _month_after(after)
        return first, after - dt.timedelta(days=1)
    if period in ("this-year", "last-year"):
        year = today.year - (period == "last-year")
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    raise ValueError(f"unknown period {period!r}")


def _month_after(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def site_bounds(options: ReportOptions, zone: dt.tzinfo, now: dt.datetime | None = None
                ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period as aware instants [start, end) in one site's zone (``None``: unbounded)."""
    if options.period == "custom":
        start = end = None
        if options.date_from:
            start = dt.datetime.combine(options.date_from, options.time_from or dt.time.min, tzinfo=zone)
        if options.date_to:
            end = (dt.datetime.combine(options.date_to, options.time_to, tzinfo=zone) if options.time_to
                   else dt.datetime.combine(options.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
        return start, end
    today = (now or timezone.now()).astimezone(zone).date()
    first, last = preset_dates(options.period, today)
    return (dt.datetime.combine(first, dt.time.min, tzinfo=zone),
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone))


def period_dates(options: ReportOptions, zone: dt.tzinfo, now: dt.datetime | None = None
                 ) -> tuple[dt.date | None, dt.date | None]:
    """The first and last local day of the period in ``zone`` (for headings, comparisons)."""
    if options.period == "custom":
        return options.date_from, options.date_to
    return preset_dates(options.period, (now or timezone.now()).astimezone(zone).date())


def period_q(options: ReportOptions, sites: list[Site], now: dt.datetime | None = None) -> Q:
    """The calls of ``sites`` in the period, each site's bounds in its own zone: one
    ``(site, start)`` range per site, which the calls' (site, start) index answers."""
    where = Q(pk__in=[])
    for site in sites:
        start, end = site_bounds(options, site.zone, now)
        q = Q(site_id=site.pk)
        if start is not None:
            q &= Q(start__gte=start)
        if end is not None:
            q &= Q(start__lt=end)
        where |= q
    return where


# --- remote number patterns -------------------------------------------------------------------

def parse_remote(text: str) -> tuple[list[str], list[str]]:
    """``"0039*, !*1234"`` → (included patterns, excluded patterns). Raises ValueError."""
    include, exclude = [], []
    for raw in (text or "").split(","):
        term = raw.strip()
        if not term:
            continue
        if not REMOTE_TERM.match(term) or term == "!":
            raise ValueError(f"{term!r} is not a number pattern: use digits, + and # with * for any digits, "
                             "! to exclude and commas between patterns.")
        (exclude if term.startswith("!") else include).append(term.lstrip("!"))
    return include, exclude


def _pattern_q(pattern: str, field_name: str) -> Q:
    """One pattern on one field: exact without ``*``; ``*`` stands for any characters."""
    if "*" not in pattern:
        return Q(**{field_name: pattern})
    parts = pattern.split("*")
    # The cheap forms a LIKE answers: 0039*, *1234, 0039*1234, *55*.
    if len(parts) == 2:
        q = Q()
        if parts[0]:
            q &= Q(**{f"{field_name}__startswith": parts[0]})
        if parts[1]:
            q &= Q(**{f"{field_name}__endswith": parts[1]})
        return q
    if len(parts) == 3 and not parts[0] and not parts[2]:
        return Q(**{f"{field_name}__contains": parts[1]}) if parts[1] else Q()
    regex = "^" + ".*".join(re.escape(part) for part in parts) + "$"
    return Q(**{f"{field_name}__regex": regex})


def remote_q(text: str) -> Q:
    """Calls whose remote number (as stored, or in E.164) matches the patterns of ``text``:
    any included pattern (all calls when there is none) and no excluded one."""
    include, exclude = parse_remote(text)
    q = Q()
    if include:
        any_of = Q(pk__in=[])
        for pattern in include:
            any_of |= _pattern_q(pattern, "remote_number") | _pattern_q(pattern, "e164")
        q &= any_of
    for pattern in exclude:
        q &= ~(_pattern_q(pattern, "remote_number") | _pattern_q(pattern, "e164"))
    return q


# --- the form ---------------------------------------------------------------------------------

class SiteCodesField(forms.Field):
    """Site codes: a list (several select options, several --site flags) or comma-separated text."""

    widget = forms.SelectMultiple

    def to_python(self, value):
        if value in (None, "", []):
            return []
        items = value if isinstance(value, (list, tuple)) else [value]
        codes = []
        for item in items:
            codes.extend(part.strip() for part in str(item).split(",") if part.strip())
        return list(dict.fromkeys(codes))


class ListInput(forms.TextInput):
    """A text box of comma-separated names that also takes the name repeated (``?plan=A&plan=B``)."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            values = data.getlist(name)
            return ",".join(values) if values else None
        return data.get(name)

    def format_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else super().format_value(value)


class ListField(SiteCodesField):
    widget = ListInput


class OptionsForm(forms.Form):
    """THE validation of report options, for the web, the CLI and the API.

    ``scope``: the account's scope, which narrows the sites and cost centers offered (a site
    administrator picks among their sites, a manager among their subtree); naming another is
    an error, never a way around the scope. ``options()`` gives the valid :class:`ReportOptions`.
    """

    period = forms.ChoiceField(label="Period", choices=[("", "Default (this month)"), *PERIODS.items()],
                               required=False)
    date_from = forms.DateField(label="From (date)", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    time_from = forms.TimeField(label="From (time of day)", required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))
    date_to = forms.DateField(label="To (date, included)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    time_to = forms.TimeField(label="To (time of day)", required=False,
                              widget=forms.TimeInput(attrs={"type": "time"}))
    site = SiteCodesField(label="Sites", required=False)
    cost_center = forms.CharField(label="Cost center (and below)", required=False,
                                  widget=forms.Select)
    person = forms.CharField(label="Person (username)", required=False, max_length=150)
    extension = forms.CharField(label="Extension", required=False, max_length=32)
    direction = forms.ChoiceField(label="Direction", required=False,
                                  choices=[("", "Any direction"), *Direction.choices])
    category = forms.CharField(label="Category", required=False, widget=forms.Select)
    destination = forms.CharField(label="Destination", required=False, max_length=100)
    tariff = forms.CharField(label="Tariff", required=False, max_length=120)
    trunk = forms.CharField(label="Trunk/device", required=False, max_length=128)
    account = forms.CharField(label="Account", required=False, max_length=200)
    answered = forms.ChoiceField(label="Answered", required=False,
                                 choices=[("", "Answered or not"), *ANSWERED_CHOICES.items()])
    currency = forms.CharField(label="Currency", required=False, max_length=3,
                               help_text="Calls charged in this currency only (ISO 4217, e.g. EUR).")
    remote = forms.CharField(label="Remote number", required=False, max_length=500,
                             help_text="* for any digits, ! to exclude, commas between patterns: 0039*, !*1234")
    min_duration = forms.IntegerField(label="Minimum duration (seconds)", required=False, min_value=0)
    min_cost = forms.DecimalField(label="Minimum cost", required=False, min_value=0, max_digits=14,
                                  decimal_places=4)
    ignore_short_missed = forms.IntegerField(label="Ignore missed calls that rang less than (seconds)",
                                             required=False, min_value=0, max_value=3600)
    top = forms.IntegerField(label="Rows of a top N report", required=False, min_value=1, max_value=10000)
    within = forms.IntegerField(label="Answered within (seconds)", required=False, min_value=1, max_value=3600)
    plan = ListField(label="Tariff plans to compare", required=False,
                     help_text="Tariff comparison: plan names, comma-separated.")

    def __init__(self, data=None, *args, scope: Scope | None = None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.scope = scope
        self.fields["site"].widget.choices = [(s.code, f"{s.code} — {s.name}") for s in self.visible_sites()]
        self.fields["cost_center"].widget.choices = [("", "All cost centers")] + [
            (c.code, f"{c.code} — {c.name}") for c in self.visible_cost_centers()]
        self.fields["category"].widget.choices = [("", "Any category"), *Category.choices, (NONE, "(none)")]

    def visible_sites(self) -> QuerySet:
        """Those the account runs, or every site for roles that see calls by person or cost
        center (theirs may be at any site) — as the call list's filter offers."""
        if self.scope is not None and self.scope.runs_sites:
            return Site.objects.filter(self.scope.sites()).only("code", "name")
        if self.scope is not None and self.scope.nothing:
            return Site.objects.none()
        return Site.objects.only("code", "name")

    def visible_cost_centers(self) -> QuerySet:
        if self.scope is not None and self.scope.role == Role.MANAGER:
            return CostCenter.objects.filter(pk__in=self.scope.cost_center_ids or ()).only("code", "name")
        return CostCenter.objects.only("code", "name")

    def clean_site(self):
        codes = self.cleaned_data["site"]
        if codes:
            known = set(self.visible_sites().filter(code__in=codes).values_list("code", flat=True))
            unknown = [code for code in codes if code not in known]
            if unknown:
                raise forms.ValidationError(f"No site with code {', '.join(unknown)} among the sites you see.")
        return codes

    def clean_cost_center(self):
        code = self.cleaned_data["cost_center"].strip()
        if code and code != NONE and not self.visible_cost_centers().filter(code=code).exists():
            raise forms.ValidationError(f"No cost center with code {code} among those you see.")
        return code

    def clean_person(self):
        username = self.cleaned_data["person"].strip()
        if username and username != NONE and not Person.objects.filter(username=username).exists():
            raise forms.ValidationError(f"No person with username {username}.")
        return username

    def clean_category(self):
        value = self.cleaned_data["category"].strip()
        if value and value != NONE and value not in Category.values:
            raise forms.ValidationError(f"{value} is not a category: use one of {', '.join(Category.values)}.")
        return value

    def clean_currency(self):
        value = self.cleaned_data["currency"].strip().upper()
        if value and not (len(value) == 3 and value.isalpha()):
            raise forms.ValidationError(f"{value} is not a currency code such as EUR or USD.")
        return value

    def clean_remote(self):
        text = self.cleaned_data["remote"].strip()
        try:
            parse_remote(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return text

    def clean_plan(self):
        from calltally.rating.models import TariffPlan

        names = self.cleaned_data["plan"]
        if names:
            known = set(TariffPlan.objects.filter(name__in=names).values_list("name", flat=True))
            unknown = [name for name in names if name not in known]
            if unknown:
                raise forms.ValidationError(f"No tariff plan named {', '.join(unknown)}.")
        return names

    def clean(self):
        data = super().clean()
        period = data.get("period") or ""
        dated = any(data.get(name) for name in ("date_from", "date_to", "time_from", "time_to"))
        if period and period != "custom" and dated:
            raise forms.ValidationError("Give either a period or dates, not both.")
        if not period:
            period = "custom" if dated else DEFAULT_PERIOD
        if period == "custom":
            if not data.get("date_from"):
                self.add_error("date_from", "A custom range needs its first day.")
            if data.get("time_from") and not data.get("date_from"):
                self.add_error("time_from", "A time of day needs its date.")
            if data.get("time_to") and not data.get("date_to"):
                self.add_error("time_to", "A time of day needs its date.")
            first, last = data.get("date_from"), data.get("date_to")
            if first and last and (last, data.get("time_to") or dt.time.max) < (first, data.get("time_from")
                                                                               or dt.time.min):
                self.add_error("date_to", "The end of the range is before its start.")
        data["period"] = period
        return data

    def options(self) -> ReportOptions:
        """The valid options (call after ``is_valid()``)."""
        d = self.cleaned_data
        return ReportOptions(
            period=d["period"], date_from=d.get("date_from"), date_to=d.get("date_to"),
            time_from=d.get("time_from"), time_to=d.get("time_to"), sites=d.get("site") or [],
            cost_center=d.get("cost_center") or "", person=d.get("person") or "",
            extension=(d.get("extension") or "").strip(), direction=d.get("direction") or "",
            category=d.get("category") or "", destination=(d.get("destination") or "").strip(),
            tariff=(d.get("tariff") or "").strip(), trunk=(d.get("trunk") or "").strip(),
            account=(d.get("account") or "").strip(), answered=d.get("answered") or "",
            currency=d.get("currency") or "",
            remote=d.get("remote") or "", min_duration=d.get("min_duration"), min_cost=d.get("min_cost"),
            ignore_short_missed=d.get("ignore_short_missed"),
            top=d.get("top") or DEFAULT_TOP, within=d.get("within") or DEFAULT_WITHIN, plans=d.get("plan") or [],
        )

    def error_text(self) -> str:
        """The errors on one line, each after its field's label (what the CLI and API say)."""
        parts = []
        for name, errors in self.errors.items():
            text = " ".join(str(e) for e in errors)
            parts.append(text if name == "__all__" else f"{self.fields[name].label}: {text}")
        return "; ".join(parts)


class OptionsError(ValueError):
    """Options that do not validate; the message names each field and what is wrong."""

    def __init__(self, form: OptionsForm):
        super().__init__(form.error_text())
        self.form = form


def validate(data: dict, scope: Scope | None = None) -> ReportOptions:
    """Options from form-like data (a query string, the CLI's flags, an API body) through THE
    form; raises :class:`OptionsError`."""
    form = OptionsForm(data, scope=scope)
    if not form.is_valid():
        raise OptionsError(form)
    return form.options()


# --- the calls of a report --------------------------------------------------------------------

def report_sites(options: ReportOptions, scope: Scope | None = None) -> list[Site]:
    """The sites a report covers: those named, else every site (a site administrator: theirs)."""
    sites = Site.objects.all()
    if options.sites:
        sites = sites.filter(code__in=options.sites)
    if scope is not None and scope.runs_sites and not scope.is_administrator:
        sites = sites.filter(scope.sites())
    return list(sites)


def _text_filter(field_name: str, value: str, exact: bool = False) -> Q:
    if value == NONE:
        return Q(**{f"{field_name}__isnull": True}) | Q(**{field_name: ""})
    return Q(**{field_name if exact else f"{field_name}__iexact": value})


def calls_for(options: ReportOptions, scope: Scope, now: dt.datetime | None = None,
              sites: list[Site] | None = None) -> QuerySet:
    """The calls a report reads: the account's scope (always), the period in each site's zone
    and every filter of ``options``. Counted calls only (never the legs of a merged call)."""
    if sites is None:
        sites = report_sites(options, scope)
    calls = Call.objects.filter(scope.calls()).filter(period_q(options, sites, now))
    return calls.filter(filters_q(options))


def filters_q(options: ReportOptions) -> Q:
    """Every filter but the period, as one Q over calls."""
    q = Q()
    if options.cost_center == NONE:
        q &= Q(cost_center__isnull=True)
    elif options.cost_center:
        root = CostCenter.objects.filter(code=options.cost_center).values_list("pk", flat=True).first()
        q &= Q(cost_center_id__in=subtree([root] if root else []))
    if options.person == NONE:
        q &= Q(person__isnull=True)
    elif options.person:
        q &= Q(person__username=options.person)
    if options.extension == NONE:
        q &= Q(extension__isnull=True)
    elif options.extension:
        q &= Q(extension_number=options.extension)
    if options.direction:
        q &= Q(direction=options.direction)
    if options.category:
        q &= _text_filter("category", options.category, exact=True)
    if options.destination:
        q &= _text_filter("destination", options.destination)
    if options.tariff:
        q &= _text_filter("tariff", options.tariff)
    if options.account:
        q &= _text_filter("account", options.account)
    if options.trunk:
        q &= trunk_q("" if options.trunk == NONE else options.trunk)
    if options.answered == "answered":
        q &= Q(answered=True)
    elif options.answered == "unanswered":
        q &= Q(answered=False)
    if options.currency:
        q &= Q(currency=options.currency)
    if options.remote:
        q &= remote_q(options.remote)
    if options.min_duration:
        q &= Q(talk_seconds__gte=options.min_duration)
    if options.min_cost:
        q &= Q(cost__gte=options.min_cost)
    if options.ignore_short_missed:
        # A missed call is an inbound call nobody answered; one that rang only briefly is
        # usually a caller who changed their mind, not a call to return.
        q &= ~Q(direction=Direction.INBOUND, answered=False, ring_seconds__lt=options.ignore_short_missed)
    return q
