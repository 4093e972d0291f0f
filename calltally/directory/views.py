"""The directory's pages: people, extensions, cost centers, account codes, and their imports.

Who sees what (docs/accounts.md): administrators everything; a site administrator the
people, extensions and account codes of their sites (and changes them), the account codes
valid on every site (read only) and the cost center tree (read only — it is CallTally-wide
configuration); managers and users none of these pages.

Every form is the one the command line validates with (``forms.py``), every import runs the
importer ``calltally users import`` / ``calltally accounts import`` run (``importers.py``).
"""

from __future__ import annotations

import copy
import io
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Prefetch, Q, Value, When
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.webkit.views import (
    BulkDeleteView,
    BulkEditView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    Page,
)

from . import importers
from .filtersets import (
    AccountCodeFilterSet,
    CostCenterFilterSet,
    ExtensionFilterSet,
    PersonFilterSet,
    readable_codes,
)
from .forms import (
    AccountCodeBulkForm,
    AccountCodeForm,
    CostCenterForm,
    CostCenterMoveForm,
    ExtensionBulkForm,
    ExtensionForm,
    PersonBulkForm,
    PersonForm,
)
from .models import AccountCode, CostCenter, Extension, ExtensionAlias, Person
from .services import remove_person, tree_order
from .tables import AccountCodeTable, CostCenterTable, ExtensionTable, PersonTable
from .tabular import FORMATS, MAX_FILE_BYTES, FileRefused, read_table, write_table

# --- after a change that affects costs ---------------------------------------------------


def offer_recalculation(request, sites, why: str) -> None:
    """Tell the account that calls already priced keep what they had, with a link to recalculate
    them from the first day of the current month (in each site's own time zone) — the period a
    change usually applies to; the recalculation page lets the account choose another start.
    ``sites``: the sites concerned (an empty list: every site)."""
    try:
        base = reverse("jobs:recalculate")
    except NoReverseMatch:
        return  # no recalculation page in this installation
    sites = sorted({s for s in sites if s is not None}, key=lambda s: s.code)
    if not sites:
        first = timezone.now().date().replace(day=1)
        links = [(f"{base}?{urlencode({'from': first.isoformat()})}", "every site", first.isoformat())]
    else:
        links = []
        for site in sites:
            first = timezone.now().astimezone(site.zone).date().replace(day=1)
            links.append((f"{base}?{urlencode({'site': site.code, 'from': first.isoformat()})}", site.code,
                          first.isoformat()))
    offers = format_html_join(", ", '<a href="{}" class="alert-link">recalculate {} from {}</a>', links)
    messages.info(request, format_html("{} Calls already priced keep what they had: {}.", why, offers))


# --- what every directory page shares ----------------------------------------------------


class DirectoryPage(Page):
    """A directory page: for the accounts that run sites; rows of the sites they run."""

    audience = "runs-sites"

    def scoped(self, queryset):
        if self.scope.is_administrator:
            return queryset
        if not self.scope.runs_sites:
            return queryset.none()
        return queryset.filter(self.scope.sites(field="site"))

    def may_add(self) -> bool:
        # A site administrator adds people, extensions and codes to their own sites (the form
        # offers only those).
        return self.scope.runs_sites

    def may_change(self, obj=None) -> bool:
        # Asked of the list as a whole (bulk actions): a site administrator changes some rows.
        if obj is None:
            return self.scope.runs_sites
        return self.scope.may_configure(self.site_of(obj))


class PersonPage(DirectoryPage):
    model = Person
    url_base = "directory:person"

    def base_queryset(self):
        return Person.objects.select_related("site", "cost_center", "manager")


class ExtensionPage(DirectoryPage):
    model = Extension
    url_base = "directory:extension"

    def base_queryset(self):
        return Extension.objects.select_related("site", "person", "cost_center")


