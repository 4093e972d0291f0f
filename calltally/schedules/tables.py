"""The scheduled reports list's table."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.webkit import display
from calltally.webkit.tables import BaseTable, link

from .models import Schedule

STATE_BADGES = {"queued": "secondary", "running": "primary", "succeeded": "success", "partly-failed": "warning",
                "failed": "danger", "pending": "secondary", "sent": "success"}


def state_badge(state: str, label: str) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', STATE_BADGES.get(state, "secondary"), label)


class ScheduleTable(BaseTable):
    name = tables.Column(verbose_name="Name")
    report = tables.Column(verbose_name="Report")
    period = tables.Column(verbose_name="Period", empty_values=(), orderable=False)
    format = tables.Column(verbose_name="Format")
    recipients = tables.Column(verbose_name="Recipients", empty_values=(), orderable=False)
    when = tables.Column(verbose_name="When", empty_values=(), orderable=False)
    next_due = tables.Column(verbose_name="Next run")
    last_run = tables.Column(verbose_name="Last run", empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = Schedule
        fields = ()
        sequence = ("pk", "name", "report", "period", "format", "recipients", "when", "next_due", "last_run")
        order_by = ("name",)

    def render_name(self, value, record):
        return link(reverse("schedules:schedule_detail", args=[record.pk]), value)

    def value_name(self, value):
        return value

    def render_period(self, record):
        return record.period

    def render_format(self, value, record):
        return record.format.upper()  # the short name; the display's "XLSX attachment" is for the form

    def render_recipients(self, record):
        return record.recipients_text()

    def render_when(self, record):
        return record.recurrence().describe()

    def render_next_due(self, value, record):
        if not record.enabled:
            return "disabled"
        return display.local_time(value, record.time_zone)

    def render_last_run(self, record):
        run = record.runs.first()
        if run is None:
            return "—"
        return state_badge(run.state, run.get_state_display())

    def value_last_run(self, record):
        run = record.runs.first()
        return run.state if run else ""
