"""The Retention and privacy page (administrators only): the retention limits and the last runs,
and the data-subject requests — export everything about one person or one number as a JSON
download, or erase it (confirmed in the browser first). Every request is audited by the service."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from calltally.system.models import RetentionSettings
from calltally.webkit.views import Page

from . import services, subjects
from .forms import SubjectForm


class OverviewView(Page):
    title = "Retention and privacy"
    audience = "administrator"
    template_name = "privacy/overview.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def get(self, request):
        return self.show()

    def show(self, status: int = 200, export_form=None, erase_form=None):
        return render(self.request, self.template_name, self.context(
            retention=RetentionSettings.load(), runs=list(services.last_runs()),
            export_form=export_form or SubjectForm(prefix="export"),
            erase_form=erase_form or SubjectForm(prefix="erase"), server_zone=settings.TIME_ZONE,
        ), status=status)


class ExportView(OverviewView):
    """POST: the subject's data as a JSON file to download."""

    def get(self, request):
        return HttpResponseRedirect(reverse("privacy:overview"))

    def post(self, request):
        form = SubjectForm(request.POST, prefix="export")
        if not form.is_valid():
            messages.error(request, "Nothing was exported: correct the fields marked below.")
            return self.show(status=400, export_form=form)
        found = subjects.find(person=form.cleaned_data["person"], number=form.cleaned_data["number"])
        body = subjects.export_json(found, request=request, via="web")
        name = f"privacy-{found.subject}-{timezone.now():%Y%m%d-%H%M%S}.json"
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class EraseView(OverviewView):
    """POST: erase the subject's data, then back to the page with what was erased."""

    def get(self, request):
        return HttpResponseRedirect(reverse("privacy:overview"))

    def post(self, request):
        form = SubjectForm(request.POST, prefix="erase")
        if not form.is_valid():
            messages.error(request, "Nothing was erased: correct the fields marked below.")
            return self.show(status=400, erase_form=form)
        found = subjects.find(person=form.cleaned_data["person"], number=form.cleaned_data["number"])
        counts = subjects.erase(found, request=request, via="web")
        messages.success(request, f"Erased {found.label}: {counts['calls']} calls ({counts['call_rows']} rows with "
                                  f"legs), {counts['discarded_calls']} discarded calls, "
                                  f"{counts['raw_records_blanked']} raw records blanked.")
        return HttpResponseRedirect(reverse("privacy:overview"))