class CostCenterPage(DirectoryPage):
    """The cost center tree is CallTally-wide: every account that runs sites reads it; only
    administrators change it."""

    model = CostCenter
    url_base = "directory:costcenter"

    def scoped(self, queryset):
        return queryset if self.scope.runs_sites else queryset.none()

    def may_add(self) -> bool:
        return self.scope.is_administrator

    def may_change(self, obj=None) -> bool:
        return self.scope.is_administrator

    def site_of(self, obj):
        return None

    def base_queryset(self):
        return CostCenter.objects.select_related("parent", "manager")


class AccountCodePage(DirectoryPage):
    """A site administrator sees their sites' codes and those valid on every site; changes only
    their sites' (a code for every site is an administrator's)."""

    model = AccountCode
    url_base = "directory:accountcode"

    def scoped(self, queryset):
        if self.scope.is_administrator:
            return queryset
        if not self.scope.runs_sites:
            return queryset.none()
        return queryset.filter(self.scope.sites(field="site") | Q(site__isnull=True))

    def base_queryset(self):
        return AccountCode.objects.select_related("site", "cost_center")

    def chosen(self, request):
        """The ticked codes; a refusal names no code (one shown as its description is a PIN)."""
        pks = [pk for pk in request.POST.getlist("pk") if pk]
        objects = list(self.get_queryset().filter(pk__in=pks))
        if not objects:
            raise Http404("No account codes chosen.")
        if not all(self.may_change(obj) for obj in objects):
            raise PermissionDenied("Codes valid on every site are changed by an administrator; untick them.")
        return objects


# --- people ------------------------------------------------------------------------------


class PersonListView(PersonPage, ObjectListView):
    title = "People"
    table_class = PersonTable
    filterset_class = PersonFilterSet
    empty_hint = ("Add people one by one, import a CSV or XLSX file of them with their extensions, "
                  "or sync them from LDAP (calltally ldap sync).")

    def base_queryset(self):
        return super().base_queryset().prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.select_related("site").order_by("number")))


class PersonDetailView(PersonPage, ObjectDetailView):
    template_name = "directory/person_detail.html"

    def extra_context(self, person):
        extensions = list(person.extensions.select_related("site", "cost_center").prefetch_related(
            Prefetch("aliases", queryset=ExtensionAlias.objects.order_by("number"))))
        accounts = list(person.accounts.select_related("user"))
        return {
            "title": f"{person.full_name} ({person.username})" if person.full_name != person.username
            else person.username,
            "extensions": extensions,
            "accounts": [(account, _url("accounts:account_edit", account.pk)) for account in accounts],
            "account_add_url": _url("accounts:account_add", query={"person": person.username}),
            "calls_url": _url("calls:call_list", query={"person": person.username}),
            "reports": person.reports.order_by("username")[:50],
            "synced_fields": sorted(person.synced_fields),
            "extension_add_url": self.url_extension_add(person),
        }

    def url_extension_add(self, person):
        if not self.may_change(person):
            return None
        return _url("directory:extension_add", query={"person": person.username,
                                                      "site": person.site.code if person.site else ""})


def _url(name: str, *args, query: dict | None = None) -> str | None:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


class PersonEditView(PersonPage, ObjectEditView):
    form_class = PersonForm

    def get_object(self, **kwargs):
        obj = super().get_object(**kwargs)
        self.before = copy.copy(obj) if obj is not None else None
        return obj

    def after_save(self, person, created):
        if self.before is not None and self.before.cost_center_id != person.cost_center_id:
            offer_recalculation(self.request, [person.site] if person.site else [],
                                f"{person.username}'s cost center changed.")


