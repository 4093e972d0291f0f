"""The tariff pages' forms. Each one hands its values to the same reader the CLI uses:

* a plan's header and bands become the dict a TOML plan file is read into, checked by
  ``planfile.plan_from_data`` (what `calltally tariff load` runs) and stored by
  ``services.store_plan``;
* an uploaded file goes through ``planfile.parse_plan`` or ``services.parse_deck``
  (`tariff load` / `tariff rates-import`);
* an assignment through ``services.clean_pattern`` and ``services.assign_plan``
  (`tariff assign`), a holiday through ``services.add_holiday`` (`tariff holiday-add`),
  the simulator through ``services.simulate`` (`calltally rate`) and the comparison
  through ``comparison.compare`` (`tariff compare`).

So nothing is accepted on a page that the CLI would refuse, or the other way round.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
from pathlib import PurePath
from types import SimpleNamespace

from django import forms
from django.db import transaction
from django.utils import timezone

from calltally.sites.models import Site
from calltally.vocabulary import DIRECTIONS
from calltally.vocabulary import WEEKDAYS as DAYS

from . import services
from .engine import hhmm
from .models import Carrier, PlanAssignment, TariffPlan, TariffVersion
from .planfile import PlanFileError, parse_plan, plan_from_data, render_plan

DIRECTION_CHOICES = [(d, d) for d in DIRECTIONS]
BANDS_HELP = ("One window per line: name, days, start and end in the site's local time, e.g. "
              "<code>peak mon-fri 08:00 19:00</code> and <code>peak sat 08:00 13:00</code>. The end is excluded "
              "(<code>24:00</code> for midnight); a window cannot cross midnight. Times no window covers are in the "
              "default band.")


def problems_of(error: PlanFileError) -> list[str]:
    """The problems a PlanFileError lists, one text each (its first line only names the source)."""
    lines = str(error).splitlines()
    return [line.strip() for line in lines[1:]] or [str(error)]


def sites_in(scope):
    return Site.objects.filter(scope.sites()).order_by("code")


# --- a plan's header and bands -----------------------------------------------------------------------------


def bands_text(windows) -> str:
    return "\n".join(f"{w.name} {','.join(DAYS[d] for d in w.days)} {hhmm(w.start)} {hhmm(w.end)}" for w in windows)


def _days(text: str) -> list[str]:
    """``mon-fri,sun`` as the list of day names a plan file holds (ranges are spelt out; the
    plan reader judges each name)."""
    days: list[str] = []
    for part in text.split(","):
        first, dash, last = part.strip().lower().partition("-")
        if dash and first[:3] in DAYS and last[:3] in DAYS:
            low, high = DAYS.index(first[:3]), DAYS.index(last[:3])
            days += [DAYS[i] for i in range(low, high + 1)] if low <= high else [part]
        else:
            days.append(part.strip())
    return days


class PlanHeaderForm(forms.Form):
    """A plan version's settings and time bands, checked as the plan file reader checks them."""

    # The plan file keys this form's fields stand for, in file order.
    KEYS = ("name", "carrier", "currency", "valid_from", "valid_to", "rounding_decimals", "markup_percent",
            "directions", "public_holidays", "default_band", "holiday_band")

    name = forms.CharField(label="Plan name", max_length=200, help_text="Up to 100 characters; versions share it.")
    carrier = forms.CharField(label="Carrier", max_length=200, help_text="Who bills the calls.")
    currency = forms.CharField(label="Currency", max_length=10, help_text="ISO 4217 code of the amounts, e.g. EUR.")
    valid_from = forms.CharField(label="Valid from", max_length=20, help_text="First day of this version: YYYY-MM-DD.")
    valid_to = forms.CharField(label="Valid to", max_length=20, required=False,
                               help_text="Last day (included); empty: until the next version.")
    rounding_decimals = forms.TypedChoiceField(label="Rounding decimals", choices=[(i, i) for i in range(5)],
                                               coerce=int, initial=4, help_text="Decimals of a cost, 0 to 4.")
    markup_percent = forms.CharField(label="Markup %", max_length=20, initial="0",
                                     help_text="Applied after the charges, −100 to 1000.")
    directions = forms.MultipleChoiceField(label="Calls it prices", choices=DIRECTION_CHOICES, initial=["outbound"],
                                           widget=forms.CheckboxSelectMultiple)
    public_holidays = forms.BooleanField(label="Count the public holidays of the site's country", required=False,
                                         initial=True)
    default_band = forms.CharField(label="Default band", max_length=40, initial="offpeak",
                                   help_text="The band of every time no window covers.")
    holiday_band = forms.CharField(label="Holiday band", max_length=40, required=False,
                                   help_text="The band of public and added holidays; empty: holidays are ordinary "
                                             "days.")
    bands = forms.CharField(label="Time band windows", required=False, help_text=BANDS_HELP,
                            widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}))

    def __init__(self, *args, scope=None, **kwargs):
        self.scope = scope
        super().__init__(*args, **kwargs)
        self.spec = None

    def band_tables(self) -> list[dict] | None:
        tables = []
        for number, line in enumerate((self.cleaned_data.get("bands") or "").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4:
                self.add_error("bands", f"line {number}: write a name, the days, the start and the end, "
                                        "e.g. peak mon-fri 08:00 19:00")
                return None
            tables.append({"name": parts[0], "days": _days(parts[1]), "start": parts[2], "end": parts[3]})
        return tables

    def file_data(self) -> dict:
        """The dict a plan file with these settings would be read into (rates: :meth:`rates_data`)."""
        data = {key: self.cleaned_data.get(key) for key in self.KEYS}
        for key in ("valid_to", "holiday_band"):
            data[key] = data[key] or ""
        if not data["valid_to"]:
            del data["valid_to"]
        return data

    def rates_data(self) -> list[dict]:
        return []

    def clean(self):
        cleaned = super().clean()
        bands = self.band_tables()
        if self.errors:
            return cleaned
        data = self.file_data()
        data["bands"] = bands
        data["rates"] = self.rates_data()
        try:
            self.spec = plan_from_data(data, source="the form")
        except PlanFileError as exc:
            self.report(exc)
        return cleaned

    def report(self, error: PlanFileError) -> None:
        """Each problem beside its field: ``key: message``, ``[[bands]] #N: …`` (line N of the
        windows), anything else (a rate that no longer fits the bands) above the form."""
        for problem in problems_of(error):
            window = re.match(r"\[\[bands\]\] #(\d+): (.*)", problem)
            key, _, message = problem.partition(": ")
            if window:
                self.add_error("bands", f"line {window.group(1)}: {window.group(2)}")
            elif key in self.fields and key in self.KEYS + ("bands",):
                self.add_error(key, message)
            else:
                self.add_error(None, problem)


class PlanForm(PlanHeaderForm):
    """A new plan: its first version's settings and bands (rates come from a deck or a file).
    With an ``instance``: the plan's name and carrier, checked as a plan file's."""

    def __init__(self, data=None, files=None, instance: TariffPlan | None = None, scope=None, **kwargs):
        self.instance = instance
        self.latest = None
        if instance is not None:
            self.latest = instance.versions.order_by("valid_from").last()
            kwargs.setdefault("initial", {"name": instance.name, "carrier": instance.carrier.name})
        super().__init__(data, files, scope=scope, **kwargs)
        if instance is not None:
            for key in list(self.fields):
                if key not in ("name", "carrier"):
                    del self.fields[key]

    def file_data(self) -> dict:
        if self.instance is None:
            return super().file_data()
        # A rename is checked as the latest version's file with the new name would be.
        if self.latest is not None:
            spec = services.plan_spec(self.latest)
            spec.rates = []
            data = tomllib.loads(render_plan(spec))
        else:
            data = {"currency": "EUR", "valid_from": "2000-01-01", "default_band": "all"}
        data.update(name=self.cleaned_data.get("name"), carrier=self.cleaned_data.get("carrier"))
        return data

    def band_tables(self):
        if self.instance is None:
            return super().band_tables()
        return self.file_data().get("bands", [])

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name", "").strip()
        clash = TariffPlan.objects.filter(name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if name and clash.exists():
            self.add_error("name", f"a plan named {name!r} exists already"
                           + ("; upload a file to add a version to it" if self.instance is None else ""))
        return cleaned

    @transaction.atomic
    def save(self) -> TariffPlan:
        if self.instance is None:
            version, _ = services.store_plan(self.spec, source="web form")
            return version.plan
        plan = self.instance
        plan.name = self.spec.name
        plan.carrier, _ = Carrier.objects.get_or_create(name=self.spec.carrier)
        plan.save()
        # A version names its plan in the calls it prices: loaded raters must reload it.
        TariffVersion.objects.filter(plan=plan).update(updated=timezone.now())
        return plan


class VersionForm(PlanHeaderForm):
    """A version's settings and bands. Checked with its rates as the file `tariff export` would
    write, edited, would be by `tariff load` — so a rate left without a value for a renamed band
    is refused, as the file would be."""

    def __init__(self, data=None, files=None, instance: TariffVersion | None = None, scope=None, **kwargs):
        self.instance = instance
        self.windows = services.windows_of(instance)
        kwargs.setdefault("initial", {
            "name": instance.plan.name, "carrier": instance.plan.carrier.name, "currency": instance.currency,
            "valid_from": instance.valid_from.isoformat(),
            "valid_to": instance.valid_to.isoformat() if instance.valid_to else "",
            "rounding_decimals": instance.rounding_decimals,
            "markup_percent": f"{instance.markup_percent.normalize():f}", "directions": list(instance.directions),
            "public_holidays": instance.public_holidays, "default_band": instance.default_band,
            "holiday_band": instance.holiday_band, "bands": bands_text(self.windows),
        })
        super().__init__(data, files, scope=scope, **kwargs)
        # The plan's name and carrier are the plan's (its own page), not one version's.
        for key in ("name", "carrier"):
            self.fields[key].disabled = True
        self.same_bands = False

    def rates_data(self) -> list[dict]:
        bands = self.band_tables() or []
        names = set(services.band_names([SimpleNamespace(name=b["name"]) for b in bands],
                                        self.cleaned_data.get("default_band", ""),
                                        self.cleaned_data.get("holiday_band", "")))
        old = set(services.version_band_names(self.instance))
        # A rate is checked only against the band names: with the same names, the stored rates
        # (checked when they were loaded) still fit, and a table of 200,000 rates need not be
        # written out and read back to say so.
        self.same_bands = names == old
        if self.same_bands:
            return []
        return tomllib.loads(render_plan(services.plan_spec(self.instance))).get("rates", [])

    def clean(self):
        cleaned = super().clean()
        if self.spec is not None and self.same_bands:
            self.spec.rates = services.version_rows(self.instance)
        if self.spec is not None and self.spec.valid_from != self.instance.valid_from:
            taken = TariffVersion.objects.filter(plan=self.instance.plan, valid_from=self.spec.valid_from)
            if taken.exists():
                self.add_error("valid_from", f"plan {self.instance.plan.name} has a version starting on "
                                             f"{self.spec.valid_from} already")
        return cleaned

    @transaction.atomic
    def save(self) -> TariffVersion:
        version, _ = services.store_plan(self.spec, source=self.instance.source)
        if version.pk != self.instance.pk:  # it now starts on another day
            self.instance.delete()
        return version


# --- files ---------------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    """A TOML plan file (creates or replaces a version) or a CSV rate deck (replaces a version's
    rates): the same readers as `calltally tariff load` and `tariff rates-import`."""

    file = forms.FileField(label="Plan file (.toml) or rate deck (.csv)",
                           help_text="A file with any problem is refused whole; its problems are listed with their "
                                     "line numbers and nothing is changed.")
    plan = forms.ModelChoiceField(label="Plan (for a rate deck)", queryset=TariffPlan.objects.all(), required=False,
                                  help_text="The plan whose rates a CSV deck replaces; a TOML file names its plan.")
    valid_from = forms.DateField(label="Deck valid from", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Rate deck only: the version starting that day is replaced, or created "
                                           "with the bands of the version before it. Empty: the latest version.")
    check_only = forms.BooleanField(label="Only check the file; store nothing", required=False)

    def __init__(self, *args, scope=None, **kwargs):
        self.scope = scope
        super().__init__(*args, **kwargs)
        self.kind = ""
        self.spec = None
        self.rows = None
        self.file_name = ""

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        name = self.file_name = PurePath(upload.name).name
        suffix = PurePath(name).suffix.lower()
        if suffix not in (".toml", ".csv"):
            self.add_error("file", f"{name}: give a plan file ending in .toml or a rate deck ending in .csv")
            return cleaned
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.add_error("file", f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})")
            return cleaned
        self.kind = suffix[1:]
        try:
            if self.kind == "toml":
                self.spec = parse_plan(text, source=name)
            else:
                plan = cleaned.get("plan")
                if plan is None:
                    self.add_error("plan", "choose the plan whose rates this deck replaces")
                    return cleaned
                self.rows = services.parse_deck(plan.name, io.StringIO(text, newline=""), cleaned.get("valid_from"),
                                                source=name)
        except PlanFileError as exc:
            self.problems = problems_of(exc)
            self.add_error("file", f"{name}: {len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}; "
                                   "nothing was changed")
        except ValueError as exc:
            self.add_error(None, str(exc))
        return cleaned

    def save(self):
        """Store the file: (version, created, rates stored)."""
        name = PurePath(self.cleaned_data["file"].name).name
        if self.kind == "toml":
            version, created = services.store_plan(self.spec, source=name)
            return version, created, len(self.spec.rates)
        version, count, created = services.store_deck(self.cleaned_data["plan"].name, self.rows,
                                                      self.cleaned_data.get("valid_from"), source=name)
        return version, created, count


# --- assignments and holidays --------------------------------------------------------------------------------


class AssignmentForm(forms.Form):
    """Which plan prices a site's calls: its default plan (no pattern) or the plan of the calls
    whose trunk/device matches a pattern — `calltally tariff assign`."""

    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none())
    plan = forms.ModelChoiceField(label="Plan", queryset=TariffPlan.objects.all())
    pattern = forms.CharField(label="Trunk/device pattern", required=False, max_length=400,
                              help_text="A regular expression searched in the call's trunk/device (dest_device of "
                                        "an outbound call, orig_device of the others), e.g. <code>^SIP/carrier-b"
                                        "</code>. Empty: the site's default plan.")
    priority = forms.IntegerField(label="Priority", initial=0, help_text="Patterns are tried highest first; the "
                                  "default plan last.")

    def __init__(self, data=None, files=None, instance: PlanAssignment | None = None, scope=None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {"site": instance.site_id, "plan": instance.plan_id,
                                          "pattern": instance.pattern, "priority": instance.priority})
        super().__init__(data, files, **kwargs)
        self.fields["site"].queryset = sites_in(scope)
        self.replaced = None

    def clean_pattern(self):
        try:
            return services.clean_pattern(self.cleaned_data.get("pattern", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        site, pattern = cleaned.get("site"), cleaned.get("pattern")
        if site is None or pattern is None:
            return cleaned
        other = PlanAssignment.objects.filter(site=site, pattern=pattern).select_related("plan")
        if self.instance is not None:
            other = other.exclude(pk=self.instance.pk)
        other = other.first()
        if other is not None and self.instance is not None:
            self.add_error("pattern", f"site {site.code} has {self.describe(pattern)} already ({other.plan.name}); "
                                      "change that one")
        # Adding where one exists replaces it, as `tariff assign` does; the page says so.
        self.replaced = other
        return cleaned

    @staticmethod
    def describe(pattern: str) -> str:
        return f"a plan for /{pattern}/" if pattern else "a default plan"

    @transaction.atomic
    def save(self) -> PlanAssignment:
        data = self.cleaned_data
        if self.instance is not None:
            self.instance.delete()
        return services.assign_plan(data["site"], data["plan"].name, data["pattern"], data["priority"])


class HolidayForm(forms.Form):
    """A day priced in the holiday band — `calltally tariff holiday-add`."""

    WHERE = (("site", "One site"), ("country", "The sites of one country"), ("every", "Every site"))

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Name", max_length=100, required=False, help_text="e.g. the city's patron saint.")
    where = forms.ChoiceField(label="For", choices=WHERE, widget=forms.RadioSelect, initial="site")
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), required=False)
    country = forms.CharField(label="Country", max_length=10, required=False,
                              help_text="Two-letter ISO 3166 code, e.g. IT.")

    def __init__(self, data=None, files=None, instance=None, scope=None, **kwargs):
        super().__init__(data, files, **kwargs)
        self.scope = scope
        self.fields["site"].queryset = sites_in(scope)
        if scope is not None and not scope.may_configure(None):
            # A site administrator adds days for their own sites only.
            self.fields["where"].choices = self.WHERE[:1]
            self.fields["where"].initial = "site"
            del self.fields["country"]

    def clean(self):
        cleaned = super().clean()
        where = cleaned.get("where")
        if where == "site" and not cleaned.get("site"):
            self.add_error("site", "choose the site")
        if where == "country" and not cleaned.get("country"):
            self.add_error("country", "give the country's two-letter code")
        if self.errors:
            return cleaned
        self.site = cleaned["site"] if where == "site" else None
        try:
            self.country = services.clean_country(cleaned.get("country", "") if where == "country" else "")
        except ValueError as exc:
            self.add_error("country", str(exc))
        return cleaned

    def save(self):
        return services.add_holiday(self.cleaned_data["date"], self.cleaned_data.get("name", ""), self.country,
                                    self.site)


# --- the simulator and the comparison -----------------------------------------------------------------------


class SimulatorForm(forms.Form):
    """One call to price — the options of `calltally rate`."""

    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none())
    number = forms.CharField(label="Dialled number", max_length=64, help_text="As the PBX records it, e.g. "
                             "00223456789.")
    at = forms.DateTimeField(label="Start (the site's local time)", input_formats=[
        "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S"))
    talk = forms.IntegerField(label="Talk time (seconds)", min_value=0, max_value=10**7, initial=60)
    direction = forms.ChoiceField(label="Direction", required=False,
                                  choices=[("", "Automatic (internal for an extension, else outbound)"),
                                           *DIRECTION_CHOICES])
    device = forms.CharField(label="Trunk/device", max_length=200, required=False,
                             help_text="dest_device of an outbound call; selects a route plan.")
    unanswered = forms.BooleanField(label="Not answered", required=False)

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites_in(scope)

    def clean_at(self):
        # The form reads a wall-clock time; it is the site's (simulate() attaches the site's zone).
        value = self.cleaned_data["at"]
        return value.replace(tzinfo=None) if value is not None else value

    def simulate(self) -> services.Simulation:
        data = self.cleaned_data
        return services.simulate(data["site"], data["number"].strip(), data["at"], data["talk"],
                                 data["direction"] or None, data["device"].strip(),
                                 answered=not data["unanswered"])


class ComparisonForm(forms.Form):
    """The calls of a period and the plans to price them with — `calltally tariff compare`."""

    sites = forms.ModelMultipleChoiceField(label="Sites", queryset=Site.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text="None ticked: every site you run.")
    first = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Local days of each site, both included.")
    last = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    plans = forms.ModelMultipleChoiceField(label="Plans", queryset=TariffPlan.objects.all(),
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text="Each as if it were the sites' only plan.")

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["sites"].queryset = sites_in(scope)

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last and last < first:
            self.add_error("last", "is before From")
        return cleaned

    def chosen_sites(self) -> list[Site]:
        return list(self.cleaned_data.get("sites") or self.fields["sites"].queryset)

    def compare(self):
        from .comparison import compare

        return compare(self.chosen_sites(), self.cleaned_data["first"], self.cleaned_data["last"],
                       [plan.name for plan in self.cleaned_data["plans"]])


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Last month: the period a comparison is usually asked for."""
    first_this = today.replace(day=1)
    last = first_this - dt.timedelta(days=1)
    return last.replace(day=1), last
