"""The calls' pages: the call list, a call's page, its raw record, the discarded records.

Every queryset starts from the account's scope (``scope.calls()``): an administrator
sees every call, a site administrator the calls of their sites, a manager those of
their cost-center subtree, a user those of their own person. A call outside the
scope is a 404 whatever the address, filter or export. The raw record (the line the
PBX sent, which holds every digit of a masked number and any code dialled) and the
discarded records are for those who operate the call's site only.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from calltally.drivers.base import decode
from calltally.jobs.forms import ReprocessForm
from calltally.spool.storage import Spool
from calltally.webkit import display
from calltally.webkit.views import ObjectDetailView, ObjectListView, Page

from .filtersets import CallFilterSet, DiscardedCallFilterSet
from .models import Call, DiscardedCall
from .services import NO_CALLS, AccountNames
from .tables import CallTable, DiscardedCallTable


def optional_url(name: str, *args) -> str | None:
    """The address of a page that another part of CallTally may or may not serve."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def viewer_url(call: Call) -> str | None:
    """The call's record among the records around it, in the recorder file viewer (when served)."""
    base = optional_url("spool:viewer")
    if base is None or call.segment_id is None:
        return None
    query = {"site": call.site.code, "day": call.segment.day.isoformat(), "offset": call.raw_offset}
    return f"{base}?{urlencode(query)}"


class CallScope(Page):
    """A page over calls: an account whose scope admits no call is told why."""

    def admits(self, scope) -> bool:
        if scope.nothing:
            raise PermissionDenied(NO_CALLS)
        return super().admits(scope)


class CallListView(CallScope, ObjectListView):
    model = Call
    title = "Calls"
    url_base = "calls:call"
    table_class = CallTable
    filterset_class = CallFilterSet
    template_name = "calls/call_list.html"
    # Millions of rows: next/previous pages without counting them all.
    lazy_pagination = True
    bulk_actions = ()
    export_name = "calls.csv"

    def base_queryset(self):
        # Call.objects: single-record and merged calls, never the legs a merged call is made of.
        return Call.objects.select_related("site", "person", "cost_center")

    def scoped(self, queryset):
        return queryset.filter(self.scope.calls())

    def may_add(self) -> bool:
        return False  # calls are made by the Miner from the records, never by hand

    def may_change(self, obj=None) -> bool:
        return False

    @property
    def empty_hint(self) -> str:
        if self.scope.runs_sites:
            return ("Calls appear here once a site's PBX sends its records and the Miner has read them: "
                    "System status shows what each site has received.")
        return "Calls appear here once the PBX has sent their records and CallTally has read them."


def call_fields(call: Call, account: str, site_url: str | None) -> list[tuple[str, str, object]]:
    """(name, label, shown value) for every field of a call, in model order.

    Looping over the model keeps fields added later on the page without editing
    it; the few that need it are spelled specially. ``account_code`` (the code as
    dialled) is left out: the account is shown as configured, its description
    where the code is *replace with description*.
    """
    special = {
        "start": lambda: display.local_time(call.start, call.site.zone),
        "talk_seconds": lambda: f"{display.duration(call.talk_seconds)} ({call.talk_seconds} s)",
        "ring_seconds": lambda: f"{call.ring_seconds} s",
        "billed_seconds": lambda: f"{call.billed_seconds} s",
        "cost": lambda: display.call_cost(call),
        "segment": lambda: call.segment_id and f"{call.site.code}/{call.segment.day.isoformat()}.cdr",
        "direction": lambda: display.badge(call.direction, call.get_direction_display()),
        "disposition": lambda: display.badge(call.disposition, call.get_disposition_display()),
        "answered": lambda: display.yes_no(call.answered),
        "billing_enabled": lambda: display.yes_no(call.billing_enabled),
        "account_unallocated": lambda: display.yes_no(call.account_unallocated),
        "unrated": lambda: display.yes_no(call.unrated),
        "site": lambda: format_html('<a href="{}">{}</a> ({})', site_url, call.site.code, call.site.name)
        if site_url else f"{call.site.code} ({call.site.name})",
        "person": lambda: call.person and format_html(
            '<a href="{}?person={}">{}</a> ({})', reverse("calls:call_list"), call.person.username,
            call.person.username, call.person.full_name),
        "cost_center": lambda: call.cost_center and f"{call.cost_center.code} ({call.cost_center.name})",
        "extension": lambda: call.extension and call.extension.number,
        "account": lambda: account,
    }
    rows = []
    for model_field in Call._meta.concrete_fields:
        name = model_field.name
        if name == "account_code":
            continue
        if name in special:
            value = special[name]()
        elif model_field.choices:
            value = getattr(call, f"get_{name}_display")()
        else:
            value = getattr(call, name)
        if value is None or value == "":
            value = display.EMPTY
        label = model_field.verbose_name
        rows.append((name, label[:1].upper() + label[1:], value))
    return rows