class PersonDeleteView(PersonPage, ObjectDeleteView):
    """A person whose calls are theirs is made inactive instead, so the calls stay theirs (as the
    people import's ``--delete-existing`` does)."""

    template_name = "directory/person_delete.html"

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, has_calls=has_calls(self.object),
            cancel_url=self.url("detail", self.object.pk)))

    def post(self, request, **kwargs):
        person = self.get_object(**kwargs)
        before = audit.snapshot(person)
        name = str(person)
        with transaction.atomic():
            deleted = remove_person(person)
        if deleted:
            audit.record(request, Action.DELETE, obj=person, before=before, text=name)
            messages.success(request, f"Person {name} deleted.")
            return HttpResponseRedirect(self.url("list"))
        audit.record(request, Action.UPDATE, obj=person, before=before, after=audit.snapshot(person),
                     reason="has calls: made inactive instead of deleted")
        messages.success(request, f"{name} has calls, so they were made inactive (their extensions released) "
                                  "rather than deleted; their calls stay theirs.")
        return HttpResponseRedirect(self.url("detail", person.pk))


def has_calls(person: Person) -> bool:
    return Person.objects.filter(pk=person.pk, calls__isnull=False).exists()


class PersonBulkDeleteView(PersonPage, BulkDeleteView):
    template_name = "directory/person_bulk_delete.html"

    def post(self, request):
        people = self.chosen(request)
        if "confirm" not in request.POST:
            with_calls = set(Person.objects.filter(pk__in=[p.pk for p in people], calls__isnull=False)
                             .values_list("pk", flat=True).distinct())
            return render(request, self.template_name, self.context(
                objects=people, with_calls=[p for p in people if p.pk in with_calls], cancel_url=self.url("list")))
        deleted = deactivated = 0
        for person in people:
            before = audit.snapshot(person)
            name = str(person)
            with transaction.atomic():
                gone = remove_person(person)
            if gone:
                deleted += 1
                audit.record(request, Action.DELETE, obj=person, before=before, text=name)
            else:
                deactivated += 1
                audit.record(request, Action.UPDATE, obj=person, before=before, after=audit.snapshot(person),
                             reason="has calls: made inactive instead of deleted")
        parts = []
        if deleted:
            parts.append(f"{deleted} deleted")
        if deactivated:
            parts.append(f"{deactivated} made inactive (they have calls, which stay theirs)")
        messages.success(request, f"People: {', '.join(parts)}.")
        return HttpResponseRedirect(self.url("list"))


class CostAwareBulkEditView(BulkEditView):
    """Bulk edit that offers to recalculate when the form says costs are affected
    (``form.cost_sites``: the sites concerned, set by ``apply``)."""

    def after_apply(self, request, form) -> None:
        if form.cost_sites is not None:
            offer_recalculation(request, form.cost_sites, "Costs of the changed rows may differ.")


class PersonBulkEditView(PersonPage, CostAwareBulkEditView):
    form_class = PersonBulkForm


# --- extensions --------------------------------------------------------------------------


class ExtensionListView(ExtensionPage, ObjectListView):
    title = "Extensions"
    table_class = ExtensionTable
    filterset_class = ExtensionFilterSet
    empty_hint = ("Add extensions here, import them with their people, or create them from the calls "
                  "that were discarded for them (Extensions not defined).")

    def base_queryset(self):
        return super().base_queryset().prefetch_related(
            Prefetch("aliases", queryset=ExtensionAlias.objects.order_by("number")))


class ExtensionDetailView(ExtensionPage, ObjectDetailView):
    template_name = "directory/extension_detail.html"

    def extra_context(self, extension):
        return {
            "title": f"Extension {extension.number} on {extension.site.code}",
            "aliases": list(extension.aliases.order_by("number")),
            "calls_url": _url("calls:call_list", query={"site": extension.site.code,
                                                         "extension": extension.number}),
            "charged_to": extension.cost_center or (extension.person.cost_center if extension.person else None),
        }


