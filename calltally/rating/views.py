"""The tariff pages: plans (list, detail with versions, bands and rates, create, edit, delete),
a version's rates searched by prefix, upload and download of plan files and rate decks, plan
assignments to sites and route patterns, the cost simulator, holidays and the tariff comparison.

Tariff plans are CallTally-wide configuration: administrators change them; site administrators
read them, and change the assignments and holidays of their own sites; managers and users have
no tariff pages. Each change that moves costs ends with an offer to recalculate the calls it
affects (the recalculation page, with the site and the first day filled in).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.sites.models import Site
from calltally.webkit import display
from calltally.webkit import views as kit

from . import services
from .filtersets import AssignmentFilterSet, HolidayFilterSet, PlanFilterSet, RateFilterSet
from .forms import (
    AssignmentForm,
    ComparisonForm,
    HolidayForm,
    PlanForm,
    SimulatorForm,
    UploadForm,
    VersionForm,
    bands_text,
    default_period,
)
from .models import Holiday, PlanAssignment, Rate, TariffPlan, TariffVersion
from .planfile import render_plan, render_rates_csv
from .tables import AssignmentTable, HolidayTable, PlanTable, RateTable

# At most this many recalculation links in one message; the rest are counted.
MAX_RECALC_LINKS = 8


def recalculate_offer(request, sites, first: dt.date | None, why: str) -> None:
    """Tell the account that costs may have changed, with a link to recalculate each affected site
    from ``first`` (the recalculation page, when it exists; otherwise the command)."""
    sites = sorted({site.code: site for site in sites}.values(), key=lambda s: s.code)
    if not sites or first is None:
        return
    try:
        base = reverse("jobs:recalculate")
    except NoReverseMatch:
        base = None
    if base is None:
        codes = " ".join(f"--site {site.code}" for site in sites[:1])
        messages.info(request, f"{why} Costs of calls from {first} may have changed: recalculate them with "
                               f"`calltally recalc {codes} --from {first}`"
                               + (" (and for each other site that uses it)." if len(sites) > 1 else "."))
        return
    shown = sites[:MAX_RECALC_LINKS]
    links = format_html_join(" ", '<a class="alert-link" href="{}">Recalculate {} from {}</a>', (
        (f"{base}?{urlencode({'site': site.code, 'from': first.isoformat()})}", site.code, first) for site in shown))
    more = f" and {len(sites) - len(shown)} more sites" if len(sites) > len(shown) else ""
    messages.info(request, format_html("{} Costs of calls from {} may have changed. {}{}", why, first, links, more))


def plan_sites(plan_ids, scope) -> list[Site]:
    """The sites (of those the account runs) whose calls these plans price."""
    return list(Site.objects.filter(scope.sites(), plan_assignments__plan_id__in=list(plan_ids)).distinct())


def first_day(plan_ids) -> dt.date | None:
    """The first day any version of these plans applies from: calls before it are not theirs."""
    return TariffVersion.objects.filter(plan_id__in=list(plan_ids)).aggregate(first=Min("valid_from"))["first"]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "plan"


class TariffPage:
    """What the tariff pages share: they open for the accounts that run sites; plans are
    CallTally's own configuration (an administrator's to change)."""

    audience = "runs-sites"

    def scoped(self, queryset):
        return queryset if self.scope.runs_sites else queryset.none()

    def site_of(self, obj):
        return None

    def may_add(self) -> bool:
        return self.scope.may_configure(None)


# --- plans ----------------------------------------------------------------------------------------------


class PlanListView(TariffPage, kit.ObjectListView):
    model = TariffPlan
    title = "Tariff plans"
    url_base = "rating:plan"
    table_class = PlanTable
    filterset_class = PlanFilterSet
    template_name = "rating/plan_list.html"
    bulk_actions = ()  # deleting a plan checks where it is used, one at a time
    empty_hint = ("Upload a plan file (TOML) — or add a plan and then upload its carrier's rate deck (CSV). "
                  "docs/rating.md describes both formats.")
    export_name = "tariff-plans.csv"

    def base_queryset(self):
        latest = TariffVersion.objects.filter(plan=OuterRef("pk")).order_by("-valid_from")
        return (TariffPlan.objects.select_related("carrier")
                .annotate(version_count=Count("versions"), latest_from=Max("versions__valid_from"),
                          latest_currency=Subquery(latest.values("currency")[:1]))
                .prefetch_related(Prefetch(
                    "assignments", to_attr="scoped_assignments",
                    queryset=PlanAssignment.objects.filter(self.scope.sites("site")).select_related("site")
                    .order_by("site__code", "-priority"))))

    def get(self, request, *args, **kwargs):
        self.upload_url = reverse("rating:plan_import") if self.may_add() else None
        return super().get(request, *args, **kwargs)


class PlanDetailView(TariffPage, kit.ObjectDetailView):
    model = TariffPlan
    url_base = "rating:plan"
    template_name = "rating/plan_detail.html"

    def base_queryset(self):
        return TariffPlan.objects.select_related("carrier")

    def may_change(self, obj=None) -> bool:
        return self.scope.may_configure(None)

    def extra_context(self, plan) -> dict:
        versions = list(plan.versions.prefetch_related("bands").order_by("-valid_from"))
        counts = dict(Rate.objects.filter(version__plan=plan).order_by().values("version_id")
                      .annotate(n=Count("id")).values_list("version_id", "n"))
        today = dt.date.today()
        for version in versions:
            version.rate_count = counts.get(version.pk, 0)
            windows = services.windows_of(version)
            version.band_lines = bands_text(windows).splitlines()
            version.band_names = services.band_names(windows, version.default_band, version.holiday_band)
            version.in_force = version.valid_from <= today and (version.valid_to is None or today <= version.valid_to)
        # The version in force today is the one that prices today's calls; mark only the latest such.
        current = next((v for v in versions if v.in_force), None)
        for version in versions:
            version.in_force = version is current
        assignments = list(plan.assignments.filter(self.scope.sites("site")).select_related("site")
                           .order_by("site__code", "-priority"))
        return {
            "versions": versions, "assignments": assignments,
            "upload_url": reverse("rating:plan_import") + "?" + urlencode({"plan": plan.pk}),
            "may_assign": self.scope.runs_sites,
        }


class PlanEditView(TariffPage, kit.ObjectEditView):
    """A new plan (its first version's settings and bands), or a plan's name and carrier."""

    model = TariffPlan
    url_base = "rating:plan"
    form_class = PlanForm
    template_name = "rating/plan_edit.html"

    def may_change(self, obj=None) -> bool:
        return self.scope.may_configure(None)

    def after_save(self, plan, created: bool) -> None:
        if created:
            messages.info(self.request, "It has no rates yet: upload its carrier's rate deck (CSV) or a plan file.")
            return
        recalculate_offer(self.request, plan_sites([plan.pk], self.scope), first_day([plan.pk]),
                          f"The calls priced by {plan.name} show its name.")


class PlanDeleteView(TariffPage, kit.ObjectDeleteView):
    """Delete a plan and its versions — refused while a site uses it, naming the sites."""

    model = TariffPlan
    url_base = "rating:plan"
    template_name = "rating/plan_delete.html"

    def may_change(self, obj=None) -> bool:
        return self.scope.may_configure(None)

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, users=services.plan_users(self.object),
            cancel_url=self.url("detail", self.object.pk)))

    def post(self, request, **kwargs):
        plan = self.object = self.get_object(**kwargs)
        before = audit.snapshot(plan)
        name = plan.name
        try:
            services.delete_plan(plan)
        except ValueError as exc:
            messages.error(request, f"Not deleted: {exc}.")
            return HttpResponseRedirect(self.url("detail", plan.pk))
        audit.record(request, Action.DELETE, obj=plan, before=before, text=name)
        messages.success(request, f"Tariff plan {name} and its versions deleted.")
        return HttpResponseRedirect(self.url("list"))


# --- versions: settings, rates, files ---------------------------------------------------------------------


class VersionPage(TariffPage):
    model = TariffVersion
    url_base = "rating:version"

    def base_queryset(self):
        return TariffVersion.objects.select_related("plan", "plan__carrier")

    def may_change(self, obj=None) -> bool:
        return self.scope.may_configure(None)

    def version_crumbs(self, version, *tail) -> list:
        return [("Home", reverse("home")), ("Tariff plans", reverse("rating:plan_list")),
                (version.plan.name, reverse("rating:plan_detail", args=[version.plan_id])), *tail]

    def get_version(self, pk) -> TariffVersion:
        try:
            return self.scoped(TariffVersion.objects.select_related("plan", "plan__carrier")).get(pk=pk)
        except TariffVersion.DoesNotExist:
            raise Http404("No such tariff version.") from None


class VersionEditView(VersionPage, kit.ObjectEditView):
    form_class = VersionForm
    template_name = "rating/version_edit.html"

    def breadcrumbs(self):
        return self.version_crumbs(self.object, (f"Version from {self.object.valid_from}", None))

    def detail_url(self, obj):
        return reverse("rating:plan_detail", args=[obj.plan_id])

    def post(self, request, **kwargs):
        self.first = self.get_version(kwargs["pk"]).valid_from
        return super().post(request, **kwargs)

    def after_save(self, version, created: bool) -> None:
        recalculate_offer(self.request, plan_sites([version.plan_id], self.scope),
                          min(self.first, version.valid_from), f"Version {version.label} changed.")


class VersionDeleteView(VersionPage, kit.ObjectDeleteView):
    template_name = "rating/version_delete.html"

    def breadcrumbs(self):
        return self.version_crumbs(self.object, (f"Delete the version from {self.object.valid_from}", None))

    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(
            object=self.object, others=self.object.plan.versions.exclude(pk=self.object.pk).count(),
            cancel_url=reverse("rating:plan_detail", args=[self.object.plan_id])))

    def post(self, request, **kwargs):
        version = self.object = self.get_object(**kwargs)
        before = audit.snapshot(version)
        label, plan_id = version.label, version.plan_id
        version.delete()
        audit.record(request, Action.DELETE, obj=version, before=before, text=label)
        messages.success(request, f"Version {label} deleted.")
        recalculate_offer(request, plan_sites([plan_id], self.scope), version.valid_from,
                          f"Version {label} no longer prices calls.")
        return HttpResponseRedirect(reverse("rating:plan_detail", args=[plan_id]))


class RateListView(VersionPage, kit.ObjectListView):
    """A version's rates, searched by prefix, or by a number (the rates that could price it)."""

    model = Rate
    url_base = ""
    table_class = RateTable
    filterset_class = RateFilterSet
    template_name = "rating/rate_list.html"
    bulk_actions = ()
    empty_hint = "Upload the carrier's rate deck (CSV) for this version, or a plan file (TOML)."

    def get(self, request, *args, **kwargs):
        self.version = self.get_version(kwargs["pk"])
        self.title = f"Rates of {self.version.label}"
        self.export_name = f"rates-{slug(self.version.plan.name)}-{self.version.valid_from}.csv"
        self.downloads = download_urls(self.version)
        self.upload_url = (reverse("rating:plan_import") + "?" + urlencode({
            "plan": self.version.plan_id, "valid_from": self.version.valid_from.isoformat()})
            if self.may_add() else None)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if not self.scope.runs_sites:
            return Rate.objects.none()
        return Rate.objects.filter(version=self.version)

    def breadcrumbs(self):
        return self.version_crumbs(self.version, (f"Rates from {self.version.valid_from}", None))

    @property
    def verbose_name_plural(self) -> str:
        return "rates"


def download_urls(version) -> dict:
    return {"toml": reverse("rating:version_toml", args=[version.pk]),
            "csv": reverse("rating:version_csv", args=[version.pk])}


class VersionDownloadView(VersionPage, kit.Page):
    """A version as its TOML plan file or its CSV rate deck (what `tariff export` and
    `tariff rates-export` write)."""

    kind = "toml"

    def get(self, request, pk):
        version = self.get_version(pk)
        name = f"{slug(version.plan.name)}-{version.valid_from}.{self.kind}"
        if self.kind == "toml":
            body, content_type = render_plan(services.plan_spec(version)), "application/toml; charset=utf-8"
        else:
            body = render_rates_csv(services.version_rows(version), services.version_band_names(version))
            content_type = "text/csv; charset=utf-8"
        audit.record(request, Action.DOWNLOAD, obj=version, what=f"tariff {self.kind}", file=name)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class UploadView(TariffPage, kit.Page):
    """Upload a TOML plan file or a CSV rate deck: checked whole by the CLI's readers, stored only
    when it has no problem, the problems listed with their lines otherwise."""

    model = TariffPlan
    url_base = "rating:plan"
    title = "Upload a plan file or rate deck"
    template_name = "rating/upload.html"

    def check(self):
        if not self.scope.may_configure(None):
            raise PermissionDenied("Tariff plans are changed by administrators.")

    def breadcrumbs(self):
        return [*super().breadcrumbs(), ("Upload", None)]

    def get(self, request):
        self.check()
        initial = {key: request.GET[key] for key in ("plan", "valid_from") if request.GET.get(key)}
        return self.show(UploadForm(initial=initial, scope=self.scope))

    def show(self, form, status=200):
        return render(self.request, self.template_name, self.context(
            form=form, problems=getattr(form, "problems", []), cancel_url=self.url("list")), status=status)

    def post(self, request):
        self.check()
        form = UploadForm(request.POST, request.FILES, scope=self.scope)
        if not form.is_valid():
            return self.show(form, status=400)
        name = form.cleaned_data["file"].name
        if form.cleaned_data["check_only"]:
            what = (f"plan {form.spec.name} from {form.spec.valid_from}, {len(form.spec.rates)} rates"
                    if form.kind == "toml" else f"{len(form.rows)} rates for {form.cleaned_data['plan'].name}")
            messages.success(request, f"{name} is valid ({what}); nothing was stored.")
            return self.show(UploadForm(initial={"plan": form.cleaned_data.get("plan")}, scope=self.scope))
        version, created, count = form.save()
        audit.record(request, Action.CREATE if created else Action.UPDATE, obj=version,
                     after=audit.snapshot(version), file=name, rates=count)
        messages.success(request, f"{name}: version {version.label} {'created' if created else 'replaced'}, "
                                  f"{count} rates stored.")
        recalculate_offer(request, plan_sites([version.plan_id], self.scope), version.valid_from,
                          f"Version {version.label} changed.")
        return HttpResponseRedirect(reverse("rating:plan_detail", args=[version.plan_id]))


# --- assignments ------------------------------------------------------------------------------------------


class AssignmentPage:
    model = PlanAssignment
    url_base = "rating:assignment"
    audience = "runs-sites"

    def base_queryset(self):
        return PlanAssignment.objects.select_related("site", "plan")

    def scoped(self, queryset):
        return queryset.filter(self.scope.sites("site"))

    def may_add(self) -> bool:
        return self.scope.runs_sites

    def breadcrumbs(self):
        crumbs = super().breadcrumbs()
        crumbs.insert(1, ("Tariff plans", reverse("rating:plan_list")))
        return crumbs

    def offer(self, site, plan_ids, why):
        recalculate_offer(self.request, [site], first_day(plan_ids), why)


class AssignmentListView(AssignmentPage, kit.ObjectListView):
    title = "Tariff assignments"
    table_class = AssignmentTable
    filterset_class = AssignmentFilterSet
    bulk_actions = ()
    empty_hint = "Assign a plan to a site: its default plan, or a plan for the calls of one trunk."


class AssignmentEditView(AssignmentPage, kit.ObjectEditView):
    form_class = AssignmentForm

    def detail_url(self, obj):
        return self.url("list")

    def make_form(self, data=None, files=None):
        self.form = super().make_form(data, files)
        self.previous_plan = self.object.plan_id if self.object is not None else None
        return self.form

    def after_save(self, assignment, created: bool) -> None:
        replaced = self.form.replaced
        if replaced is not None and created:
            what = f"plan for /{replaced.pattern}/" if replaced.pattern else "default plan"
            messages.info(self.request, f"It replaces {replaced.plan.name} as site {assignment.site.code}'s {what}.")
        plans = {assignment.plan_id, self.previous_plan, replaced.plan_id if replaced else None} - {None}
        self.offer(assignment.site, plans, f"Site {assignment.site.code}'s tariff changed.")


class AssignmentDeleteView(AssignmentPage, kit.ObjectDeleteView):
    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(object=self.object, cancel_url=self.url("list")))

    def post(self, request, **kwargs):
        assignment = self.get_object(**kwargs)
        response = super().post(request, **kwargs)
        self.offer(assignment.site, [assignment.plan_id], f"Site {assignment.site.code}'s tariff changed.")
        return response


