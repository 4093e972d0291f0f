"""The site pages' tables: the site list and a site's spool segments."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.spool.models import SpoolSegment
from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .models import Site


class SiteTable(BaseTable):
    """Each site with what an administrator checks first: its PBX, where it is, how many extensions
    and connections it has, its default tariff and whether its records are being read."""

    code = tables.Column(verbose_name="Code", linkify=False)
    name = tables.Column(verbose_name="Name")
    driver = tables.Column(verbose_name="Driver")
    country = tables.Column(verbose_name="Country")
    timezone = tables.Column(verbose_name="Time zone")
    currency = tables.Column(verbose_name="Currency")
    extension_plan = tables.Column(verbose_name="Extension plan", accessor="extension_plan",
                                   order_by=("internal_pattern", "internal_digits_min", "internal_digits_max"))
    extension_count = tables.Column(verbose_name="Extensions", attrs=NUM)
    connection_count = tables.Column(verbose_name="Connections", attrs=NUM)
    tariff = tables.Column(verbose_name="Tariff plan", default="—")
    # An empty problem is news too ("read"): the column renders every value, the empty one included.
    reading = tables.Column(verbose_name="Records", accessor="reading_problem", orderable=False, empty_values=())
    enabled = tables.BooleanColumn(verbose_name="Enabled")

    class Meta(BaseTable.Meta):
        model = Site
        fields = ()
        sequence = ("pk", "code", "name", "driver", "country", "timezone", "currency", "extension_plan",
                    "extension_count", "connection_count", "tariff", "reading", "enabled")
        order_by = ("code",)
        hidden_by_default = ("currency",)

    def render_code(self, value, record):
        return link(reverse("sites:site_detail", args=[record.code]), value)

    def render_driver(self, value):
        return format_html("<code>{}</code>", value)

    def render_reading(self, value, record):
        if value:
            return display.badge("warning", "not read as calls")
        return display.badge("ok", "read")

    def value_reading(self, value, record):
        return value or "read"

    def value_code(self, value):
        return value

    def value_driver(self, value):
        return value


class SpoolSegmentTable(tables.Table):
    """A site's spool files, one a day: how far the Miner has read each and what it made of it."""

    day = tables.Column(verbose_name="Day (UTC)")
    mined_offset = tables.Column(verbose_name="Mined offset", attrs=NUM)
    records = tables.Column(attrs=NUM)
    calls = tables.Column(attrs=NUM)
    discarded = tables.Column(attrs=NUM)
    skipped_internal = tables.Column(verbose_name="Skipped internal", attrs=NUM)
    skipped_other = tables.Column(verbose_name="Skipped other", attrs=NUM)
    updated = tables.Column(verbose_name="Updated (site time)", attrs={"td": {"class": "nowrap"}})

    class Meta:
        model = SpoolSegment
        fields = ("day", "mined_offset", "records", "calls", "discarded", "skipped_internal", "skipped_other",
                  "updated")
        order_by = ("-day",)
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
        template_name = "django_tables2/bootstrap5-responsive.html"
        row_attrs = {"id": lambda record: f"segment-{record.day.isoformat()}"}
        empty_text = "No records have arrived for this site yet."

    def __init__(self, *args, site: Site, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def render_day(self, value, record):
        return format_html('{} <span class="text-body-secondary small">{}</span>', value.isoformat(),
                           record.relative_path)

    def render_updated(self, value):
        return display.local_time(value, self.site.zone)
