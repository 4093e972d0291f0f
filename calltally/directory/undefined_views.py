"""*Extensions not defined*: the numbers calls were discarded for as "extension not configured",
per site, and their creation in one step followed by a reprocess run.

The list is ``calltally extensions undefined``'s (:func:`calltally.calls.services.undefined_extensions`);
each extension is created by the directory's own :class:`~calltally.directory.forms.ExtensionForm`
(the form of the extension pages, the CLI and the importers), audited one by one; the site's
discarded calls are then reprocessed as a background job (:mod:`calltally.jobs`).
"""

from __future__ import annotations

from urllib.parse import urlencode

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django_tables2 import RequestConfig

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.choices import DiscardReason
from calltally.calls.services import UndefinedExtension, undefined_extensions
from calltally.jobs import services as jobs
from calltally.jobs.models import Job, Kind, State
from calltally.sites.models import Site
from calltally.webkit import display
from calltally.webkit.export import csv_response
from calltally.webkit.tables import NUM, BaseTable
from calltally.webkit.views import DEFAULT_PER_PAGE, PER_PAGE_CHOICES, ObjectListView, Page

from .forms import CodeChoiceField, ExtensionForm
from .models import CostCenter, Person

REASON = DiscardReason.EXTENSION_NOT_CONFIGURED


def row_key(row: UndefinedExtension) -> str:
    """What a row's box posts: ``SITE:number`` (a site code holds no colon)."""
    return f"{row.site}:{row.number}"


class UndefinedTable(BaseTable):
    """One undefined extension a row: a box to tick it (not for one defined since), its site and
    number, its discarded calls, and when they were made (the site's time zone, with the offset)."""

    pk = tables.CheckBoxColumn(accessor="key", orderable=False, exclude_from_export=True, attrs={
        "th__input": {"data-select-all": "", "aria-label": "Select every extension shown"},
        "td__input": {"aria-label": "Select this extension"},
    })
    site = tables.Column(verbose_name="Site")
    number = tables.Column(verbose_name="Extension")
    calls = tables.Column(verbose_name="Discarded calls", attrs=NUM)
    first_seen = tables.Column(verbose_name="First seen")
    last_seen = tables.Column(verbose_name="Last seen")
    status = tables.Column(verbose_name="Status", accessor="configured", orderable=False)

    class Meta(BaseTable.Meta):
        order_by = ("site", "number")

    def render_pk(self, value, record):
        if record["configured"]:
            return ""  # defined since: nothing to create, its calls wait for a reprocess run
        return format_html('<input type="checkbox" name="pk" value="{}" aria-label="Select {} on {}">',
                           value, record["number"], record["site"])

    def render_first_seen(self, value, record):
        return display.local_time(value, record["zone"])

    def render_last_seen(self, value, record):
        return display.local_time(value, record["zone"])

    def render_status(self, value):
        if value:
            return display.badge("warning", "defined since: reprocess")
        return display.badge("no", "not defined")

    def value_status(self, value):
        return "defined since, waiting for a reprocess run" if value else "not defined"


class UndefinedFilterForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), to_field_name="code", required=False, empty_label="Any site",
                                  label="Site")
    number = forms.CharField(required=False, label="Extension contains", max_length=32)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(scope.sites()).order_by("code")


class CreateForm(forms.Form):
    """Who the new extensions belong to: a person and a cost center, either or both left empty
    (unassigned). The ticked rows come as ``pk`` values."""

    person = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person",
                             label="Person (username)", widget=forms.TextInput(
                                 attrs={"autocomplete": "off", "spellcheck": "false", "list": "undefined-people"}),
                             help_text="Empty: the extensions are unassigned.")
    cost_center = CodeChoiceField(CostCenter.objects.order_by("code"), required=False, noun="cost center",
                                  label="Cost center", empty_label="— none —",
                                  help_text="Empty: the person's cost center, or none.")

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        if not scope.is_administrator:
            # As on the extension pages: a site administrator gives extensions to their sites' people.
            self.fields["person"].queryset = Person.objects.filter(scope.sites(field="site"))
        self.fields["cost_center"].label_from_instance = lambda center: f"{center.code} — {center.name}"