# --- holidays ---------------------------------------------------------------------------------------------


class HolidayPage:
    model = Holiday
    url_base = "rating:holiday"
    audience = "runs-sites"

    def base_queryset(self):
        return Holiday.objects.select_related("site")

    def scoped(self, queryset):
        # Days added for every site or a country concern every site administrator; a site's
        # own days only those who run it.
        return queryset.filter(Q(site__isnull=True) | self.scope.sites("site"))

    def may_add(self) -> bool:
        return self.scope.runs_sites

    def affected_sites(self, holiday) -> list[Site]:
        sites = Site.objects.filter(self.scope.sites())
        if holiday.site_id:
            return list(sites.filter(pk=holiday.site_id))
        return list(sites.filter(country=holiday.country) if holiday.country else sites)


class HolidayListView(HolidayPage, kit.ObjectListView):
    """The days added to the public holidays, and a site's whole holiday calendar for a year
    (public ones from the holidays package, observed days included, and those added)."""

    title = "Holidays"
    table_class = HolidayTable
    filterset_class = HolidayFilterSet
    template_name = "rating/holiday_list.html"
    bulk_actions = ()
    empty_hint = ("Public holidays come with each site's country; add a day here for a local holiday "
                  "(a city's patron saint) or a company closure.")

    def get(self, request, *args, **kwargs):
        sites = self.calendar_sites = list(Site.objects.filter(self.scope.sites()).order_by("code"))
        chosen = request.GET.get("site")
        self.calendar_site = next((site for site in sites if str(site.pk) == chosen), sites[0] if sites else None)
        year = request.GET.get("year", "")
        self.calendar_year = int(year) if year.isdigit() and 1900 < int(year) < 2200 else (
            dt.datetime.now(self.calendar_site.zone).year if self.calendar_site else dt.date.today().year)
        self.calendar = (services.site_holidays(self.calendar_site, self.calendar_year)
                         if self.calendar_site else [])
        return super().get(request, *args, **kwargs)


