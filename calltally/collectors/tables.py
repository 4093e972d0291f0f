"""The connection list's table."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from . import schema
from .forms import shown_value
from .models import Connection


def options_text(record: Connection) -> str:
    """The options as ``name=value``, every secret as "(set)"."""
    return " ".join(f"{name}={shown_value(value)}"
                    for name, value in schema.redacted(record.kind, record.parameters).items())


class ConnectionTable(BaseTable):
    id = tables.Column(verbose_name="Connection", attrs=NUM)
    site = tables.Column(verbose_name="Site", order_by=("site__code",))
    kind = tables.Column(verbose_name="Kind")
    options = tables.Column(verbose_name="Options", accessor="parameters", orderable=False)
    enabled = tables.BooleanColumn(verbose_name="Enabled")
    state = tables.Column(verbose_name="State", accessor="state__state", default="never started")
    records = tables.Column(verbose_name="Records", accessor="state__records_total", default=0, attrs=NUM)
    last_record = tables.Column(verbose_name="Last record (site time)", accessor="state__last_record_at",
                                attrs={"td": {"class": "nowrap"}})
    last_error = tables.Column(verbose_name="Last error", accessor="state__last_error", default="")
    updated = tables.Column(verbose_name="Changed (site time)", attrs={"td": {"class": "nowrap"}})

    class Meta(BaseTable.Meta):
        model = Connection
        fields = ()
        sequence = ("pk", "id", "site", "kind", "options", "enabled", "state", "records", "last_record",
                    "last_error", "updated")
        order_by = ("site", "id")
        hidden_by_default = ("updated",)

    def render_id(self, value, record):
        return link(reverse("collectors:connection_detail", args=[value]), f"#{value}")

    def value_id(self, value):
        return value

    def render_site(self, value, record):
        return link(reverse("sites:site_detail", args=[value.code]), value.code)

    def value_site(self, value):
        return value.code

    def render_kind(self, value, record):
        return record.get_kind_display()

    def render_options(self, value, record):
        return format_html('<span class="small font-monospace">{}</span>', options_text(record))

    def value_options(self, value, record):
        return options_text(record)

    def render_state(self, value, record):
        return display.badge(value)

    def value_state(self, value):
        return value

    def render_last_record(self, value, record):
        return display.local_time(value, record.site.zone)

    def render_updated(self, value, record):
        return display.local_time(value, record.site.zone)

    def render_last_error(self, value):
        return value[:160] + ("…" if len(value) > 160 else "")
