"""The one validation of a budget: the web page and ``calltally budget add`` both fill this form."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from calltally.directory.forms import CodeChoiceField
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site, validate_timezone

from .choices import Notify
from .models import Budget

SEPARATORS = re.compile(r"[\s,;]+")


def split(text: str) -> list[str]:
    return [part for part in SEPARATORS.split(text or "") if part]


def default_site(person: Person | None) -> Site | None:
    """The site whose currency and zone a budget takes when none is given: its person's, else the
    first site (a single-site installation's only one)."""
    if person is not None and person.site_id:
        return person.site
    return Site.objects.order_by("pk").first()


class BudgetForm(forms.ModelForm):
    """A budget as typed: the person by username or the cost center by code (one of them), the
    thresholds as ``80,100``, the extra addresses separated by commas or spaces. Currency and zone
    may be left empty: the person's site's (else the first site's) are taken."""

    person = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person",
                             widget=forms.TextInput(attrs={"placeholder": "username"}),
                             help_text="The person whose calls count (a username), or choose a cost center.")
    cost_center = CodeChoiceField(CostCenter.objects.order_by("code"), required=False, noun="cost center",
                                  help_text="The cost center whose calls count, with every one below it.")
    currency = forms.CharField(max_length=3, required=False,
                               help_text="Only calls charged in this currency count. Empty: the site's currency.")
    timezone = forms.CharField(max_length=64, required=False, label="Time zone",
                               help_text="The zone of the calendar the periods follow. Empty: the site's zone.")
    thresholds = forms.CharField(initial="80,100", help_text="Percentages of the amount that mail a notice, "
                                 "e.g. 80,100 (each once per period).")
    notify = forms.MultipleChoiceField(choices=Notify.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                       label="Tell",
                                       help_text="The person: the budget's person. The manager: the person's "
                                       "manager, else their cost center's (or the cost center's manager).")
    emails = forms.CharField(required=False, label="More addresses",
                             help_text="Addresses also told, separated by commas or spaces.")

    class Meta:
        model = Budget
        labels = {"carry_over": "Carry-over"}
        fields = ("name", "person", "cost_center", "period", "amount", "currency", "thresholds", "notify",
                  "emails", "carry_over", "timezone", "enabled")

    def __init__(self, data=None, files=None, *, instance=None, scope=None, **kwargs):
        self.scope = scope
        super().__init__(data, files, instance=instance, **kwargs)
        self.fields["cost_center"].label_from_instance = lambda c: f"{c.code} — {c.name}"
        self.fields["cost_center"].empty_label = "— none —"
        if instance is not None and instance.pk:
            self.initial.update(
                person=instance.person.username if instance.person_id else "",
                cost_center=instance.cost_center.code if instance.cost_center_id else "",
                emails=", ".join(instance.emails or []), notify=list(instance.notify or []))

    def clean_currency(self):
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if value and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValidationError("Use a three-letter ISO 4217 code such as EUR or USD.")
        return value

    def clean_timezone(self):
        value = (self.cleaned_data.get("timezone") or "").strip()
        if value:
            validate_timezone(value)
        return value

    def clean_thresholds(self):
        parts = split(self.cleaned_data.get("thresholds", ""))
        numbers = []
        for part in parts:
            if not part.isdigit() or not 1 <= int(part) <= 1000:
                raise ValidationError(f"{part!r} is not a percentage from 1 to 1000; write them like 80,100.")
            numbers.append(int(part))
        if not numbers:
            raise ValidationError("Give at least one threshold, e.g. 80,100.")
        return ",".join(str(n) for n in sorted(set(numbers)))

    def clean_emails(self):
        addresses = split(self.cleaned_data.get("emails", ""))
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"{address!r} is not an e-mail address.") from None
        return addresses

    def clean_amount(self):
        amount = self.cleaned_data.get("amount")
        if amount is not None and amount <= Decimal(0):
            raise ValidationError("The amount must be more than zero.")
        return amount

    def clean(self):
        data = super().clean()
        person, center = data.get("person"), data.get("cost_center")
        if "person" in self.errors or "cost_center" in self.errors:
            return data
        if (person is None) == (center is None):
            raise ValidationError("Choose either a person or a cost center (one of them).")
        if Notify.PERSON in (data.get("notify") or []) and person is None:
            self.add_error("notify", "Only a person's budget can tell its person; choose the manager instead.")
        site = default_site(person)
        if not data.get("currency"):
            data["currency"] = site.currency if site else "EUR"
        if not data.get("timezone"):
            data["timezone"] = site.timezone if site else settings.TIME_ZONE
        return data

    def error_text(self) -> str:
        """The errors on one line, each after its field's name (what the command line prints)."""
        parts = []
        for name, errors in self.errors.items():
            text = " ".join(str(e) for e in errors)
            parts.append(text if name == "__all__" else f"{name.replace('_', '-')}: {text}")
        return "; ".join(parts)
