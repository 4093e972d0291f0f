"""The audit page's table: who did what, when, from where, to what, and what changed."""

from __future__ import annotations

import django_tables2 as tables
from django.conf import settings
from django.utils.html import format_html, format_html_join

from calltally.webkit import display
from calltally.webkit.tables import BaseTable

from .models import AuditEvent

# A value longer than this is cut on screen (the CSV export has it whole).
SHOWN = 120


def changes(before: dict | None, after: dict | None) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field whose value differs; a creation has only ``after``,
    a deletion only ``before``. Keys that are not dicts (a list snapshot) compare as one value."""
    if before is None and isinstance(after, dict):
        before = {}
    if after is None and isinstance(before, dict):
        after = {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        if before == after:
            return []
        return [("", before, after)]
    keys = sorted(set(before) | set(after))
    return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]


def _text(value, limit: int | None = SHOWN) -> str:
    text = "—" if value is None else str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


class AuditEventTable(BaseTable):
    when = tables.Column(verbose_name="Time", attrs={"td": {"class": "text-nowrap"}})
    username = tables.Column(verbose_name="Account")
    address = tables.Column(verbose_name="Address")
    action = tables.Column(verbose_name="Action")
    object = tables.Column(verbose_name="Object", accessor="object_text", order_by=("object_type", "object_id"))
    changes = tables.Column(verbose_name="Changes", accessor="pk", orderable=False, empty_values=())
    details = tables.Column(verbose_name="Details", orderable=False, empty_values=())

    class Meta(BaseTable.Meta):
        model = AuditEvent
        fields = ()
        sequence = ("pk", "when", "username", "address", "action", "object", "changes", "details")
        order_by = ("-when",)

    def render_when(self, value):
        # The trail spans every site: the server's time zone, with its offset.
        return display.local_time(value, settings.TIME_ZONE)

    def render_action(self, record):
        # django-tables2 hands a choices field's label as the value: the class needs the code.
        return display.badge(record.action, record.get_action_display())

    def value_action(self, record):
        return record.get_action_display()

    def render_object(self, value, record):
        if not record.object_type:
            return display.EMPTY
        return format_html('<span class="text-body-secondary">{} #{}</span> {}', record.object_type,
                           record.object_id, value)

    def value_object(self, value, record):
        return f"{record.object_type} #{record.object_id} {value}".strip() if record.object_type else ""

    def render_changes(self, record):
        found = changes(record.before, record.after)
        if not found:
            return display.EMPTY
        return format_html('<ul class="list-unstyled mb-0 small audit-changes">{}</ul>', format_html_join(
            "", '<li><code>{}</code> <del>{}</del> → <ins>{}</ins></li>',
            ((key or "value", _text(old), _text(new)) for key, old, new in found)))

    def value_changes(self, record):
        return "; ".join(f"{key or 'value'}: {_text(old, None)} -> {_text(new, None)}"
                         for key, old, new in changes(record.before, record.after))

    def render_details(self, value):
        if not value:
            return display.EMPTY
        return format_html('<span class="small">{}</span>', _text(
            ", ".join(f"{key}={item}" for key, item in value.items())))

    def value_details(self, value):
        return ", ".join(f"{key}={item}" for key, item in (value or {}).items())
