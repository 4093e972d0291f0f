"""The site pages: list, detail (settings, connections and their live state, tariff, extension plan,
spool segments), add, edit, delete.

An administrator sees and changes every site and alone adds or deletes one; a site administrator
sees and edits only their own sites (any other is a 404); managers and users have no site pages.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django_tables2 import RequestConfig

from calltally.calls.models import Call, DiscardedCall
from calltally.collectors.forms import shown_options
from calltally.collectors.models import Connection
from calltally.directory.models import Extension
from calltally.rating.models import PlanAssignment, TariffPlan
from calltally.rating.services import assign_plan, unassign_plan
from calltally.spool.models import SpoolSegment
from calltally.webkit import views as kit

from .filtersets import SiteFilterSet
from .forms import SiteForm
from .models import Site
from .tables import SiteTable, SpoolSegmentTable

SEGMENTS_PER_PAGE = 31  # a month of day files to a page


def url_or_none(name: str, *args, query: str = "") -> str | None:
    """The address of another app's page, or None while that page does not exist."""
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return None


class SitePage:
    """What every site page shares: the model, its names and who sees which site."""

    model = Site
    url_base = "sites:site"
    audience = "runs-sites"

    def scoped(self, queryset):
        return queryset.filter(self.scope.sites())

    def site_of(self, obj):
        return obj

    def url_args(self, obj) -> tuple:
        return (obj.code,)


class SiteListView(SitePage, kit.ObjectListView):
    title = "Sites"
    template_name = "sites/site_list.html"
    table_class = SiteTable
    filterset_class = SiteFilterSet
    bulk_actions = ()
    empty_hint = "A site is one PBX whose records CallTally receives: the setup wizard adds one step by step."

    def base_queryset(self):
        default_plan = PlanAssignment.objects.filter(site=OuterRef("pk"), pattern="").values("plan__name")[:1]
        extensions = (Extension.objects.filter(site=OuterRef("pk")).order_by().values("site")
                      .annotate(n=Count("pk")).values("n"))
        connections = (Connection.objects.filter(site=OuterRef("pk")).order_by().values("site")
                       .annotate(n=Count("pk")).values("n"))
        # Subqueries, not joins: two counted relations joined together would multiply each other.
        return Site.objects.annotate(extension_count=Coalesce(Subquery(extensions), 0),
                                     connection_count=Coalesce(Subquery(connections), 0),
                                     tariff=Subquery(default_plan))


class SiteDetailView(SitePage, kit.ObjectDetailView):
    template_name = "sites/site_detail.html"

    def extra_context(self, site):
        segments = SpoolSegmentTable(SpoolSegment.objects.filter(site=site), site=site)
        RequestConfig(self.request, paginate={"per_page": SEGMENTS_PER_PAGE}).configure(segments)
        connections = []
        for connection in Connection.objects.filter(site=site).select_related("state").order_by("pk"):
            state = getattr(connection, "state", None)
            connections.append({
                "connection": connection, "state": state,
                "options": shown_options(connection),
                "url": url_or_none("collectors:connection_detail", connection.pk),
            })
        query = f"?site={site.code}"
        return {
            "driver_options": json.dumps(site.driver_options or {}, indent=2, sort_keys=True, ensure_ascii=False),
            "access_codes": site.access_codes or [],
            "connections": connections,
            "connection_add_url": (url_or_none("collectors:connection_add", query=query)
                                   if self.may_change(site) else None),
            "assignments": list(PlanAssignment.objects.filter(site=site).select_related("plan")
                                .order_by("pattern", "-priority")),
            "segments": segments,
            "counts": [
                ("Calls", Call.objects.filter(site=site).count(), url_or_none("calls:call_list", query=query)),
                ("Discarded", DiscardedCall.objects.filter(site=site).count(),
                 url_or_none("calls:discarded_list", query=query)),
                ("Extensions", Extension.objects.filter(site=site).count(),
                 url_or_none("directory:extension_list", query=query)),
            ],
            "spool_url": url_or_none("spool:viewer", query=query),
            "may_delete": self.scope.is_administrator,
        }


class SiteEditForm(SiteForm):
    """The site form and, beside it, the site's default tariff plan (a tariff belongs to rating,
    a layer above sites: the page joins them, as `calltally site set --tariff` does)."""

    rest_legend = "Tariff"
    tariff = forms.ModelChoiceField(
        label="Default tariff plan", queryset=TariffPlan.objects.all(), required=False,
        empty_label="No tariff: calls are not priced",
        help_text="Plans for particular trunks are assigned on the tariff pages.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            current = PlanAssignment.objects.filter(site=self.instance, pattern="").first()
            self.initial["tariff"] = current.plan_id if current else None
        self.tariff_changed = False

    def save(self, commit=True):
        site = super().save(commit=commit)
        plan = self.cleaned_data.get("tariff")
        current = PlanAssignment.objects.filter(site=site, pattern="").select_related("plan").first()
        if plan is not None and (current is None or current.plan_id != plan.pk):
            assign_plan(site, plan.name)
            self.tariff_changed = True
        elif plan is None and current is not None:
            unassign_plan(site)
            self.tariff_changed = True
        return site


class SiteEditView(SitePage, kit.ObjectEditView):
    form_class = SiteEditForm
    template_name = "sites/site_edit.html"

    def make_form(self, data=None, files=None):
        self.form = super().make_form(data, files)
        return self.form

    def after_save(self, site, created):
        if created:
            add = url_or_none("collectors:connection_add", query=f"?site={site.code}")
            if add:
                messages.info(self.request, "Next: tell CallTally how this PBX's records arrive (add a connection).")
        elif self.form.tariff_changed or self.form.has_changed() and {"merge_legs", "transfer_billing"} & set(
                self.form.changed_data):
            messages.warning(self.request, "Calls already stored keep their costs and rules until they are "
                                           "recalculated (Operations → Recalculate calls).")


class SiteDeleteView(SitePage, kit.ObjectDeleteView):
    template_name = "sites/site_delete.html"

    def may_change(self, obj=None) -> bool:
        # Deleting a site takes its connections, tariff assignments and settings with it: administrators only.
        return self.scope.is_administrator
