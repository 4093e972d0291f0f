"""The one form a site is entered with: the web's site pages, the setup wizard and `calltally site add|set`.

Everything a site must satisfy is checked here and in ``Site.clean`` (which the form runs), so a
site the CLI refuses is refused on the web with the same words, and the other way round. The CLI
fills the form's data from its options (:meth:`SiteForm.data_of` gives a stored site's values as
the form posts them) and reports the form's errors.
"""

from __future__ import annotations

import json
import re
import zoneinfo

from django import forms

from calltally.drivers import registry

from .models import Site

# The order the fields are shown in, and the groups the setup wizard asks them in.
IDENTITY = ("code", "name")
PBX = ("driver", "driver_options")
NUMBERING = ("import_internal", "internal_digits_min", "internal_digits_max", "internal_pattern", "auto_acquire",
             "merge_legs", "transfer_billing")
LOCALE = ("country", "area_code", "timezone", "currency", "access_codes")
STATE = ("enabled",)
FIELDS = (*IDENTITY, *PBX, *NUMBERING, *LOCALE, *STATE)
GROUPS = (("Site", IDENTITY), ("PBX", PBX), ("Extensions and internal calls", NUMBERING),
          ("Country, time and money", LOCALE), ("State", STATE))
# Addresses under /sites/ that are pages, not sites.
RESERVED_CODES = ("add",)
BOOLEANS = ("import_internal", "auto_acquire", "merge_legs", "enabled")


def driver_choices() -> list[tuple[str, str]]:
    """Each driver as "Brand — models (name)", by brand: what a person setting up a PBX looks for."""
    drivers = sorted(registry().values(), key=lambda cls: (cls.brand.lower(), cls.name))
    return [("", "Choose the PBX…")] + [
        (cls.name, f"{cls.brand} — {cls.models} ({cls.name})") for cls in drivers]


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def access_code_list(text: str) -> list[str]:
    """``"0, 9"`` (commas or spaces) as ``["0", "9"]``."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


class SiteForm(forms.ModelForm):
    """A site's settings; ``Site.clean`` checks them as a whole (driver options with the driver,
    the extension plan, the codes)."""

    # Text fields shown as lists: an unknown value gets the model's message, the one the CLI prints.
    driver = forms.CharField(label="PBX brand and model (driver)", widget=forms.Select(choices=driver_choices))
    driver_options = forms.JSONField(
        label="Driver options", required=False, initial=dict,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='A JSON object, e.g. {"delimiter": ";"}; most PBXs need none. See <code>calltally drivers</code>.')
    timezone = forms.CharField(label="Time zone", widget=forms.Select(choices=timezone_choices), initial="UTC",
                                 help_text="Calls are shown in the site's own time, with the offset.")
    access_codes = forms.CharField(
        label="Outside-line access codes", required=False,
        help_text="Digits dialled before an outside number, e.g. 0 or 9; several separated by commas.")

    class Meta:
        model = Site
        fields = FIELDS
        labels = {
            "code": "Code", "name": "Name", "country": "Country (ISO code)", "area_code": "Local area code",
            "currency": "Currency (ISO code)", "import_internal": "Import internal calls (extension to extension)",
            "internal_digits_min": "Extension digits, fewest", "internal_digits_max": "Extension digits, most",
            "internal_pattern": "Extension pattern (regular expression)",
            "auto_acquire": "Create unknown extensions automatically", "merge_legs": "Merge the records of one call",
            "transfer_billing": "Who pays for a transferred call", "enabled": "Enabled",
        }
        help_texts = {
            "code": "1 to 32 letters, digits, - or _. It names the site's spool folder and cannot change later.",
        }

    rest_legend = "More"  # the group of the fields a page adds

    def __init__(self, *args, scope=None, **kwargs):
        self.scope = scope
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The code names the spool folder and every record's place in it.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "The code names the site's spool folder: it cannot change."
            self.initial["access_codes"] = ", ".join(self.instance.access_codes or [])
        else:
            self.initial.setdefault("access_codes", "")

    @property
    def groups(self) -> list[dict]:
        """The form's fields in the groups a page shows them in; fields a page adds come last."""
        shown, grouped = [], set()
        for legend, names in GROUPS:
            fields = [self[name] for name in names if name in self.fields]
            grouped.update(names)
            if fields:
                shown.append({"legend": legend, "fields": fields})
        rest = [self[name] for name in self.fields if name not in grouped]
        if rest:
            shown.append({"legend": self.rest_legend, "fields": rest})
        return shown

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code", "")
        if code in RESERVED_CODES:
            raise forms.ValidationError(f"{code!r} names a page of the site list; choose another code.")
        return code

    def clean_access_codes(self) -> list[str]:
        return access_code_list(self.cleaned_data.get("access_codes", ""))

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean_driver_options(self):
        value = self.cleaned_data.get("driver_options")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Give a JSON object, such as {"delimiter": ";"}.')
        return value

    @staticmethod
    def data_of(site: Site) -> dict:
        """A site's stored values as the form posts them: the base the CLI lays its options over."""
        data = {}
        for name in FIELDS:
            value = getattr(site, name)
            if name == "driver_options":
                value = json.dumps(value or {})
            elif name == "access_codes":
                value = ", ".join(value or [])
            elif name in BOOLEANS:
                value = "true" if value else "false"
            data[name] = "" if value is None else str(value)
        return data


def errors_text(form: forms.Form) -> str:
    """A form's errors on one line, each field named as the CLI names it: for a command's error."""
    parts = []
    for field, messages in form.errors.items():
        text = " ".join(str(message) for message in messages)
        parts.append(text if field == "__all__" else f"{field}: {text}")
    return "; ".join(parts)
