"""The tables of the call and discarded-call lists; the same columns make their CSV exports."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from calltally.accounts.scope import scope_of
from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, DurationColumn, MoneyColumn, link

from .models import Call, DiscardedCall
from .services import AccountNames

# A cost is never wrapped or clipped: right-aligned, on one line. So that it stays in view on a
# laptop (1366 px) and a tablet (768 px), the columns that matter least give way first on narrower
# screens (Bootstrap's display classes); the call's page and the CSV always have every field.
COST = {"td": {"class": "num nowrap cost"}, "th": {"class": "num nowrap cost"}}
RAW_SHOWN = 80


def from_width(breakpoint: str, classes: str = "") -> dict:
    """Column attrs that show a column only from a Bootstrap breakpoint up (lg, xl, xxl)."""
    shown = f"{classes} d-none d-{breakpoint}-table-cell".strip()
    return {"td": {"class": shown}, "th": {"class": shown}}


def site_cell(table, site) -> str:
    """A site's code, linked to its page for an account that runs it (others would get a 403)."""
    request = getattr(table, "request", None)
    if request is not None and scope_of(request.user).may_operate(site):
        try:
            return link(reverse("sites:site_detail", args=[site.code]), site.code)
        except NoReverseMatch:
            pass
    return site.code


class CallTable(BaseTable):
    start = tables.Column(verbose_name="Start (site time)", attrs={"td": {"class": "nowrap"}})
    site = tables.Column(order_by=("site__code", "-start"), attrs=from_width("lg"))
    direction = tables.Column(attrs=from_width("lg"))
    extension_number = tables.Column(verbose_name="Extension")
    person = tables.Column(order_by=("person__username",))
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",), attrs=from_width("xl"))
    remote_number = tables.Column(verbose_name="Remote number", attrs={"td": {"class": "nowrap"}})
    talk_seconds = DurationColumn(verbose_name="Talk")
    ring_seconds = tables.Column(verbose_name="Ring (s)", attrs=from_width("xxl", "num"))
    disposition = tables.Column(attrs=from_width("xl"))
    # ``account`` is the account as shown, never ``account_code`` (the code as dialled: a PIN, say).
    account = tables.Column(verbose_name="Account", empty_values=(), attrs=from_width("lg"))
    destination = tables.Column(attrs=from_width("xl"))
    tariff = tables.Column(attrs=from_width("xl"))
    billed_seconds = tables.Column(verbose_name="Billed (s)", attrs=from_width("xl", "num"))
    cost = MoneyColumn(attrs=COST)

    class Meta(BaseTable.Meta):
        model = Call
        fields = ("pk", "start", "site", "direction", "extension_number", "person", "cost_center", "remote_number",
                  "talk_seconds", "ring_seconds", "disposition", "account", "destination", "tariff",
                  "billed_seconds", "cost")
        order_by = ("-start",)
        attrs = {"class": "table table-sm table-hover align-middle mb-0 calls-table"}
        hidden_by_default = ("destination", "tariff", "billed_seconds")
        empty_text = "No calls match."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_names = AccountNames()

    def render_start(self, value, record):
        text = link(reverse("calls:call_detail", args=[record.pk]), display.local_time(value, record.site.zone))
        if record.is_merged:
            return format_html('{} <span class="badge badge-merged" title="made of several records of the PBX">'
                               "merged</span>", text)
        return text

    def value_start(self, value, record):
        return display.local_time(value, record.site.zone)

    def render_site(self, value):
        return site_cell(self, value)

    def render_direction(self, value, record):
        return display.badge(record.direction, value)

    def render_disposition(self, value, record):
        return display.badge(record.disposition, value)

    def render_person(self, value):
        # The full name, the username on hover (and in the person filter): one short line.
        return format_html('<span title="{}">{}</span>', value.username, value.full_name)

    def value_person(self, value):
        return value.username

    def render_cost_center(self, value):
        return value.code

    def render_account(self, record):
        return self.account_names.shown(record) or display.EMPTY


class DiscardedCallTable(BaseTable):
    received = tables.Column(verbose_name="Received (site time)", attrs={"td": {"class": "nowrap"}})
    # On a tablet the raw record keeps the room: the site, detail and extension give way.
    site = tables.Column(order_by=("site__code", "-received"), attrs=from_width("lg"))
    reason = tables.Column()
    detail = tables.Column(attrs=from_width("xl"))
    extension_number = tables.Column(verbose_name="Extension", attrs=from_width("lg"))
    segment = tables.Column(verbose_name="Spool file", order_by=("segment__day", "raw_offset"))
    raw_offset = tables.Column(verbose_name="Offset", attrs=NUM)
    raw_text = tables.Column(verbose_name="Raw record", orderable=False)

    class Meta(BaseTable.Meta):
        model = DiscardedCall
        fields = ("pk", "received", "site", "reason", "detail", "extension_number", "segment", "raw_offset",
                  "raw_text")
        order_by = ("-received",)
        hidden_by_default = ("segment", "raw_offset")
        empty_text = "No discarded records match."

    def render_received(self, value, record):
        return display.local_time(value, record.site.zone)

    def render_site(self, value):
        return site_cell(self, value)

    def render_reason(self, value, record):
        return display.badge(record.reason, value)

    def render_segment(self, value, record):
        # From the row's own site (already joined), not the segment's: no query per row.
        return f"{record.site.code}/{value.day.isoformat()}.cdr"

    def render_raw_text(self, value):
        short = value if len(value) <= RAW_SHOWN else value[:RAW_SHOWN - 1] + "…"
        return format_html('<code class="raw" title="{}">{}</code>', value, short)

    def value_raw_text(self, value):
        return value  # the export has the whole record, not the shortened cell