class ExtensionEditView(ExtensionPage, ObjectEditView):
    form_class = ExtensionForm

    def make_form(self, data=None, files=None):
        form = super().make_form(data, files)
        if self.object is None and data is None:
            # "Add an extension" from a person's page names them.
            for name in ("person", "site", "number"):
                if self.request.GET.get(name):
                    form.initial[name] = self.request.GET[name]
        return form

    def get_object(self, **kwargs):
        obj = super().get_object(**kwargs)
        self.before = copy.copy(obj) if obj is not None else None
        return obj

    def after_save(self, extension, created):
        before = self.before
        if before is not None and (before.cost_center_id != extension.cost_center_id
                                   or before.person_id != extension.person_id):
            offer_recalculation(self.request, [extension.site],
                                f"Extension {extension.number}'s owner or cost center changed.")


class ExtensionDeleteView(ExtensionPage, ObjectDeleteView):
    template_name = "directory/extension_delete.html"


class ExtensionBulkDeleteView(ExtensionPage, BulkDeleteView):
    pass


class ExtensionBulkEditView(ExtensionPage, CostAwareBulkEditView):
    form_class = ExtensionBulkForm


# --- cost centers ------------------------------------------------------------------------


class CostCenterListView(CostCenterPage, ObjectListView):
    title = "Cost centers"
    table_class = CostCenterTable
    filterset_class = CostCenterFilterSet
    bulk_actions = ()
    empty_hint = "Add the cost centers calls are charged to: a tree of any depth (a company, its departments…)."

    def base_queryset(self):
        return super().base_queryset().annotate(
            people_count=Count("people", distinct=True), extension_count=Count("extensions", distinct=True))

    def table_data(self, queryset):
        # Shown as a tree, each below its parent; sorting by a column shows the rows flat.
        if self.request.GET.get("sort"):
            return queryset
        return tree_order(list(queryset))


class CostCenterDetailView(CostCenterPage, ObjectDetailView):
    template_name = "directory/costcenter_detail.html"

    def extra_context(self, center):
        children = list(center.children.annotate(people_count=Count("people")).order_by("code"))
        people = center.people.filter(self.people_scope()).select_related("site").order_by("username")
        return {
            "title": f"Cost center {center.code}: {center.name}",
            "path": list(reversed(center.ancestors())),
            "children": children,
            "people": people[:100],
            "people_count": people.count(),
            "people_url": _url("directory:person_list", query={"cost_center": center.code}),
            "move_url": self.url("move", center.pk),
            "calls_url": _url("calls:call_list", query={"cost_center": center.code}),
        }

    def people_scope(self):
        return Q() if self.scope.is_administrator else self.scope.sites(field="site")


class CostCenterEditView(CostCenterPage, ObjectEditView):
    form_class = CostCenterForm


class CostCenterMoveView(CostCenterPage, ObjectEditView):
    """Another parent for a cost center (and everything below it): the CLI's
    ``calltally costcenter set CODE --parent …``, with the same refusal of loops."""

    form_class = CostCenterMoveForm
    template_name = "directory/costcenter_move.html"

    def get_object(self, **kwargs):
        obj = super().get_object(**kwargs)
        self.before = copy.copy(obj)
        return obj

    def breadcrumbs(self):
        crumbs = super().breadcrumbs()
        crumbs[-1] = ("Move", None)
        return crumbs

    def after_save(self, center, created):
        where = f"below {center.parent.code}" if center.parent else "to the top of the tree"
        messages.info(self.request, f"{center.code} moved {where}, with everything below it.")


class CostCenterDeleteView(CostCenterPage, ObjectDeleteView):
    template_name = "directory/costcenter_delete.html"

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, cancel_url=self.url("detail", self.object.pk), **self.uses(self.object)))

    @staticmethod
    def uses(center):
        return {
            "children": list(center.children.order_by("code")),
            "people_count": center.people.count(),
            "extension_count": center.extensions.count(),
            "account_count": center.account_codes.count(),
            "has_calls": CostCenter.objects.filter(pk=center.pk, calls__isnull=False).exists(),
        }

    def post(self, request, **kwargs):
        center = self.get_object(**kwargs)
        uses = self.uses(center)
        # Reports sum calls by cost center: one with calls charged to it stays.
        if uses["has_calls"] or uses["children"]:
            why = "calls are charged to it" if uses["has_calls"] else "other cost centers are below it"
            messages.error(request, f"Cost center {center.code} was not deleted: {why}.")
            return HttpResponseRedirect(self.url("detail", center.pk))
        return super().post(request, **kwargs)


