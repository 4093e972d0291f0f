"""THE validation of a scheduled report, for the web page and ``calltally schedule add`` alike.

The report's own options are the report form's fields (calltally.reports.options.OptionsForm),
validated by it with the account's scope; the period is one of the relative presets. The rest
says where the report goes (addresses, people, roles — or a burst — or a folder) and when.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath, PureWindowsPath

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import validate_email

from calltally import claims
from calltally.accounts.models import Role
from calltally.directory.models import Person
from calltally.reports import catalogue
from calltally.reports.options import PERIODS, OptionsError, OptionsForm, ReportOptions, validate

from . import services
from .models import Burst, Every, Format, Schedule
from .recurrence import EVERY, WEEKDAYS, Recurrence, RecurrenceError, parse_time

# The report options a schedule takes: every filter, never fixed dates (a schedule's period is relative).
DATED = ("period", "date_from", "date_to", "time_from", "time_to")
RELATIVE_PERIODS = [(key, label) for key, label in PERIODS.items() if key != "custom"]


def split_list(value) -> list[str]:
    """A list of names from repeated values and/or comma-separated text."""
    items = value if isinstance(value, (list, tuple)) else [value or ""]
    found: list[str] = []
    for item in items:
        found.extend(part.strip() for part in str(item).split(",") if part.strip())
    return list(dict.fromkeys(found))


class ListInput(forms.TextInput):
    """Comma-separated text that also takes the value repeated (``--to a --to b``)."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            values = data.getlist(name)
            return ",".join(values) if values else None
        value = data.get(name)
        return ",".join(value) if isinstance(value, (list, tuple)) else value

    def format_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else super().format_value(value)


