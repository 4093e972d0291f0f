"""The budget list's table: each budget with this period's amount, spending and a bar."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .models import Budget

STATE_BADGES = {"ok": ("success", "within budget"), "warning": ("warning", "threshold passed"),
                "over": ("danger", "spent"), "disabled": ("secondary", "disabled")}


def state_badge(state: str) -> str:
    colour, label = STATE_BADGES.get(state, ("secondary", state))
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, label)


def meter(status, wide: bool = False) -> str:
    """The spending as a <meter> (no inline style: the browser draws the bar, and colours it
    past the lowest threshold and at 100%)."""
    thresholds = status.budget.threshold_list or [100]
    return format_html(
        '<meter class="budget-meter{}" min="0" max="100" low="{}" high="{}" optimum="0" value="{}" '
        'title="{}% of {}">{}%</meter> <span class="small">{}%</span>',
        " w-100" if wide else "", min(thresholds[0], 99.9), 99.9, min(status.percent, 100), status.percent,
        display.money(status.amount, status.budget.currency), status.percent, status.percent)


class BudgetTable(BaseTable):
    """Rows are budgets carrying their ``status`` (calltally.budgets.services.Status)."""

    name = tables.Column(verbose_name="Budget")
    who = tables.Column(verbose_name="Whose calls", empty_values=(), orderable=False)
    period = tables.Column(verbose_name="Period")
    current = tables.Column(verbose_name="This period", empty_values=(), orderable=False)
    amount = tables.Column(verbose_name="Amount", empty_values=(), orderable=False, attrs=NUM)
    spent = tables.Column(verbose_name="Spent", empty_values=(), orderable=False, attrs=NUM)
    percent = tables.Column(verbose_name="Spent %", empty_values=(), orderable=False)
    state = tables.Column(verbose_name="State", empty_values=(), orderable=False)
    thresholds = tables.Column(verbose_name="Thresholds")

    class Meta(BaseTable.Meta):
        model = Budget
        fields = ()
        sequence = ("pk", "name", "who", "period", "current", "amount", "spent", "percent", "state", "thresholds")
        order_by = ("name",)

    def render_name(self, value, record):
        return link(reverse("budgets:budget_detail", args=[record.pk]), value)

    def value_name(self, value):
        return value

    def render_who(self, record):
        return record.who

    def render_period(self, value, record):
        return record.get_period_display()

    def render_current(self, record):
        return record.status.text

    def render_amount(self, record):
        return display.money(record.status.amount, record.currency)

    def value_amount(self, record):
        return record.status.amount

    def render_spent(self, record):
        return display.money(record.status.spent, record.currency)

    def value_spent(self, record):
        return record.status.spent

    def render_percent(self, record):
        return meter(record.status)

    def value_percent(self, record):
        return record.status.percent

    def render_thresholds(self, record):
        return ", ".join(f"{t}%" for t in record.threshold_list)

    def render_state(self, record):
        return state_badge(record.status.state)

    def value_state(self, record):
        return record.status.state