class UndefinedListView(Page):
    """Extensions not defined, per site; tick some, give them an owner (or not), *Create and
    reprocess*. Administrators and site administrators, each on the sites they run."""

    title = "Extensions not defined"
    audience = "runs-sites"
    template_name = "directory/undefined_list.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def rows(self, filters: UndefinedFilterForm) -> list[dict]:
        """The rows the account sees, filtered: one aggregate query (the CLI's), and one for the zones."""
        site = filters.cleaned_data.get("site") if filters.is_valid() else None
        number = (filters.cleaned_data.get("number") or "").strip() if filters.is_valid() else ""
        found = undefined_extensions(site)
        if not self.scope.is_administrator:
            found = [row for row in found if row.site_id in (self.scope.site_ids or ())]
        if number:
            found = [row for row in found if number in row.number]
        zones = dict(Site.objects.filter(pk__in={row.site_id for row in found}).values_list("pk", "timezone"))
        return [{"key": row_key(row), "site_id": row.site_id, "site": row.site, "number": row.number,
                 "calls": row.calls, "first_seen": row.first_seen, "last_seen": row.last_seen,
                 "configured": row.configured, "zone": zones.get(row.site_id)} for row in found]

    def get(self, request):
        return self.show(CreateForm(scope=self.scope))

    def show(self, form, status: int = 200):
        request = self.request
        filters = UndefinedFilterForm(request.GET or None, scope=self.scope)
        rows = self.rows(filters)
        table = UndefinedTable(rows, request=request)
        if request.GET.get("export") == "csv":
            audit.record(request, Action.EXPORT, what="undefined extensions", query=request.GET.urlencode())
            return csv_response(table, rows, "undefined-extensions.csv")
        RequestConfig(request, paginate={"per_page": ObjectListView.per_page(request) or DEFAULT_PER_PAGE}).configure(
            table)
        waiting = sorted({(row["site_id"], row["site"]) for row in rows if row["configured"]}, key=lambda s: s[1])
        people = Person.objects.filter(active=True)
        if not self.scope.is_administrator:
            people = people.filter(self.scope.sites(field="site"))
        return render(request, self.template_name, self.context(
            table=table, filters=filters, form=form, has_rows=bool(rows),
            creatable=any(not row["configured"] for row in rows),
            filtered=any(request.GET.get(name) for name in ("site", "number")),
            waiting_sites=[code for _, code in waiting], reason=REASON.value,
            people=people.order_by("username").values_list("username", "last_name", "first_name")[:500],
            export_url="?" + urlencode({**request.GET.dict(), "export": "csv"}),
            active_jobs=self.active_jobs(), per_page_choices=PER_PAGE_CHOICES,
        ), status=status)

    def active_jobs(self) -> list[Job]:
        """The reprocess runs already queued or running on the account's sites (one query)."""
        queued = Job.objects.filter(kind=Kind.REPROCESS, state__in=(State.QUEUED, State.RUNNING)).select_related(
            "site")
        if not self.scope.is_administrator:
            queued = queued.filter(self.scope.sites("site"))
        return list(queued.order_by("created")[:10])

    def post(self, request):
        form = CreateForm(request.POST, scope=self.scope)
        chosen = [key for key in request.POST.getlist("pk") if key]
        if not chosen:
            form.is_valid()
            form.add_error(None, "Tick the extensions to create.")
        if not form.is_valid():
            return self.show(form, status=400)
        wanted: dict[str, set[str]] = {}
        for key in chosen:
            code, _, number = key.partition(":")
            wanted.setdefault(code, set()).add(number)
        sites = {site.code: site for site in Site.objects.filter(code__in=wanted)}
        for code in wanted:
            site = sites.get(code)
            if site is None or not self.scope.may_operate(site):
                raise PermissionDenied(f"Your account does not run site {code}.")
        created, skipped, submitted = self.create(request, sites, wanted, form)
        for label, reason in skipped:
            messages.error(request, f"{label} was not created: {reason}")
        if created:
            messages.success(request, f"Created {len(created)} extension{'s' if len(created) > 1 else ''}: "
                                      f"{', '.join(created)}.")
        for job, refusal in submitted:
            if job is not None:
                messages.success(request, f"Reprocess run queued as job #{job.pk} ({job.scope_text()}): "
                                          "their discarded calls become calls.")
            else:
                messages.info(request, refusal)
        jobs_made = [job for job, _ in submitted if job is not None]
        if len(jobs_made) == 1:
            return HttpResponseRedirect(reverse("jobs:job_detail", args=[jobs_made[0].pk]))
        return HttpResponseRedirect(request.get_full_path())

    def create(self, request, sites: dict[str, Site], wanted: dict[str, set[str]], form: CreateForm):
        """Create the ticked extensions that are still undefined, each through the directory's
        form; then a reprocess run for each site that gained one. Returns (created labels,
        (label, reason) skipped, (job or None, refusal) submitted)."""
        person = form.cleaned_data.get("person")
        center = form.cleaned_data.get("cost_center")
        created, skipped, touched = [], [], []
        for code, numbers in sorted(wanted.items()):
            site = sites[code]
            undefined = {row.number for row in undefined_extensions(site) if not row.configured}
            made = 0
            for number in sorted(numbers):
                label = f"{number}@{code}"
                if number not in undefined:
                    skipped.append((label, "it is not an undefined extension of the site (any more)"))
                    continue
                extension_form = ExtensionForm({
                    "site": code, "number": number, "person": person.username if person else "",
                    "cost_center": center.code if center else "", "billing_enabled": True, "aliases": "",
                }, scope=self.scope)
                if not extension_form.is_valid():
                    skipped.append((label, extension_form.error_text()))
                    continue
                with transaction.atomic():
                    extension = extension_form.save()
                audit.record(request, Action.CREATE, obj=extension, after=audit.snapshot(extension),
                             via="extensions not defined")
                created.append(label)
                made += 1
            if made:
                touched.append(site)
        submitted = []
        for site in touched:
            try:
                submitted.append((jobs.submit(Kind.REPROCESS, site, reason=REASON.value, user=request.user,
                                              request=request), ""))
            except jobs.JobRefused as exc:
                # A run already queued sees the new extensions when it starts; one running may not.
                submitted.append((None, f"Site {site.code}: {exc} If it was running already, reprocess again "
                                        "once it has finished to make the rest of the calls."))
        return created, skipped, submitted
