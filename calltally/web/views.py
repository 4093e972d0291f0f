"""The web interface's pages.

Who may see what
----------------
Every page except ``/healthz`` needs a signed-in account (Django's
``LoginRequiredMiddleware`` is on in settings). For now the call data — the
dashboard, calls, discarded records, sites and extensions — is shown to *staff*
accounts only: a signed-in account without ``is_staff`` gets a 403 page telling
it to ask an administrator for access. Finer rules (a manager seeing only the
calls of their cost center, a person only their own) come with the full web
interface; until then "staff or nothing" keeps call data from leaking by
default. Signing in, signing out and changing one's password are open to every
account.
"""

from __future__ import annotations

import json
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import UserPassesTestMixin
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from calltally.accounts.services import password_changed
from calltally.calls.choices import DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.drivers.base import decode
from calltally.services import control, today
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool
from calltally.webkit import display

from .filtersets import CallFilterSet, DiscardedCallFilterSet, ExtensionFilterSet
from .tables import CallTable, DiscardedCallTable, ExtensionTable, SpoolSegmentTable

NO_ACCESS = (
    "Your account is signed in but may not see call data yet. "
    "An administrator must grant access by marking the account as staff."
)
PAGE_SIZE = 50
SEGMENTS_PER_PAGE = 31


class StaffRequiredMixin(UserPassesTestMixin):
    """Staff accounts only; others get the 403 page with :data:`NO_ACCESS`."""

    permission_denied_message = NO_ACCESS

    def test_func(self) -> bool:
        user = self.request.user
        return user.is_active and user.is_staff


# --- accounts ---------------------------------------------------------------

class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, which also lifts *must change password*."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(form.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_changed.html"


# --- monitoring -------------------------------------------------------------

@login_not_required
@never_cache
def healthz(request):
    """``ok`` when the web server answers and the database does; for monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


# --- dashboard --------------------------------------------------------------

class DashboardView(StaffRequiredMixin, TemplateView):
    template_name = "web/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        last_call = Call.objects.filter(site=OuterRef("pk")).order_by("-start").values("start")[:1]
        sites = list(Site.objects.annotate(last_call=Subquery(last_call)))

        # "Today" and "the last 7 days" (today and the six days before) begin at each
        # site's own midnight, as in `calltally status`: one aggregate query over all sites.
        today_q, _ = today.since_midnight(sites, now, "start")
        week_q, earliest = today.since_midnight(sites, now, "start", days_back=6)
        counts = {}
        if sites:
            counts = {
                row["site"]: row
                for row in Call.objects.filter(start__gte=earliest)
                .values("site")
                .annotate(today=Count("pk", filter=today_q), week=Count("pk", filter=week_q))
                .order_by()
            }

        labels = dict(DiscardReason.choices)
        discarded = defaultdict(list)
        for row in DiscardedCall.objects.values("site", "reason").annotate(n=Count("pk")).order_by("reason"):
            reason = row["reason"]
            item = {"reason": reason, "label": labels.get(reason, reason), "count": row["n"]}
            discarded[row["site"]].append(item)

        rows = []
        for site in sites:
            found = counts.get(site.pk, {})
            rows.append({
                "site": site,
                "today": found.get("today", 0),
                "week": found.get("week", 0),
                "discarded_total": sum(item["count"] for item in discarded[site.pk]),
                "discarded": discarded[site.pk],
                "last_call": display.local_time(site.last_call, site.zone) if site.last_call else None,
            })

        # The states of `calltally status` and `service list`, from the same definition.
        services = control.services(now)
        for item in services:
            item["age_text"] = control.format_seconds(item["heartbeat_age_seconds"])

        context.update(
            site_rows=rows,
            totals={
                "today": sum(row["today"] for row in rows),
                "week": sum(row["week"] for row in rows),
                "discarded": sum(row["discarded_total"] for row in rows),
            },
            services=services,
            any_service_started=any(item["started"] for item in services),
            service_states=control.STATES,
            today_rule=today.RULE,
            now=now,
            # Services are not tied to a site: their times are in the server's zone.
            server_zone=timezone.get_current_timezone(),
        )
        return context


# --- calls ------------------------------------------------------------------

class FilteredTableView(StaffRequiredMixin, SingleTableMixin, FilterView):
    """A paginated, sortable table under a filter form."""

    paginate_by = PAGE_SIZE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filtered"] = any(value for key, value in self.request.GET.items()
                                  if key not in ("page", "sort"))
        return context


class CallListView(FilteredTableView):
    template_name = "web/call_list.html"
    table_class = CallTable
    filterset_class = CallFilterSet

    def get_queryset(self):
        return Call.objects.select_related("site", "person", "cost_center")


class CallDetailView(StaffRequiredMixin, DetailView):
    template_name = "web/call_detail.html"
    context_object_name = "call"

    def get_queryset(self):
        # Every row: a leg is reached from its merged call.
        return Call.rows.select_related(
            "site", "segment", "extension", "person", "cost_center", "cost_center__parent"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        call = self.object
        context["fields"] = call_fields(call)
        if call.segment_id is not None:
            context["raw_url"] = reverse("raw_record", args=[call.pk])
            context["segment_url"] = segment_url(call.segment, call.site)
        if call.is_merged:
            context["legs"] = list(call.legs())
        elif call.is_leg:
            context["merged_call"] = call.merged_call()
        return context


def segment_url(segment: SpoolSegment, site: Site) -> str:
    """The site page's row of a spool segment, on the page of the table that holds it."""
    newer = SpoolSegment.objects.filter(site=site, day__gt=segment.day).count()
    page = newer // SEGMENTS_PER_PAGE + 1
    query = f"?page={page}" if page > 1 else ""
    return f"{reverse('site_detail', args=[site.code])}{query}#segment-{segment.day.isoformat()}"


