"""The scheduled reports pages (administrators): the list, a schedule with its run history and
deliveries, add/edit/delete through the page kit, and *Run now* (POST, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.webkit import views as kit

from . import services
from .forms import ScheduleForm
from .models import Schedule
from .tables import ScheduleTable

# Runs shown on a schedule's page, newest first.
HISTORY = 30


class SchedulePage:
    model = Schedule
    url_base = "schedules:schedule"
    audience = "administrator"

    def snapshot(self, obj) -> dict:
        return {**audit.snapshot(obj), "people": sorted(obj.people.values_list("username", flat=True))}


class ScheduleListView(SchedulePage, kit.ObjectListView):
    title = "Scheduled reports"
    table_class = ScheduleTable
    bulk_actions = ()
    empty_hint = ("A scheduled report mails any report of the catalogue on a relative period (yesterday, last "
                  "month…) to people, roles or each manager, or writes it to a folder, on a schedule.")

    def base_queryset(self):
        return Schedule.objects.select_related("owner").prefetch_related("people")


class ScheduleDetailView(SchedulePage, kit.ObjectDetailView):
    template_name = "schedules/schedule_detail.html"

    def extra_context(self, schedule):
        runs = list(schedule.runs.prefetch_related("deliveries").select_related("requested_by")[:HISTORY])
        options = [(label, value) for label, value in services.options_of(schedule).describe()]
        return {"schedule": schedule, "runs": runs, "options": options, "zone": schedule.time_zone,
                "when": schedule.recurrence().describe(),
                "run_now_url": reverse("schedules:schedule_run", args=[schedule.pk])}


class ScheduleEditView(SchedulePage, kit.ObjectEditView):
    form_class = ScheduleForm


class ScheduleDeleteView(SchedulePage, kit.ObjectDeleteView):
    pass


class ScheduleRunView(SchedulePage, kit.Page):
    """POST only: run a schedule now, outside its recurrence; the Scheduler sends it within seconds."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        schedule = Schedule.objects.filter(pk=pk).first()
        if schedule is None:
            raise Http404("No scheduled report here.")
        run = services.run_now(schedule, user=request.user, work=False)
        audit.record(request, Action.EXPORT, obj=schedule, what="scheduled report run now", run=run.pk)
        messages.success(request, f"{schedule.name} queued to run now: the Scheduler sends it within a minute "
                                  "(without the Scheduler: calltally schedule due).")
        return HttpResponseRedirect(reverse("schedules:schedule_detail", args=[schedule.pk]))