class HolidayAddView(HolidayPage, kit.ObjectEditView):
    form_class = HolidayForm

    def detail_url(self, obj):
        return self.url("list")

    def after_save(self, holiday, created: bool) -> None:
        where = services.holiday_scope(holiday.site, holiday.country)
        recalculate_offer(self.request, self.affected_sites(holiday), holiday.date,
                          f"{holiday.date} is now a holiday for {where}.")


class HolidayDeleteView(HolidayPage, kit.ObjectDeleteView):
    def get(self, request, **kwargs):
        self.object = self.get_object(**kwargs)
        return render(request, self.template_name, self.context(object=self.object, cancel_url=self.url("list")))

    def post(self, request, **kwargs):
        holiday = self.get_object(**kwargs)
        sites = self.affected_sites(holiday)
        response = super().post(request, **kwargs)
        recalculate_offer(request, sites, holiday.date, f"{holiday.date} is an ordinary day again.")
        return response


# --- the simulator and the comparison ------------------------------------------------------------------


class SimulatorView(kit.Page):
    """What one call would cost, step by step: `calltally rate` on a page."""

    title = "Cost simulator"
    audience = "runs-sites"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Cost simulator", None)]

    def get(self, request):
        simulation = error = None
        if "site" in request.GET:
            form = SimulatorForm(request.GET, scope=self.scope)
            if form.is_valid():
                try:
                    simulation = form.simulate()
                except ValueError as exc:
                    error = str(exc)
        else:
            site = Site.objects.filter(self.scope.sites()).order_by("code").first()
            now = dt.datetime.now(site.zone if site else dt.UTC).replace(second=0, microsecond=0, tzinfo=None)
            form = SimulatorForm(initial={"site": site, "at": now, "talk": 60}, scope=self.scope)
        cost = None
        if simulation is not None:
            cost = display.money(simulation.rating.cost, simulation.rating.currency, exact=True)
        return render(request, "rating/simulator.html", self.context(
            form=form, simulation=simulation, error=error, cost=cost,
            start=display.local_time(simulation.start, simulation.site.zone) if simulation else ""))


