"""django-tables2 tables of the list pages."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.spool.models import SpoolSegment
from calltally.webkit import display

# Right-aligned, tabular figures.
NUM = {"td": {"class": "num"}, "th": {"class": "num"}}


def _site_link(site) -> str:
    return format_html('<a href="{}">{}</a>', reverse("site_detail", args=[site.code]), site.code)


class CallTable(tables.Table):
    start = tables.Column(verbose_name="Start (site time)", attrs={"td": {"class": "nowrap"}})
    site = tables.Column(order_by=("site__code",))
    direction = tables.Column()
    extension_number = tables.Column(verbose_name="Extension")
    person = tables.Column(order_by=("person__username",))
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",))
    remote_number = tables.Column(verbose_name="Remote number")
    talk_seconds = tables.Column(verbose_name="Talk", attrs=NUM)
    ring_seconds = tables.Column(verbose_name="Ring (s)", attrs=NUM)
    disposition = tables.Column()
    account_code = tables.Column(verbose_name="Account")
    cost = tables.Column(attrs={"td": {"class": "num nowrap"}, "th": {"class": "num"}})

    class Meta:
        model = Call
        fields = (
            "start", "site", "direction", "extension_number", "person", "cost_center", "remote_number",
            "talk_seconds", "ring_seconds", "disposition", "account_code", "cost",
        )
        order_by = ("-start",)
        attrs = {"class": "table table-hover"}
        empty_text = "No calls match."

    def render_start(self, value, record):
        text = display.local_time(value, record.site.zone)
        link = format_html('<a href="{}">{}</a>', reverse("call_detail", args=[record.pk]), text)
        if record.kind == "merged":
            return format_html('{} <span class="muted" title="made of several records of the PBX">merged</span>', link)
        return link

    def render_site(self, value):
        return _site_link(value)

    def render_direction(self, value, record):
        return display.badge(record.direction, value)

    def render_disposition(self, value, record):
        return display.badge(record.disposition, value)

    def render_talk_seconds(self, value):
        return display.duration(value)

    def render_cost(self, value, record):
        return display.money(value, record.currency)


class DiscardedCallTable(tables.Table):
    received = tables.Column(attrs={"td": {"class": "nowrap"}})
    site = tables.Column(order_by=("site__code",))
    reason = tables.Column()
    detail = tables.Column()
    extension_number = tables.Column(verbose_name="Extension")
    raw_text = tables.Column(verbose_name="Raw record", orderable=False)

    class Meta:
        model = DiscardedCall
        fields = ("received", "site", "reason", "detail", "extension_number", "raw_text")
        order_by = ("-received",)
        attrs = {"class": "table table-hover"}
        empty_text = "No discarded records match."

    def render_received(self, value, record):
        return display.local_time(value, record.site.zone)

    def render_site(self, value):
        return _site_link(value)

    def render_reason(self, value, record):
        return display.badge(record.reason, value)

    def render_raw_text(self, value):
        short = value if len(value) <= 80 else value[:79] + "…"
        return format_html('<code class="raw" title="{}">{}</code>', value, short)


class ExtensionTable(tables.Table):
    number = tables.Column()
    site = tables.Column(order_by=("site__code", "number"))
    person = tables.Column(order_by=("person__username",))
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",))
    billing_enabled = tables.Column(verbose_name="Billing")
    auto_acquired = tables.Column(verbose_name="Auto-acquired")

    class Meta:
        model = Extension
        fields = ("number", "site", "person", "cost_center", "billing_enabled", "auto_acquired")
        attrs = {"class": "table table-hover"}
        empty_text = "No extensions match."

    def render_site(self, value):
        return _site_link(value)

    def render_person(self, value):
        return format_html('{} <span class="muted">{}</span>', value.full_name, value.username) \
            if value.full_name != value.username else value.username

    def render_billing_enabled(self, value):
        return display.badge("yes", "on") if value else display.badge("no", "off")

    def render_auto_acquired(self, value):
        return display.yes_no(value)


class SpoolSegmentTable(tables.Table):
    day = tables.Column(verbose_name="Day (UTC)")
    mined_offset = tables.Column(verbose_name="Mined offset", attrs=NUM)
    records = tables.Column(attrs=NUM)
    calls = tables.Column(attrs=NUM)
    discarded = tables.Column(attrs=NUM)
    skipped_internal = tables.Column(verbose_name="Skipped internal", attrs=NUM)
    skipped_other = tables.Column(verbose_name="Skipped other", attrs=NUM)
    updated = tables.Column(attrs={"td": {"class": "nowrap"}})

    class Meta:
        model = SpoolSegment
        fields = ("day", "mined_offset", "records", "calls", "discarded", "skipped_internal", "skipped_other",
                  "updated")
        order_by = ("-day",)
        attrs = {"class": "table table-hover"}
        row_attrs = {"id": lambda record: f"segment-{record.day.isoformat()}"}
        empty_text = "No records have arrived for this site yet."

    def render_day(self, value, record):
        return format_html("{} <span class=\"muted\">{}</span>", value.isoformat(), record.relative_path)

    def render_updated(self, value, record):
        return display.local_time(value, record.site.zone)
