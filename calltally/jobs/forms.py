"""The forms that ask for a background job: the account chooses among the sites it may operate."""

from __future__ import annotations

from django import forms

from calltally.calls.choices import DiscardReason
from calltally.sites.models import Site

from . import services
from .models import Kind


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, site: Site) -> str:
        return f"{site.code} — {site.name}"


def operated_sites(scope):
    return Site.objects.filter(scope.sites()).order_by("code")


class JobForm(forms.Form):
    """What a job works on. The site is one the account may operate (a code, as in the links other
    pages make: ``?site=HQ``); only an administrator may leave it empty for every site."""

    kind = Kind.RECALCULATE

    site = SiteChoiceField(queryset=Site.objects.none(), to_field_name="code", required=False,
                           empty_label="Every site")

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        field = self.fields["site"]
        field.queryset = operated_sites(scope)
        if not scope.is_administrator:
            field.required = True
            field.empty_label = None

    def clean_site(self):
        site = self.cleaned_data.get("site")
        if site is None and not self.scope.is_administrator:
            raise forms.ValidationError("Choose one of your sites.")
        if site is not None and not self.scope.may_operate(site):
            raise forms.ValidationError("Your account does not operate this site.")
        return site

    def job_values(self) -> dict:
        return {}

    def submit(self, request):
        """Queue the job (audited); a refusal (the same job waits already) becomes the form's error."""
        try:
            return services.submit(self.kind, self.cleaned_data.get("site"), user=request.user, request=request,
                                   **self.job_values())
        except services.JobRefused as exc:
            self.add_error(None, str(exc))
            return None


class RecalculateForm(JobForm):
    """Recalculate a period's calls: the local days of each site, both included, either open."""

    first = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="First day, in the site's time zone. Empty: from the first call.")
    last = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                           help_text="Last day, included. Empty: up to the newest call.")

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last and last < first:
            self.add_error("last", "The period ends before it starts.")
        return cleaned

    def job_values(self) -> dict:
        return {"first": self.cleaned_data.get("first"), "last": self.cleaned_data.get("last")}


class ReprocessForm(JobForm):
    """Reprocess a site's discarded calls, of one reason or all."""

    kind = Kind.REPROCESS

    reason = forms.ChoiceField(label="Reason", required=False,
                               choices=[("", "Every reason"), *DiscardReason.choices])

    def job_values(self) -> dict:
        return {"reason": self.cleaned_data.get("reason") or ""}
