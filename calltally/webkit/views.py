"""The generic pages: list, detail, create/edit, delete, bulk edit and delete, import.

An app's page is a subclass naming its model, table, filterset and form, and
saying what the account may do:

* ``scoped(queryset)`` narrows what the account sees (default: administrators
  see everything, others nothing) — list, detail, export, bulk actions and
  edits all start from it, so an object outside the scope is a 404 whatever
  the URL;
* ``may_change(obj)`` says whether it may change one object (default: what
  ``scope.may_configure`` says of the object's site, or of CallTally's own
  configuration for an object with no site).

Every change is written to the audit log with the object before and after
(``audit_exclude`` names fields never to be written there: secrets).
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.views import View
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from calltally.accounts.scope import scope_of
from calltally.audit import services as audit
from calltally.audit.choices import Action

from .export import csv_response

PER_PAGE_CHOICES = (25, 50, 100, 250)
# Columns that are page furniture, not data: never offered in the column choice nor exported.
FURNITURE = ("pk", "actions")
DEFAULT_PER_PAGE = 50


class Page(View):
    """What every page knows: the account's scope, its title and breadcrumbs, the model's names."""

    model: type[models.Model] | None = None
    title: str = ""
    # The named URLs of the model's pages ("sites:site" → sites:site_list, _detail, _add, _edit…).
    url_base: str = ""
    # Who may open the page at all: "anyone" signed in (the queryset is scoped), "runs-sites"
    # (administrators and site administrators), "administrator".
    audience: str = "anyone"

    def dispatch(self, request, *args, **kwargs):
        self.scope = scope_of(request.user)
        if not self.admits(self.scope):
            raise PermissionDenied("Your account's role does not open this page.")
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def audience_admits(audience: str, scope) -> bool:
        if audience == "administrator":
            return scope.is_administrator
        if audience == "runs-sites":
            return scope.runs_sites
        return not scope.nothing

    def admits(self, scope) -> bool:
        return self.audience_admits(self.audience, scope)

    # --- what the account sees and may change ------------------------------------------------
    def base_queryset(self):
        return self.model._default_manager.all()

    def scoped(self, queryset):
        """What the account sees (override per model)."""
        return queryset if self.scope.is_administrator else queryset.none()

    def get_queryset(self):
        return self.scoped(self.base_queryset())

    def site_of(self, obj):
        """The site an object belongs to (None: CallTally's own configuration)."""
        return getattr(obj, "site", None) if obj is not None else None

    def may_change(self, obj=None) -> bool:
        return self.scope.may_configure(self.site_of(obj))

    def may_add(self) -> bool:
        """Whether the account may create objects (a site administrator may, for its sites: the
        form narrows the sites it offers)."""
        return self.scope.is_administrator

    def url_args(self, obj) -> tuple:
        """The arguments of an object's detail/edit/delete URLs (a site is named by its code)."""
        return (obj.pk,)

    # --- names ---------------------------------------------------------------------------
    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def verbose_name_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    def url(self, action: str, *args) -> str | None:
        if not self.url_base:
            return None
        try:
            return reverse(f"{self.url_base}_{action}", args=args)
        except NoReverseMatch:
            return None

    def breadcrumbs(self) -> list[tuple[str, str | None]]:
        crumbs = [("Home", reverse("home"))]
        if self.model is not None:
            crumbs.append((capfirst(self.verbose_name_plural), self.url("list")))
        return crumbs

    def context(self, **extra) -> dict:
        return {"page": self, "scope": self.scope, "title": self.title, "breadcrumbs": self.breadcrumbs(), **extra}


class ObjectListView(Page):
    """A filtered, sortable, paginated table with column choice, CSV export (``?export=csv``,
    the current filtered and scoped rows) and, for an account that may change them, bulk
    actions on the rows it ticks."""

    table_class = None
    filterset_class = None
    template_name = "webkit/object_list.html"
    # Lists that can hold millions of rows (calls) skip counting them: next/previous only.
    lazy_pagination = False
    export_name = ""  # the CSV file's name (default: the model's plural)
    bulk_actions = ("edit", "delete")
    empty_hint = ""  # what to do next when there is nothing yet

    def get(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
            queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else (
                queryset if not filterset.is_bound else queryset.none())
        hidden = self.hidden_columns(request)
        # No request= here: django-tables2 would configure the table at once with its default
        # paginator, which counts every row (1.7 s on 2.2 million calls); RequestConfig below
        # configures it once, lazily when the page asks for it.
        table = self.table_class(self.table_data(queryset), exclude=hidden)
        table.request = request
        if request.GET.get("export") == "csv":
            RequestConfig(request, paginate=False).configure(table)  # the sort asked for, every row
            audit.record(request, Action.EXPORT, what=self.verbose_name_plural, query=request.GET.urlencode())
            name = self.export_name or f"{self.verbose_name_plural.replace(' ', '-')}.csv"
            return csv_response(table, table.data.data, name)
        selectable = self.may_change() and bool(self.bulk_actions) and self.url("bulk_delete") is not None
        if not selectable and "pk" in table.columns.names():
            table.columns.hide("pk")
        paginate = {"per_page": self.per_page(request)}
        if self.lazy_pagination:
            paginate["paginator_class"] = LazyPaginator
        RequestConfig(request, paginate=paginate).configure(table)
        filtered = bool(filterset and filterset.is_bound and any(
            value for key, value in request.GET.items() if key not in ("page", "sort", "per_page", "columns")))
        return render(request, self.template_name, self.context(
            table=table, filterset=filterset, filtered=filtered, selectable=selectable,
            add_url=self.url("add") if self.may_add() else None,
            import_url=self.url("import") if self.may_add() else None,
            export_url="?" + urlencode({**request.GET.dict(), "export": "csv"}),
            per_page_choices=PER_PAGE_CHOICES, columns=self.column_choices(table, hidden),
            bulk_edit_url=self.url("bulk_edit") if selectable and "edit" in self.bulk_actions else None,
            bulk_delete_url=self.url("bulk_delete") if selectable and "delete" in self.bulk_actions else None,
            empty_hint=self.empty_hint, has_rows=bool(len(table.page.object_list)),
        ))

    def table_data(self, queryset):
        """What the table shows for the filtered, scoped queryset (a list page may arrange it: a tree)."""
        return queryset

    @staticmethod
    def per_page(request) -> int:
        with contextlib.suppress(TypeError, ValueError):
            chosen = int(request.GET.get("per_page", DEFAULT_PER_PAGE))
            if chosen in PER_PAGE_CHOICES:
                return chosen
        return DEFAULT_PER_PAGE

    # --- the columns the account chose (kept in its session, per table) -----------------
    def session_key(self) -> str:
        return f"columns:{self.table_class.__module__}.{self.table_class.__name__}"

    def hidden_columns(self, request) -> list[str]:
        names = [name for name in self.table_class.base_columns if name not in FURNITURE]
        if "columns" in request.GET:
            shown = [name for name in request.GET.getlist("columns") if name in names]
            hidden = [name for name in names if name not in shown] if shown else []
            request.session[self.session_key()] = hidden
            return hidden
        # Read from the table's Meta class: django-tables2's options object keeps only its own options.
        default = list(getattr(getattr(self.table_class, "Meta", None), "hidden_by_default", ()) or ())
        return [name for name in request.session.get(self.session_key(), default) if name in names]

    def column_choices(self, table, hidden) -> list[tuple[str, str, bool]]:
        return [(name, str(column.verbose_name or name), name not in hidden)
                for name, column in self.table_class.base_columns.items() if name not in FURNITURE]


class ObjectDetailView(Page):
    """One object's page (the app's template shows it); a 404 outside the account's scope."""

    template_name = ""

    def get_object(self, **kwargs):
        lookup = {key: value for key, value in kwargs.items()}
        try:
            return self.get_queryset().get(**lookup)
        except self.model.DoesNotExist:
            raise Http404(f"No {self.verbose_name} here.") from None

    def breadcrumbs(self):
        return [*super().breadcrumbs(), (str(self.object), None)]

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, may_change=self.may_change(self.object),
            edit_url=self.url("edit", *self.url_args(self.object)),
            delete_url=self.url("delete", *self.url_args(self.object)), **self.extra_context(self.object)))

    def extra_context(self, obj) -> dict:
        return {}