# --- account codes -----------------------------------------------------------------------


class AccountCodeListView(AccountCodePage, ObjectListView):
    title = "Account codes"
    table_class = AccountCodeTable
    filterset_class = AccountCodeFilterSet
    empty_hint = ("Add the account (client-matter, PIN) codes users dial with their calls, or import a file "
                  "of them.")

    def base_queryset(self):
        # Sorting by the code must not place a code the account may not read among those it may
        # (it could be found by bisection): those sort first, all alike.
        readable = readable_codes(self.scope)
        if not readable:  # an administrator reads every code
            return super().base_queryset().annotate(code_sort=F("normalized"))
        return super().base_queryset().annotate(code_sort=Case(
            When(readable, then=F("normalized")), default=Value(""), output_field=CharField()))


class AccountCodeEditView(AccountCodePage, ObjectEditView):
    form_class = AccountCodeForm
    def detail_url(self, obj):
        return None

    def after_save(self, account, created):
        offer_recalculation(self.request, [account.site] if account.site else [],
                            f"Account code {'added' if created else 'changed'}.")


class AccountCodeDeleteView(AccountCodePage, ObjectDeleteView):
    def post(self, request, **kwargs):
        response = super().post(request, **kwargs)
        if not AccountCode.objects.filter(pk=self.object.pk).exists():
            offer_recalculation(request, [self.object.site] if self.object.site_id else [],
                                "Account code deleted.")
        return response


class AccountCodeBulkDeleteView(AccountCodePage, BulkDeleteView):
    pass


class AccountCodeBulkEditView(AccountCodePage, CostAwareBulkEditView):
    form_class = AccountCodeBulkForm


# --- imports -----------------------------------------------------------------------------

ENCODINGS = (("", "UTF-8 (or as the file says: a byte order mark)"), ("cp1252", "Windows (cp1252: Excel's plain CSV)"),
             ("latin-1", "ISO-8859-1 (Latin-1)"), ("utf-16", "UTF-16"))
# Uploads waiting for the account to confirm them are kept this long.
UPLOAD_HOURS = 24
# The preview lists every rejected row and the first others, up to this many rows.
PREVIEW_ROWS = 500


