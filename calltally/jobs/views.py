"""The background job pages: ask for a recalculation, the job list, a job with its progress and
result, and the POST endpoints that queue a reprocess run or cancel a job.

Administrators see every job and may run one on every site; a site administrator sees and
submits the jobs of their own sites only (another site's job is a 404); managers and users
have no job pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from calltally.services import control
from calltally.services.models import ServiceHeartbeat
from calltally.webkit import views as kit

from . import services
from .filtersets import JobFilterSet
from .forms import RecalculateForm, ReprocessForm
from .models import Job, State
from .tables import JobTable, zone_of

# How often the page of a job under way fetches its progress again, in seconds.
REFRESH_SECONDS = 2


def url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def scheduler_state() -> str:
    """The Scheduler's state (control.STATES): whether anything will run a queued job."""
    row = ServiceHeartbeat.objects.filter(name="scheduler").first()
    return control.service_state(row)


def jobs_in_scope(scope, queryset):
    """The jobs an account sees: an administrator all; a site administrator those of their sites
    (a job on every site is an administrator's)."""
    if scope.is_administrator:
        return queryset
    return queryset.filter(scope.sites("site")).exclude(site__isnull=True)


class JobPage:
    """What the job pages share: the model, its names, who sees which job."""

    model = Job
    url_base = "jobs:job"
    audience = "runs-sites"

    def scoped(self, queryset):
        return jobs_in_scope(self.scope, queryset)

    def may_change(self, obj=None) -> bool:
        if obj is None:
            return False
        return self.scope.may_operate(obj.site) if obj.site_id else self.scope.is_administrator


class JobListView(JobPage, kit.ObjectListView):
    title = "Background jobs"
    table_class = JobTable
    filterset_class = JobFilterSet
    bulk_actions = ()
    template_name = "jobs/job_list.html"
    empty_hint = ("Recalculations and reprocess runs asked for on the web run here in the background: "
                  "start one from Recalculate calls or from the discarded calls.")

    def base_queryset(self):
        return Job.objects.select_related("site", "created_by")

    def context(self, **extra):
        return super().context(recalculate_url=reverse("jobs:recalculate"), **extra)


class JobDetailView(JobPage, kit.ObjectDetailView):
    template_name = "jobs/job_detail.html"

    def base_queryset(self):
        return Job.objects.select_related("site", "created_by")

    def extra_context(self, job):
        state = scheduler_state() if job.active else None
        waiting = state is not None and state not in (control.RUNNING, control.DEGRADED)
        result = job.result or {}
        return {
            "job": job,
            "zone": zone_of(job),
            "refresh": REFRESH_SECONDS if job.active else None,
            "scheduler_state": state,
            "scheduler_waiting": waiting,
            "service_manager_url": url_or_none("services:manager") if self.scope.is_administrator else None,
            "may_cancel": job.active and self.may_change(job),
            "figures": figures(result),
            "by_direction": sorted((result.get("calls_by_direction") or {}).items()),
            "by_reason": sorted((result.get("discarded_by_reason") or {}).items()),
        }


def figures(result: dict) -> list[tuple[str, object]]:
    """The result's figures worth a line, in the order ``calltally recalc`` prints them."""
    if not result:
        return []
    made = result.get("recalculated", result.get("reprocessed", 0))
    rows = [("Records made again", made), ("Records read", result.get("records", 0)),
            ("Calls stored", result.get("calls", 0)), ("Discarded", result.get("discarded", 0))]
    optional = [("Unreadable records (among the discarded)", "unreadable"),
                ("Merged calls", "merged_calls"), ("Unrated outbound calls", "unrated"),
                ("Unknown account codes", "unallocated_account_codes"),
                ("Extensions acquired", "auto_acquired_extensions"), ("Skipped internal", "skipped_internal"),
                ("Not calls", "skipped_not_calls")]
    rows.extend((label, result[key]) for label, key in optional if result.get(key))
    if result.get("seconds") is not None:
        rows.append(("Seconds", result["seconds"]))
    return rows


class RecalculateView(kit.Page):
    """Recalculate a period's calls, as a background job. Pages that change costs link here with
    ``?site=CODE&from=DATE&to=DATE``: the form comes filled in, the account only confirms."""

    title = "Recalculate calls"
    audience = "runs-sites"
    template_name = "jobs/recalculate.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Background jobs", reverse("jobs:job_list")), (self.title, None)]

    def get(self, request):
        initial = {"site": request.GET.get("site", ""), "first": request.GET.get("from", ""),
                   "last": request.GET.get("to", "")}
        form = RecalculateForm(initial={k: v for k, v in initial.items() if v}, scope=self.scope)
        return self.show(form)

    def show(self, form, status: int = 200):
        active = jobs_in_scope(self.scope, Job.objects.filter(state__in=(State.QUEUED, State.RUNNING)))
        return render(self.request, self.template_name, self.context(
            form=form, scheduler_state=scheduler_state(), cancel_url=reverse("jobs:job_list"),
            active_jobs=active.count()), status=status)

    def post(self, request):
        form = RecalculateForm(request.POST, scope=self.scope)
        job = form.submit(request) if form.is_valid() else None
        if job is None:
            return self.show(form, status=400)
        messages.success(request, f"Recalculation queued as job #{job.pk} ({job.scope_text()}).")
        return HttpResponseRedirect(reverse("jobs:job_detail", args=[job.pk]))


class ReprocessView(kit.Page):
    """POST only: queue a reprocess run of a site's discarded calls (optionally of one reason), then
    show the job. The discarded calls page and *Extensions not defined* post here."""

    audience = "runs-sites"
    http_method_names = ["post"]

    def post(self, request):
        form = ReprocessForm(request.POST, scope=self.scope)
        if not form.is_valid():
            if "site" in form.errors:
                raise PermissionDenied(" ".join(form.errors["site"]))
            raise BadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
        job = form.submit(request)
        if job is None:
            # The same run waits or runs already: show that one rather than an error page.
            same = Job.objects.filter(kind="reprocess", site=form.cleaned_data.get("site"),
                                      reason=form.cleaned_data.get("reason") or "",
                                      state__in=(State.QUEUED, State.RUNNING)).first()
            messages.info(request, " ".join(form.non_field_errors()))
            return HttpResponseRedirect(reverse("jobs:job_detail", args=[same.pk]) if same
                                        else reverse("jobs:job_list"))
        messages.success(request, f"Reprocess run queued as job #{job.pk} ({job.scope_text()}).")
        return HttpResponseRedirect(reverse("jobs:job_detail", args=[job.pk]))


class JobCancelView(JobPage, kit.Page):
    """POST only: cancel a queued job, or stop a running one after the batch under way."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        job = self.scoped(Job.objects.select_related("site")).filter(pk=pk).first()
        if job is None:
            raise Http404("No such job here.")
        if not self.may_change(job):
            raise PermissionDenied("Your account may not cancel this job.")
        try:
            job = services.cancel(job, request=request)
        except services.JobRefused as exc:
            messages.info(request, str(exc))
        else:
            messages.success(request, f"Job #{job.pk} cancelled." if job.state == State.CANCELLED
                             else f"Job #{job.pk} stops after the batch under way.")
        return HttpResponseRedirect(reverse("jobs:job_detail", args=[job.pk]))