class ComparisonView(kit.Page):
    """What a period's calls would have cost under other plans: `calltally tariff compare`."""

    title = "Tariff comparison"
    audience = "runs-sites"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Tariff comparison", None)]

    def get(self, request):
        result = None
        if "plans" in request.GET:
            form = ComparisonForm(request.GET, scope=self.scope)
            if form.is_valid():
                result = form.compare()
        else:
            first, last = default_period(dt.date.today())
            form = ComparisonForm(initial={"first": first, "last": last}, scope=self.scope)
        if result is not None and request.GET.get("export") == "csv":
            audit.record(request, Action.EXPORT, what="tariff comparison", query=request.GET.urlencode())
            return comparison_csv(result)
        rows = []
        if result is not None:
            for line in [*result.lines, result.total]:
                rows.append({
                    "total": line is result.total, "category": line.category, "destination": line.destination,
                    "calls": line.calls, "actual": display.money(line.actual, result.actual_currency),
                    "plans": [(display.money(cost, currency), display.money(saving, currency), unrated,
                               saving < 0)
                              for cost, saving, unrated, currency in zip(
                                  line.costs, line.savings, line.unrated, result.currencies, strict=True)],
                })
        notes = list(zip(result.plans, result.currencies, result.total.unrated, strict=True)) if result else []
        return render(request, "rating/comparison.html", self.context(
            form=form, result=result, rows=rows, plan_notes=notes,
            export_url="?" + urlencode({**{k: request.GET.getlist(k) for k in request.GET}, "export": "csv"},
                                       doseq=True)))


def comparison_csv(result) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = ["category", "destination", "calls", f"actual ({result.actual_currency})"]
    for name, currency in zip(result.plans, result.currencies, strict=True):
        head += [f"{name} ({currency})", f"{name} saving", f"{name} unrated calls"]
    writer.writerow(head)
    for line in [*result.lines, result.total]:
        label = ["TOTAL", ""] if line is result.total else [line.category, line.destination]
        row = [*label, line.calls, str(line.actual)]
        for cost, saving, unrated in zip(line.costs, line.savings, line.unrated, strict=True):
            row += [str(cost), str(saving), unrated]
        writer.writerow(row)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tariff-comparison-{result.first}-{result.last}.csv"'
    return response