class UploadForm(forms.Form):
    file = forms.FileField(label="File (CSV, TSV or XLSX)",
                           help_text=f"Up to {MAX_FILE_BYTES // 1048576} MB; the first row names the columns.")
    encoding = forms.ChoiceField(choices=ENCODINGS, required=False, label="Text encoding (CSV and TSV)")

    def __init__(self, *args, may_delete: bool = False, delete_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if may_delete:
            self.fields["delete_existing"] = forms.BooleanField(
                required=False, label=delete_label,
                help_text="People with calls are made inactive instead, so their calls stay theirs.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"{upload.name} is {upload.size / 1048576:.1f} MB; files over "
                                        f"{MAX_FILE_BYTES // 1048576} MB are refused. Split it into smaller files.")
        return upload


class ImportView(Page):
    """Upload a file, see what each row would do (with the reasons of rejected rows, as the
    command line reports them), then confirm: nothing is written before. A file with wrong
    rows is fixed and uploaded again, or its valid rows imported alone."""

    audience = "runs-sites"
    template_name = "directory/import.html"
    kind = ""  # "people", "accounts"
    noun = ""
    key_label = ""
    may_delete_existing = False
    delete_label = ""
    export_formats = FORMATS

    def importer(self, path, name, **options):
        raise NotImplementedError

    def export_rows(self):
        raise NotImplementedError

    def may_add(self) -> bool:
        return self.scope.runs_sites

    def breadcrumbs(self):
        return [*super().breadcrumbs(), ("Import", None)]

    def sites(self):
        return None if self.scope.is_administrator else frozenset(self.scope.site_ids or ())

    def session_key(self) -> str:
        return f"directory-import:{self.kind}"

    def upload_form(self, data=None, files=None):
        return UploadForm(data, files, may_delete=self.may_delete_existing and self.scope.is_administrator,
                          delete_label=self.delete_label)

    def get(self, request):
        if request.GET.get("export") in self.export_formats:
            return self.export(request, request.GET["export"])
        return self.show(self.upload_form())

    def show(self, form, status=200, **extra):
        return render(self.request, self.template_name, self.context(
            form=form, noun=self.noun, key_label=self.key_label, list_url=self.url("list"),
            export_links=[(f, f"?export={f}") for f in self.export_formats], **extra), status=status)

    def post(self, request):
        if "confirm" in request.POST:
            return self.confirm(request)
        form = self.upload_form(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(form, status=400)
        upload = form.cleaned_data["file"]
        path = self.keep(upload)
        options = {"encoding": form.cleaned_data.get("encoding") or None,
                   "delete_existing": bool(form.cleaned_data.get("delete_existing"))}
        try:
            report = self.run(path, upload.name, options, dry_run=True)
            table = read_table(path, options["encoding"])
        except FileRefused as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", str(exc))
            return self.show(form, status=400)
        token = secrets.token_urlsafe(16)
        request.session[self.session_key()] = {"token": token, "path": str(path), "name": upload.name,
                                               "options": options}
        return self.show(self.upload_form(), preview=report, rows=self.preview_rows(report, table),
                         headers=table.headers, token=token, counts=counts(report))

    def run(self, path, name, options, dry_run: bool, skip_invalid: bool = False):
        return self.importer(path, name, dry_run=dry_run, skip_invalid=skip_invalid, sites=self.sites(),
                             **options)

    def confirm(self, request):
        pending = request.session.get(self.session_key())
        if not pending or pending["token"] != request.POST.get("token") or not Path(pending["path"]).exists():
            messages.error(request, "That upload is no longer waiting to be imported; upload the file again.")
            return HttpResponseRedirect(self.url("import"))
        path = Path(pending["path"])
        skip_invalid = request.POST.get("confirm") == "valid-rows"
        try:
            report = self.run(path, pending["name"], pending["options"], dry_run=False, skip_invalid=skip_invalid)
        except FileRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(self.url("import"))
        finally:
            path.unlink(missing_ok=True)
            request.session.pop(self.session_key(), None)
        summary = counts(report)
        audit.record(request, Action.CONFIGURATION, what=f"{self.noun} import", file=pending["name"],
                     applied=report.applied, skip_invalid=skip_invalid, error=report.error,
                     **{k: v for k, v in summary.items() if k != "rows"},
                     rejected_rows=[{"row": o.row, "reason": o.reason} for o in report.rejected[:200]])
        if report.applied and (summary["inserted"] or summary["updated"] or summary["deleted"]):
            self.after_import(report)
        return self.show(self.upload_form(), result=report, counts=summary,
                         rejected=report.rejected[:PREVIEW_ROWS])

    def after_import(self, report) -> None:
        """What to tell the account once rows were written."""

    def preview_rows(self, report, table) -> list[dict]:
        cells = dict(table.rows)
        rejected = [o for o in report.outcomes if o.action == "reject"]
        others = [o for o in report.outcomes if o.action != "reject"]
        shown = sorted([*rejected, *others[: max(0, PREVIEW_ROWS - len(rejected))]], key=lambda o: o.row)
        width = len(table.headers)
        return [{"outcome": o, "cells": (cells.get(o.row, []) + [""] * width)[:width]} for o in shown]

    # --- the uploads waiting for a confirmation ---------------------------------------------
    @staticmethod
    def folder() -> Path:
        folder = Path(settings.DATA_DIR) / "uploads"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def keep(self, upload) -> Path:
        folder = self.folder()
        stale = time.time() - UPLOAD_HOURS * 3600
        for old in folder.iterdir():
            if old.is_file() and old.stat().st_mtime < stale:
                old.unlink(missing_ok=True)
        # Keep the file's suffix: the reader tells TSV and XLSX from CSV by it.
        suffix = Path(upload.name).suffix.lower()[:8] if Path(upload.name).suffix.isascii() else ""
        path = folder / f"{self.kind}-{secrets.token_hex(12)}{suffix}"
        with open(path, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return path

    # --- export in the import's own columns ------------------------------------------------
    def export(self, request, file_format):
        headers, rows = self.export_rows()
        stamp = timezone.now().strftime("%Y%m%d")
        name = f"{self.kind}-{stamp}.{file_format}"
        audit.record(request, Action.EXPORT, what=f"{self.noun} file", format=file_format)
        if file_format == "xlsx":
            folder = self.folder()
            path = folder / f"export-{secrets.token_hex(12)}.xlsx"
            try:
                write_table(headers, rows, "xlsx", path)
                data = path.read_bytes()
            finally:
                path.unlink(missing_ok=True)
            response = HttpResponse(
                data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        else:
            buffer = io.StringIO()
            # A byte order mark, so Excel reads the file as UTF-8.
            write_table(headers, rows, file_format, buffer, bom=True)
            response = HttpResponse(buffer.getvalue().encode("utf-8"),
                                    content_type=f"text/{'tab-separated-values' if file_format == 'tsv' else 'csv'}"
                                                 "; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def counts(report) -> dict:
    return {"rows": len(report.outcomes), "inserted": report.count("insert"), "updated": report.count("update"),
            "unchanged": report.count("unchanged"), "rejected": len(report.rejected), "deleted": report.deleted,
            "deactivated": report.deactivated}


class PersonImportView(PersonPage, ImportView):
    kind = "people"
    noun = "people"
    key_label = "Username"
    may_delete_existing = True
    delete_label = "Remove the people who are not in the file"
    title = "Import people"

    def importer(self, path, name, **options):
        return importers.PeopleImport(path, name=name, **options).run()

    def export_rows(self):
        return importers.people_table(self.get_queryset())

    def after_import(self, report):
        if any("cost_center" in o.changes for o in report.outcomes if o.action == "update"):
            offer_recalculation(self.request, self.own_sites(), "People's cost centers changed.")

    def own_sites(self):
        from calltally.sites.models import Site

        return [] if self.scope.is_administrator else list(Site.objects.filter(self.scope.sites()))


class ExtensionImportView(ExtensionPage, ImportView):
    """Extensions arrive with their people: one row per person, with their extension columns
    (the people file). The page says so and imports that file."""

    kind = "people"
    noun = "people and extensions"
    key_label = "Username"
    title = "Import extensions with their people"

    def session_key(self) -> str:
        return "directory-import:extensions"

    def importer(self, path, name, **options):
        return importers.PeopleImport(path, name=name, **options).run()

    def export_rows(self):
        people = Person.objects.all() if self.scope.is_administrator else Person.objects.filter(
            self.scope.sites(field="site"))
        return importers.people_table(people)


class AccountCodeImportView(AccountCodePage, ImportView):
    kind = "accounts"
    noun = "account codes"
    key_label = "Code"
    title = "Import account codes"

    def importer(self, path, name, delete_existing=False, **options):
        return importers.AccountImport(path, name=name, **options).run()

    def export_rows(self):
        # Only the codes the account manages: a site administrator's file holds its sites' codes.
        accounts = AccountCode.objects.all() if self.scope.is_administrator else AccountCode.objects.filter(
            self.scope.sites(field="site"))
        return importers.accounts_table(accounts)

    def after_import(self, report):
        from calltally.sites.models import Site

        sites = [] if self.scope.is_administrator else list(Site.objects.filter(self.scope.sites()))
        offer_recalculation(self.request, sites, "Account codes changed.")