class CallDetailView(CallScope, ObjectDetailView):
    model = Call
    url_base = "calls:call"
    template_name = "calls/call_detail.html"

    def base_queryset(self):
        # Every row: a leg is reached from its merged call.
        return Call.rows.select_related("site", "segment", "extension", "person", "cost_center")

    def scoped(self, queryset):
        return queryset.filter(self.scope.calls())

    def may_change(self, obj=None) -> bool:
        return False

    def breadcrumbs(self):
        return [*Page.breadcrumbs(self), (f"Call {self.object.pk}", None)]

    def extra_context(self, call) -> dict:
        self.title = f"Call {call.pk}"
        operates = self.scope.may_operate(call.site)
        site_url = optional_url("sites:site_detail", call.site.code) if operates else None
        account = AccountNames().shown(call)
        context = {
            "call": call,
            "fields": call_fields(call, account, site_url),
            "account": account,
            # The raw record holds what privacy masks and any code as dialled: for operators only.
            "raw_url": reverse("calls:raw_record", args=[call.pk]) if operates and call.segment_id else None,
            "viewer_url": viewer_url(call) if operates else None,
        }
        if call.is_merged:
            # The legs may be other people's calls (a ring group): only those in the scope.
            context["legs"] = list(call.legs().filter(self.scope.calls()))
            context["leg_count"] = call.legs().count()
        if call.is_leg:
            merged = call.merged_call()
            if merged is not None and Call.rows.filter(self.scope.calls(), pk=merged.pk).exists():
                context["merged_call"] = merged
        return context


class RawRecordView(CallScope, ObjectDetailView):
    """The spool line a call was made from, read back from the day file."""

    model = Call
    url_base = "calls:call"
    audience = "runs-sites"
    template_name = "calls/raw_record.html"

    def base_queryset(self):
        # A merged call has no record of its own; its legs have.
        return Call.rows.filter(segment__isnull=False).select_related("site", "segment")

    def scoped(self, queryset):
        return queryset.filter(self.scope.calls())

    def get_object(self, **kwargs):
        call = super().get_object(**kwargs)
        if not self.scope.may_operate(call.site):
            raise Http404("No call here.")
        return call

    def may_change(self, obj=None) -> bool:
        return False

    def breadcrumbs(self):
        call = self.object
        return [*Page.breadcrumbs(self), (f"Call {call.pk}", reverse("calls:call_detail", args=[call.pk])),
                ("Raw record", None)]

    def extra_context(self, call) -> dict:
        self.title = f"Raw record of call {call.pk}"
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
        received = None
        if record is not None and record.received:
            try:
                received = display.local_time(dt.datetime.fromisoformat(record.received), call.site.zone)
            except ValueError:
                received = record.received  # as written, rather than nothing
        return {
            "call": call,
            "viewer_url": viewer_url(call),
            "received": received,
            "path": path,
            "relative_path": f"{call.site.code}/{call.segment.day.isoformat()}.cdr",
            "record": record,
            "raw_text": decode(record.raw) if record else "",
            "error": error,
        }


class DiscardedListView(CallScope, ObjectListView):
    """Raw records that did not become calls, with the reason: for those who run their sites."""

    model = DiscardedCall
    title = "Discarded calls"
    url_base = "calls:discarded"
    audience = "runs-sites"
    table_class = DiscardedCallTable
    filterset_class = DiscardedCallFilterSet
    template_name = "calls/discarded_list.html"
    lazy_pagination = True
    bulk_actions = ()
    export_name = "discarded-calls.csv"
    empty_hint = "Every record received so far became a call (or was skipped as an internal call or a header)."

    def base_queryset(self):
        return DiscardedCall.objects.select_related("site", "segment")

    def scoped(self, queryset):
        return queryset.filter(self.scope.sites(field="site"))

    def may_add(self) -> bool:
        return False

    def may_change(self, obj=None) -> bool:
        return False

    def get(self, request, *args, **kwargs):
        self.undefined_url = optional_url("directory:undefined_list")
        self.reprocess_url = optional_url("jobs:reprocess")
        return super().get(request, *args, **kwargs)

    def context(self, **extra) -> dict:
        reprocess_form = None
        if getattr(self, "reprocess_url", None):
            # The jobs app's own form (the one its page validates with), offered for the site and
            # reason the list is filtered by.
            reprocess_form = ReprocessForm(scope=self.scope, auto_id="reprocess_%s", initial={
                "site": self.request.GET.get("site", ""), "reason": self.request.GET.get("reason", "")})
        return super().context(undefined_url=getattr(self, "undefined_url", None),
                               reprocess_url=getattr(self, "reprocess_url", None), reprocess_form=reprocess_form,
                               **extra)
