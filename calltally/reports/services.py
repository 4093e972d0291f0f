"""Remembered and saved report options (calltally.reports.models.SavedReport)."""

from __future__ import annotations

from django import forms

from calltally.accounts.scope import Scope

from .catalogue import REPORTS
from .models import SavedReport
from .options import OptionsError, ReportOptions, validate


def remember(user, options: ReportOptions) -> None:
    """Keep ``options`` as the account's last used ones (one row per account)."""
    SavedReport.objects.update_or_create(user=user, name="", defaults={"report": "", "options": options.to_dict()})


def remembered(user, scope: Scope) -> ReportOptions | None:
    """The account's last options, validated again (None if none, or if they no longer hold)."""
    saved = SavedReport.objects.filter(user=user, name="").first()
    if saved is None:
        return None
    try:
        return load(saved, scope)
    except OptionsError:
        return None


def load(saved: SavedReport, scope: Scope) -> ReportOptions:
    """A saved report's options through the options form; raises OptionsError when they no longer
    validate for this account (a cost center deleted, a site no longer run)."""
    return validate(ReportOptions.from_dict(saved.options).to_query(), scope)


def saved_reports(user):
    return SavedReport.objects.filter(user=user).exclude(name="")


class SaveReportForm(forms.Form):
    """A name to keep a report and its options under (one name, one report, per account)."""

    name = forms.CharField(label="Name", max_length=100)
    report = forms.ChoiceField(label="Report", choices=())

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.fields["report"].choices = [(r.name, r.title) for r in REPORTS.values()]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the report a name.")
        return name

    def save(self, options: ReportOptions) -> SavedReport:
        saved, _ = SavedReport.objects.update_or_create(
            user=self.user, name=self.cleaned_data["name"],
            defaults={"report": self.cleaned_data["report"], "options": options.to_dict()})
        return saved