class ScheduleForm(forms.ModelForm):
    """A scheduled report (see the module's doc). ``scope``: the account that edits it, which
    narrows the report options it may name."""

    report = forms.ChoiceField(label="Report")
    period = forms.ChoiceField(label="Period", choices=RELATIVE_PERIODS, initial="yesterday",
                               help_text="Relative to each occurrence: yesterday, last week, month to date…")
    to = forms.CharField(label="E-mail addresses", required=False, widget=ListInput,
                         help_text="Comma-separated.")
    person_recipients = forms.CharField(label="People (usernames)", required=False, widget=ListInput,
                                        help_text="Directory people, at their e-mail address; comma-separated.")
    roles = forms.MultipleChoiceField(label="Roles", required=False, choices=Role.choices,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text="Every active account of the role that has an e-mail address.")
    every = forms.CharField(label="Every", initial="daily", max_length=120,
                            help_text='daily, weekly, monthly, or a cron expression "minute hour day month weekday"')
    at = forms.CharField(label="At (HH:MM)", initial="07:00", required=False, max_length=5)
    weekday = forms.CharField(label="Weekday (weekly)", required=False, initial="monday", max_length=10,
                              help_text="monday … sunday, or 0 (Monday) … 6.")
    owner = forms.CharField(label="Run as (username)", required=False, max_length=150,
                            help_text="The sign-in account whose view of the calls the report shows "
                                      "(empty: every call). Not used by a burst.")

    class Meta:
        model = Schedule
        fields = ["name", "report", "format", "burst", "folder", "day", "time_zone", "enabled"]
        labels = {"day": "Day of the month (monthly)", "time_zone": "Time zone"}

    field_order = ["name", "report", "period", "format", "to", "person_recipients", "roles", "burst", "folder",
                   "every", "at", "weekday", "day", "time_zone", "owner", "enabled"]

    def __init__(self, data=None, files=None, *, scope=None, instance=None, **kwargs):
        super().__init__(data, files, instance=instance, **kwargs)
        self.scope = scope
        self.fields["report"].choices = [(r.name, f"{r.title} ({r.name})") for r in catalogue.catalogue()]
        self.fields["format"].choices = Format.choices
        self.fields["burst"].required = False
        self.fields["day"].required = False
        self.fields["time_zone"].initial = settings.TIME_ZONE
        # The report's filters, as the report pages offer them (their choices narrowed to the scope).
        self.option_names = []
        for name, option in OptionsForm(scope=scope).fields.items():
            if name in DATED:
                continue
            option.required = False
            self.fields[name] = option
            self.option_names.append(name)
        if instance is not None and instance.pk:
            self.initial.update(self.initial_of(instance))

    @staticmethod
    def initial_of(schedule: Schedule) -> dict:
        options = ReportOptions.from_dict(schedule.options)
        query = options.to_query()
        query.pop("period", None)
        return {
            **query, "period": options.period, "to": ", ".join(schedule.addresses or []),
            "person_recipients": ", ".join(schedule.people.values_list("username", flat=True)),
            "roles": list(schedule.roles or []), "every": schedule.cron if schedule.every == Every.CRON
            else schedule.every, "at": schedule.at.strftime("%H:%M") if schedule.at else "",
            "weekday": WEEKDAYS[schedule.weekday], "owner": schedule.owner.get_username() if schedule.owner_id
            else "",
        }

    # --- fields -------------------------------------------------------------------------------
    def clean_to(self):
        addresses = split_list(self.cleaned_data.get("to"))
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"{address} is not an e-mail address.") from None
        return addresses

    def clean_person_recipients(self):
        usernames = split_list(self.cleaned_data.get("person_recipients"))
        people = {p.username: p for p in Person.objects.filter(username__in=usernames)}
        unknown = [u for u in usernames if u not in people]
        if unknown:
            raise forms.ValidationError(f"No person with username {', '.join(unknown)}.")
        without = [u for u in usernames if not people[u].email]
        if without:
            raise forms.ValidationError(f"{', '.join(without)} has no e-mail address in the directory.")
        return [people[u] for u in usernames]

    def clean_folder(self):
        folder = (self.cleaned_data.get("folder") or "").strip()
        if folder and not (PurePosixPath(folder).is_absolute() or PureWindowsPath(folder).is_absolute()):
            raise forms.ValidationError("Give the folder as an absolute path on the server.")
        return folder

    def clean_at(self):
        text = (self.cleaned_data.get("at") or "").strip() or "07:00"
        try:
            return parse_time(text)
        except RecurrenceError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_weekday(self):
        text = (self.cleaned_data.get("weekday") or "").strip().lower() or "monday"
        if text.isdigit() and int(text) <= 6:
            return int(text)
        matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(text) and len(text) >= 2]
        if len(matches) != 1:
            raise forms.ValidationError(f"{text} is not a weekday: monday … sunday, or 0 (Monday) … 6.")
        return matches[0]

    def clean_day(self):
        day = self.cleaned_data.get("day") or 1
        if not 1 <= day <= 31:
            raise forms.ValidationError("The day of the month is 1 to 31 (a shorter month uses its last day).")
        return day

    def clean_owner(self):
        username = (self.cleaned_data.get("owner") or "").strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"No sign-in account named {username}.")
        return user

    # --- the whole ----------------------------------------------------------------------------
    def clean(self):
        data = super().clean()
        self.check_destination(data)
        self.check_rule(data)
        self.check_options(data)
        return data

    def check_destination(self, data) -> None:
        mailed = bool(data.get("to") or data.get("person_recipients") or data.get("roles"))
        burst, folder = data.get("burst") or "", data.get("folder") or ""
        chosen = [kind for kind, on in (("recipients", mailed), ("a burst", bool(burst)), ("a folder", bool(folder)))
                  if on]
        if not chosen and not self.has_error("to") and not self.has_error("person_recipients"):
            self.add_error(None, "Say where the report goes: e-mail addresses, people or roles; a burst to managers "
                                 "or people; or a folder.")
        elif len(chosen) > 1:
            self.add_error(None, f"Choose one of recipients, a burst or a folder, not {' and '.join(chosen)}.")
        if burst and folder:
            return
        if burst == Burst.MANAGERS and data.get("owner"):
            self.add_error("owner", "A burst runs with each manager's own scope: leave Run as empty.")

    def check_rule(self, data) -> None:
        text = " ".join((data.get("every") or "").split())
        if text.lower() in EVERY:
            every, cron = text.lower(), ""
        elif len(text.split()) == 5:
            every, cron = Every.CRON, text
        else:
            self.add_error("every", f"{text or 'Nothing'} is not daily, weekly, monthly or a cron expression of 5 "
                                    "fields (minute hour day month weekday).")
            return
        if self.has_error("at") or self.has_error("weekday") or self.has_error("day"):
            return
        try:
            rule = Recurrence(every=every, zone=(data.get("time_zone") or "").strip() or "UTC",
                              at=data.get("at") or dt.time(7), weekday=data.get("weekday") or 0,
                              day=data.get("day") or 1, cron=cron)
            rule.next_after(claims.now())
        except RecurrenceError as exc:
            self.add_error("time_zone" if "time zone" in str(exc) else "every", str(exc))
            return
        data["every"], data["cron"], data["time_zone"] = every, cron, rule.zone

    def check_options(self, data) -> None:
        raw = {name: self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
               for name in self.option_names}
        raw = {name: value for name, value in raw.items() if value not in (None, "", [])}
        raw["period"] = data.get("period") or "yesterday"
        try:
            self.report_options = validate(raw, self.scope)
        except OptionsError as exc:
            for name, errors in exc.form.errors.items():
                self.add_error(name if name in self.fields else None, errors)

    def save(self, commit: bool = True) -> Schedule:
        schedule = super().save(commit=False)
        data = self.cleaned_data
        schedule.options = self.report_options.to_dict()
        schedule.addresses = data["to"]
        schedule.roles = list(data.get("roles") or [])
        schedule.every, schedule.cron = data["every"], data["cron"]
        schedule.at, schedule.weekday, schedule.day = data["at"], data["weekday"], data["day"]
        schedule.owner = data.get("owner")
        schedule.burst = data.get("burst") or ""
        schedule.next_due = services.next_due(schedule, claims.now())
        if commit:
            schedule.save()
            schedule.people.set(data["person_recipients"])
        return schedule
