"""The alert rule form: the web page and `calltally alert add` validate a rule with it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from calltally.directory.forms import CodeChoiceField
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site

from .choices import PARAMETERS, Scope
from .models import AlertRule, split_list


def code_and_name(obj) -> str:
    return f"{obj.code} — {obj.name}"


class AlertRuleForm(forms.ModelForm):
    """A rule with its kind's parameters. Given a ``scope`` (the account's), a site administrator may
    only make rules for one of their sites or a person of one of them."""

    site = CodeChoiceField(Site.objects.all(), required=False, noun="site")
    cost_center = CodeChoiceField(CostCenter.objects.all(), required=False, noun="cost center")
    person = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person")
    webhook = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Webhook URL",
                             help_text="A URL that receives each alert as a JSON POST.")

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "enabled", "scope", "site", "cost_center", "person", "hours", "cost", "currency",
                  "duration", "prefixes", "countries", "categories", "business_hours", "holidays", "site_holidays",
                  "count", "minutes", "factor", "baseline_days", "floor", "emails", "webhook", "digest"]
        labels = {"hours": "Silent for (business hours)", "cost": "Cost above", "duration": "Talk above (seconds)",
                  "count": "Calls to one number", "minutes": "Within (minutes)", "factor": "Factor",
                  "baseline_days": "Usual over (days)", "floor": "At least (amount)", "emails": "E-mail to",
                  "webhook": "Webhook URL", "digest": "Daily digest",
                  "site_holidays": "The sites' holidays are outside business hours"}

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["site"].label_from_instance = code_and_name
        self.fields["cost_center"].label_from_instance = code_and_name
        self.fields["person"].widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
        self.fields["person"].help_text = "A username."
        if scope is not None and not scope.is_administrator:
            self.fields["site"].queryset = Site.objects.filter(scope.sites())
            self.fields["person"].queryset = Person.objects.filter(scope.sites(field="site"))
            self.fields["scope"].choices = [(value, label) for value, label in Scope.choices
                                            if value in (Scope.SITE, Scope.PERSON)]
            del self.fields["cost_center"]
        # Each parameter shows only while a kind that reads it is chosen (calltally.js: data-shown-with).
        for name in {field for fields in PARAMETERS.values() for field in fields}:
            kinds = ",".join(kind for kind, fields in PARAMETERS.items() if name in fields)
            self.fields[name].widget.attrs["data-shown-with"] = f"kind={kinds}"
        for name, value in (("site", Scope.SITE), ("cost_center", Scope.COST_CENTER), ("person", Scope.PERSON)):
            if name in self.fields:
                self.fields[name].widget.attrs["data-shown-with"] = f"scope={value}"
        if self.instance.pk:
            for name, key in (("site", "code"), ("cost_center", "code"), ("person", "username")):
                related = getattr(self.instance, name, None)
                if name in self.fields and related is not None:
                    self.initial[name] = getattr(related, key)

    def clean_emails(self) -> str:
        addresses = split_list(self.cleaned_data.get("emails", ""))
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"{address!r} is not an e-mail address") from None
        return ", ".join(addresses)

    def clean(self):
        data = super().clean()
        limited = self.scope is not None and not self.scope.is_administrator
        if limited and data.get("scope") not in (Scope.SITE, Scope.PERSON):
            self.add_error("scope", "A site administrator's rule watches one of their sites or one person.")
        return data

    def error_text(self) -> str:
        """The form's errors on one line, each after the name of its field."""
        parts = []
        for name, errors in self.errors.items():
            text = ", ".join(str(e).rstrip(".") for e in errors)
            parts.append(text if name == "__all__" else f"{name.replace('_', '-')}: {text}")
        return "; ".join(parts)
