"""The tariff pages' tables: plans, a version's rates, plan assignments and added holidays."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from calltally.accounts.scope import scope_of
from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .models import Holiday, PlanAssignment, Rate, TariffPlan
from .planfile import money_text


def may_configure(table, site_id) -> bool:
    """Whether the account the table is shown to may change a row of this site (None: CallTally's)."""
    request = getattr(table, "request", None)
    return request is not None and scope_of(request.user).may_configure(site_id)


class PlanTable(BaseTable):
    """Each plan: its carrier, how many versions, the latest one, and the sites that use it."""

    name = tables.Column(verbose_name="Plan")
    carrier = tables.Column(verbose_name="Carrier", accessor="carrier__name")
    version_count = tables.Column(verbose_name="Versions", attrs=NUM)
    latest_from = tables.DateColumn(verbose_name="Latest version from", format="Y-m-d")
    latest_currency = tables.Column(verbose_name="Currency")
    sites = tables.Column(verbose_name="Used by", accessor="pk", orderable=False)

    class Meta(BaseTable.Meta):
        model = TariffPlan
        fields = ()
        sequence = ("pk", "name", "carrier", "version_count", "latest_from", "latest_currency", "sites")
        order_by = ("name",)

    def render_name(self, value, record):
        return link(reverse("rating:plan_detail", args=[record.pk]), value)

    def render_sites(self, value, record):
        # The assignments come prefetched (and narrowed to the account's sites) with the page.
        uses = record.scoped_assignments
        if not uses:
            return display.badge("no", "not assigned")
        return format_html_join(", ", "{}", (
            (f"{a.site.code}" + (f" (/{a.pattern}/)" if a.pattern else ""),) for a in uses))


class AmountColumn(tables.Column):
    """An amount of a rate exactly as plan files write it ("0.0300", "" for none): rates keep
    six decimals, and rounding them for the screen would show a price that is not the one used."""

    def __init__(self, **kwargs):
        kwargs.setdefault("attrs", NUM)
        kwargs.setdefault("default", display.EMPTY)
        super().__init__(**kwargs)

    def render(self, value):
        return money_text(value)


class RateTable(BaseTable):
    """A plan version's rates, one row per prefix and band."""

    prefix = tables.Column(verbose_name="Prefix", empty_values=())
    destination = tables.Column(verbose_name="Destination")
    category = tables.Column(verbose_name="Category")
    band = tables.Column(verbose_name="Band", empty_values=())
    rate_per_minute = AmountColumn(verbose_name="Per minute")
    connection_fee = AmountColumn(verbose_name="Connection fee")
    first_increment = tables.Column(verbose_name="First increment (s)", attrs=NUM)
    next_increment = tables.Column(verbose_name="Next increment (s)", attrs=NUM)
    minimum_duration = tables.Column(verbose_name="Minimum duration (s)", attrs=NUM)
    minimum_charge = AmountColumn(verbose_name="Minimum charge")
    maximum_charge = AmountColumn(verbose_name="Maximum charge")

    class Meta(BaseTable.Meta):
        model = Rate
        fields = ()
        sequence = ("pk", "prefix", "destination", "category", "band", "rate_per_minute", "connection_fee",
                    "first_increment", "next_increment", "minimum_duration", "minimum_charge", "maximum_charge")
        order_by = ("prefix", "band")
        hidden_by_default = ("minimum_duration",)

    def render_prefix(self, value):
        return format_html("<code>{}</code>", value or "*")

    def value_prefix(self, value):
        return value or "*"

    def render_band(self, value):
        return value or "every band"


class AssignmentTable(BaseTable):
    """Which plan prices which site's calls, route patterns first (by priority), default last."""

    site = tables.Column(verbose_name="Site", accessor="site__code")
    plan = tables.Column(verbose_name="Plan", accessor="plan__name")
    pattern = tables.Column(verbose_name="Calls", empty_values=())
    priority = tables.Column(verbose_name="Priority", attrs=NUM)
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, exclude_from_export=True)

    class Meta(BaseTable.Meta):
        model = PlanAssignment
        fields = ()
        sequence = ("pk", "site", "plan", "pattern", "priority", "actions")
        order_by = ("site", "-priority")

    def render_plan(self, value, record):
        return link(reverse("rating:plan_detail", args=[record.plan_id]), value)

    def render_pattern(self, value):
        return format_html("devices matching <code>{}</code>", value) if value else "every call (default plan)"

    def value_pattern(self, value):
        return value or "(default plan)"

    def render_actions(self, value, record):
        if not may_configure(self, record.site_id):
            return ""
        return format_html(
            '<a class="btn btn-outline-secondary btn-sm" href="{}">Edit</a> '
            '<a class="btn btn-outline-danger btn-sm" href="{}">Remove</a>',
            reverse("rating:assignment_edit", args=[record.pk]), reverse("rating:assignment_delete", args=[record.pk]))


class HolidayTable(BaseTable):
    """The days administrators added to the public holidays."""

    date = tables.DateColumn(verbose_name="Date", format="Y-m-d (D)")
    name = tables.Column(verbose_name="Name")
    applies = tables.Column(verbose_name="For", accessor="site__code", empty_values=(),
                            order_by=("site__code", "country"))
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, exclude_from_export=True)

    class Meta(BaseTable.Meta):
        model = Holiday
        fields = ()
        sequence = ("pk", "date", "name", "applies", "actions")
        order_by = ("-date",)

    def render_applies(self, value, record):
        if record.site_id:
            return f"site {value}"
        return f"the sites in {record.country}" if record.country else "every site"

    def render_actions(self, value, record):
        if not may_configure(self, record.site_id):
            return ""
        return format_html('<a class="btn btn-outline-danger btn-sm" href="{}">Remove</a>',
                           reverse("rating:holiday_delete", args=[record.pk]))
