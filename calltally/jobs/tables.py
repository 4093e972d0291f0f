"""The job list's table."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .models import Job

STATE_BADGES = {"queued": "secondary", "running": "primary", "succeeded": "success", "failed": "danger",
                "cancelled": "warning"}


def zone_of(job: Job):
    """A job's instants are shown in its site's zone; a job on every site in UTC."""
    return job.site.zone if job.site_id else None


class JobTable(BaseTable):
    id = tables.Column(verbose_name="Job", attrs=NUM)
    kind = tables.Column(verbose_name="Kind")
    site = tables.Column(verbose_name="Site", accessor="site__code", default="every site")
    what = tables.Column(verbose_name="What", empty_values=(), orderable=False)
    state = tables.Column(verbose_name="State")
    progress = tables.Column(verbose_name="Progress", empty_values=(), order_by=("done",), attrs=NUM)
    created_by = tables.Column(verbose_name="Asked by", accessor="created_by__username", default="—")
    created = tables.Column(verbose_name="Asked at")
    finished = tables.Column(verbose_name="Finished", default="—")

    class Meta(BaseTable.Meta):
        model = Job
        fields = ()
        sequence = ("pk", "id", "kind", "site", "what", "state", "progress", "created_by", "created", "finished")
        order_by = ("-created",)

    def render_id(self, value, record):
        return link(reverse("jobs:job_detail", args=[record.pk]), f"#{value}")

    def value_id(self, value):
        return value

    def render_kind(self, value, record):
        return record.get_kind_display()

    def render_what(self, record):
        return record.scope_text()

    def render_state(self, value, record):
        return format_html('<span class="badge text-bg-{}">{}</span>', STATE_BADGES.get(value, "secondary"),
                           record.get_state_display())

    def value_state(self, value):
        return value

    def render_progress(self, record):
        if record.state == "queued" and not record.total:
            return "waiting"  # the work is counted when the job starts
        return f"{record.done:,}/{record.total:,} ({record.percent}%)"

    def render_created(self, value, record):
        return display.local_time(value, zone_of(record))

    def render_finished(self, value, record):
        return display.local_time(value, zone_of(record))