class ObjectEditView(Page):
    """Create (no key in the URL) or change one object with the app's form — the same form
    the CLI validates with. ``form_class(data, instance=obj, scope=…)``."""

    form_class = None
    template_name = "webkit/object_edit.html"
    audit_exclude: tuple[str, ...] = ()

    def get_object(self, **kwargs):
        if not kwargs:
            return None
        try:
            return self.get_queryset().get(**kwargs)
        except self.model.DoesNotExist:
            raise Http404(f"No {self.verbose_name} here.") from None

    def make_form(self, data=None, files=None):
        return self.form_class(data, files, instance=self.object, scope=self.scope)

    def check(self) -> None:
        allowed = self.may_change(self.object) if self.object is not None else self.may_add()
        if not allowed:
            raise PermissionDenied(f"Your account may not change this {self.verbose_name}.")

    def breadcrumbs(self):
        crumbs = super().breadcrumbs()
        if self.object is not None:
            crumbs.append((str(self.object), self.detail_url(self.object)))
            crumbs.append(("Edit", None))
        else:
            crumbs.append((f"New {self.verbose_name}", None))
        return crumbs

    def detail_url(self, obj) -> str | None:
        return self.url("detail", *self.url_args(obj))

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        self.check()
        return self.show(self.make_form())

    def show(self, form, status: int = 200):
        return render(self.request, self.template_name, self.context(
            form=form, object=self.object, cancel_url=(self.detail_url(self.object) if self.object
                                                       else self.url("list"))), status=status)

    def post(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        self.check()
        # Taken first: validating a model form writes the new values into its instance.
        before = self.snapshot(self.object) if self.object is not None else None
        form = self.make_form(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(form, status=400)
        with transaction.atomic():
            saved = form.save()
        created = self.object is None
        audit.record(request, Action.CREATE if created else Action.UPDATE, obj=saved, before=before,
                     after=self.snapshot(saved))
        messages.success(request, f"{capfirst(self.verbose_name)} {saved} {'added' if created else 'saved'}.")
        self.after_save(saved, created)
        return HttpResponseRedirect(self.success_url(saved))

    def snapshot(self, obj) -> dict:
        """What the audit log keeps of the object before and after (override to add what the
        model's own fields do not hold, e.g. its many-to-many links)."""
        return audit.snapshot(obj, exclude=self.audit_exclude)

    def after_save(self, obj, created: bool) -> None:
        """What to tell the account next (e.g. that costs may need recalculating)."""

    def success_url(self, obj) -> str:
        return self.detail_url(obj) or self.url("list") or reverse("home")


class ObjectDeleteView(Page):
    """Delete one object after a confirmation page; what still refers to it is named."""

    template_name = "webkit/object_delete.html"
    audit_exclude: tuple[str, ...] = ()

    def get_object(self, **kwargs):
        try:
            obj = self.get_queryset().get(**kwargs)
        except self.model.DoesNotExist:
            raise Http404(f"No {self.verbose_name} here.") from None
        if not self.may_change(obj):
            raise PermissionDenied(f"Your account may not delete this {self.verbose_name}.")
        return obj

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, cancel_url=self.url("detail", *self.url_args(self.object))))

    def post(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        before = audit.snapshot(self.object, exclude=self.audit_exclude)
        name = str(self.object)
        try:
            with transaction.atomic():
                self.object.delete()
        except (ProtectedError, RestrictedError) as exc:
            kept = sorted({str(item._meta.verbose_name_plural) for item in exc.protected_objects})
            messages.error(request, f"{capfirst(self.verbose_name)} {name} is still used by {', '.join(kept)}: "
                                    "it was not deleted.")
            return HttpResponseRedirect(self.url("detail", *self.url_args(self.object)) or self.url("list"))
        audit.record(request, Action.DELETE, obj=self.object, before=before, text=name)
        messages.success(request, f"{capfirst(self.verbose_name)} {name} deleted.")
        return HttpResponseRedirect(self.url("list") or reverse("home"))


class BulkView(Page):
    """Something done to the rows ticked on a list page: they come as ``pk`` values, and only
    those the account sees and may change are touched."""

    template_name = ""

    def chosen(self, request):
        pks = [pk for pk in request.POST.getlist("pk") if pk]
        objects = list(self.get_queryset().filter(pk__in=pks))
        if not objects:
            raise Http404(f"No {self.verbose_name_plural} chosen.")
        refused = [obj for obj in objects if not self.may_change(obj)]
        if refused:
            raise PermissionDenied(f"Your account may not change {refused[0]}.")
        return objects


class BulkDeleteView(BulkView):
    template_name = "webkit/bulk_delete.html"
    audit_exclude: tuple[str, ...] = ()

    def post(self, request):
        objects = self.chosen(request)
        if "confirm" not in request.POST:
            return render(request, self.template_name, self.context(objects=objects, cancel_url=self.url("list")))
        deleted, kept = 0, []
        for obj in objects:
            before = audit.snapshot(obj, exclude=self.audit_exclude)
            try:
                with transaction.atomic():
                    obj.delete()
            except (ProtectedError, RestrictedError):
                kept.append(str(obj))
                continue
            deleted += 1
            audit.record(request, Action.DELETE, obj=obj, before=before, text=str(obj))
        if deleted:
            messages.success(request, f"{deleted} {self.verbose_name_plural if deleted > 1 else self.verbose_name} "
                                      "deleted.")
        if kept:
            messages.error(request, f"Still in use, not deleted: {', '.join(kept)}.")
        return HttpResponseRedirect(self.url("list"))


class BulkEditView(BulkView):
    """One form of optional fields applied to every ticked object; each change goes through
    the app's validation (``form_class(data, objects=…, scope=…)`` with an ``apply()``)."""

    form_class = None
    template_name = "webkit/bulk_edit.html"

    def post(self, request):
        objects = self.chosen(request)
        form = self.form_class(request.POST if "apply" in request.POST else None, objects=objects, scope=self.scope)
        if "apply" not in request.POST or not form.is_valid():
            return render(request, self.template_name, self.context(form=form, objects=objects,
                                                                    cancel_url=self.url("list")))
        changed, errors = form.apply(request)
        if changed:
            messages.success(request, f"{changed} {self.verbose_name_plural if changed > 1 else self.verbose_name} "
                                      "changed.")
        for error in errors:
            messages.error(request, error)
        self.after_apply(request, form)
        return HttpResponseRedirect(self.url("list"))

    def after_apply(self, request, form) -> None:
        """What to tell the account next (e.g. that costs may need recalculating)."""