def call_fields(call: Call) -> list[tuple[str, str, object]]:
    """(name, label, shown value) for every field of a call, in model order.

    Looping over the model keeps fields added later on the page without
    editing it; the few that need it are spelled specially.
    """
    special = {
        "start": lambda: display.local_time(call.start, call.site.zone),
        "talk_seconds": lambda: f"{display.duration(call.talk_seconds)} ({call.talk_seconds} s)",
        "ring_seconds": lambda: f"{call.ring_seconds} s",
        "cost": lambda: display.money(call.cost, call.currency),
        "segment": lambda: call.segment and call.segment.relative_path,
        "direction": lambda: display.badge(call.direction, call.get_direction_display()),
        "disposition": lambda: display.badge(call.disposition, call.get_disposition_display()),
        "answered": lambda: display.yes_no(call.answered),
        "billing_enabled": lambda: display.yes_no(call.billing_enabled),
        "site": lambda: format_html('<a href="{}">{}</a> ({})', reverse("site_detail", args=[call.site.code]),
                                    call.site.code, call.site.name),
        "person": lambda: call.person and format_html(
            '<a href="{}?person={}">{}</a> ({})', reverse("call_list"), call.person.username,
            call.person.username, call.person.full_name),
        "cost_center": lambda: call.cost_center and f"{call.cost_center.code} ({call.cost_center.name})",
    }
    rows = []
    for field in Call._meta.concrete_fields:
        name = field.name
        if name in special:
            value = special[name]()
        elif field.choices:
            value = getattr(call, f"get_{name}_display")()
        else:
            value = getattr(call, name)
        if value is None or value == "":
            value = display.EMPTY
        rows.append((name, field.verbose_name[:1].upper() + field.verbose_name[1:], value))
    return rows


class RawRecordView(StaffRequiredMixin, DetailView):
    """The spool line a call was made from, read back from the day file."""

    template_name = "web/raw_record.html"
    context_object_name = "call"

    def get_queryset(self):
        # A merged call has no record of its own; its legs have.
        return Call.rows.filter(segment__isnull=False).select_related("site", "segment")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        call = self.object
        spool = Spool(settings.SPOOL_DIR)
        path = spool.path(call.site.code, call.segment.day)
        record = None
        error = None
        try:
            with open(path, "rb") as handle:
                if call.raw_offset > 0:
                    handle.seek(call.raw_offset - 1)
                    if handle.read(1) != b"\n":
                        error = "The offset is not at the start of a record in the spool file."
            if error is None:
                records, _ = spool.read(call.site.code, call.segment.day, call.raw_offset, 1)
                if records:
                    record = records[0]
                else:
                    error = "The spool file has no complete record at this offset."
        except FileNotFoundError:
            error = "The spool file is missing (moved, or archived elsewhere)."
        except OSError as exc:
            error = f"The spool file cannot be read: {exc.strerror}."
        context.update(
            path=path,
            record=record,
            raw_text=decode(record.raw) if record else "",
            error=error,
        )
        return context


class DiscardedListView(FilteredTableView):
    template_name = "web/discarded_list.html"
    table_class = DiscardedCallTable
    filterset_class = DiscardedCallFilterSet

    def get_queryset(self):
        return DiscardedCall.objects.select_related("site")


# --- sites and extensions ------------------------------------------------------

class SiteListView(StaffRequiredMixin, ListView):
    template_name = "web/site_list.html"
    context_object_name = "sites"

    def get_queryset(self):
        return Site.objects.annotate(extension_count=Count("extensions"))


class SiteDetailView(StaffRequiredMixin, DetailView):
    template_name = "web/site_detail.html"
    context_object_name = "site"
    slug_field = "code"
    slug_url_kwarg = "code"
    queryset = Site.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        site = self.object
        segments = SpoolSegmentTable(SpoolSegment.objects.filter(site=site).select_related("site"))
        RequestConfig(self.request, paginate={"per_page": SEGMENTS_PER_PAGE}).configure(segments)
        context.update(
            driver_options=json.dumps(site.driver_options or {}, indent=2, sort_keys=True,
                                      ensure_ascii=False),
            access_codes=site.access_codes or [],
            connections=site.connections.all(),
            segments=segments,
            extension_count=site.extensions.count(),
            call_count=Call.objects.filter(site=site).count(),
            discarded_count=DiscardedCall.objects.filter(site=site).count(),
        )
        return context


class ExtensionListView(FilteredTableView):
    template_name = "web/extension_list.html"
    table_class = ExtensionTable
    filterset_class = ExtensionFilterSet

    def get_queryset(self):
        return Extension.objects.select_related("site", "person", "cost_center")

