"""The rule and alert lists' tables."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .choices import Kind, State
from .models import Alert, AlertRule

# Keyed by the stored state (the column is given its display text).
STATE_BADGES = {"open": "danger", "acknowledged": "warning", "reset": "secondary"}
NOWRAP = {"td": {"class": "text-nowrap"}}


class RuleTable(BaseTable):
    name = tables.Column(verbose_name="Rule")
    kind = tables.Column(verbose_name="Watches")
    parameters = tables.Column(verbose_name="Parameters", empty_values=(), orderable=False)
    scope = tables.Column(verbose_name="Over", empty_values=(), orderable=False)
    notify = tables.Column(verbose_name="Tells", empty_values=(), orderable=False)
    enabled = tables.BooleanColumn(verbose_name="On")
    open_alerts = tables.Column(verbose_name="Open alerts", attrs=NUM)
    last_checked = tables.Column(verbose_name="Last checked", default="never")

    class Meta(BaseTable.Meta):
        model = AlertRule
        fields = ()
        sequence = ("pk", "name", "kind", "parameters", "scope", "notify", "enabled", "open_alerts", "last_checked")
        order_by = ("name",)

    def render_name(self, value, record):
        url = reverse("alerts:rule_edit", args=[record.pk])
        error = format_html(' <span class="badge text-bg-danger" title="{}">check failed</span>',
                            record.last_error) if record.last_error else ""
        return format_html("{}{}", link(url, value), error)

    def render_kind(self, value, record):
        return record.get_kind_display()

    def value_kind(self, value, record):
        return record.kind

    def render_parameters(self, record):
        return record.parameters_text

    def render_scope(self, record):
        return record.scope_text

    def render_notify(self, record):
        return record.notify_text

    def render_open_alerts(self, value, record):
        if not value:
            return "0"
        return link(reverse("alerts:alert_list") + f"?rule={record.pk}&state=open", value)

    def render_last_checked(self, value, record):
        return display.local_time(value, record.site.zone if record.site_id else None)


def zone_of(alert: Alert):
    return alert.site.zone if alert.site_id else None


class AlertTable(BaseTable):
    id = tables.Column(verbose_name="Alert", attrs=NUM)
    state = tables.Column(verbose_name="State")
    rule = tables.Column(verbose_name="Rule", accessor="rule__name")
    key = tables.Column(verbose_name="What")
    count = tables.Column(verbose_name="Calls", attrs=NUM)
    first_seen = tables.Column(verbose_name="First seen", attrs=NOWRAP)
    last_seen = tables.Column(verbose_name="Last seen", attrs=NOWRAP)
    details = tables.Column(verbose_name="Details", orderable=False)
    samples = tables.Column(verbose_name="Sample calls", accessor="sample_call_ids", orderable=False)
    notified_at = tables.Column(verbose_name="Told", default="—")
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = Alert
        fields = ()
        sequence = ("pk", "id", "state", "rule", "key", "count", "first_seen", "last_seen", "details", "samples",
                    "notified_at", "actions")
        # No order_by: the page's queryset comes open first, then acknowledged, then reset, newest first.
        hidden_by_default = ("notified_at",)

    def render_id(self, value):
        return f"#{value}"

    def value_id(self, value):
        return value

    def render_state(self, value, record):
        badge = format_html('<span class="badge text-bg-{}">{}</span>',
                            STATE_BADGES.get(str(record.state), "secondary"), record.get_state_display())
        if record.state == State.ACKNOWLEDGED and record.acknowledged_by_id:
            return format_html('{} <span class="small text-body-secondary">by {}</span>', badge,
                               record.acknowledged_by.username)
        return badge

    def value_state(self, value):
        return value

    def render_rule(self, value, record):
        return format_html('{}<br><span class="small text-body-secondary">{}</span>', value,
                           Kind(record.rule.kind).label)

    def render_count(self, value, record):
        return value if record.rule.watches_calls else "—"

    def render_first_seen(self, value, record):
        return display.local_time(value, zone_of(record))

    def render_last_seen(self, value, record):
        return display.local_time(value, zone_of(record))

    def render_notified_at(self, value, record):
        return display.local_time(value, zone_of(record))

    def render_details(self, value, record):
        value = dict(value or {})
        if "cost" in value:  # the amount with its currency
            value["cost"] = f"{value['cost']} {value.pop('currency', '')}".strip()
        shown = [(key.replace("_", " "), ", ".join(map(str, item)) if isinstance(item, list) else item)
                 for key, item in value.items() if item not in (None, "", [])]
        text = format_html_join("; ", "{}: {}", shown)
        if record.notify_error:
            text = format_html('{}<br><span class="text-danger small">not told: {}</span>', text, record.notify_error)
        return text

    def render_samples(self, value, record):
        if not value:
            return "—"
        calls = format_html_join(" ", '<a href="{}">#{}</a>',
                                 ((reverse("calls:call_detail", args=[pk]), pk) for pk in value))
        if not record.site_id:
            return calls
        zone = record.site.zone
        listing = (reverse("calls:call_list") + f"?site={record.site.code}"
                   f"&date_from={record.first_seen.astimezone(zone):%Y-%m-%d}"
                   f"&date_to={record.last_seen.astimezone(zone):%Y-%m-%d}")
        return format_html('{}<br><a class="small" href="{}">the calls of those days</a>', calls, listing)

    def render_actions(self, record):
        # The table sits inside the list's bulk form: the buttons post the page's own alert-actions
        # form (outside it) to this alert's address.
        if not getattr(record, "may_act", False) or record.state == State.RESET:
            return ""
        url = reverse("alerts:alert_action", args=[record.pk])
        buttons = [("reset", "btn-outline-secondary", "Reset")]
        if record.state == State.OPEN:
            buttons.insert(0, ("ack", "btn-outline-primary", "Acknowledge"))
        return format_html_join(
            " ", '<button type="submit" form="alert-actions" formaction="{}" name="action" value="{}" '
                 'class="btn {} btn-sm py-0 text-nowrap">{}</button>',
            ((url, action, style, label) for action, style, label in buttons))
