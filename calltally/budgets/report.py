"""The ``budgets`` report of the catalogue: each budget the account sees, in the period of it that
holds the last day of the report's period (this month: today; last month: its last day), with its
amount, what was carried over, spent and left. Registered when the app is ready, so it runs on the
web, ``calltally report budgets`` and the API like every report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from calltally.accounts.scope import subtree
from calltally.directory.models import CostCenter
from calltally.reports.catalogue import Column, ReportResult, register
from calltally.reports.options import preset_dates

from . import services
from .models import Budget

COLUMNS = (
    Column("budget", "Budget"), Column("who", "Whose calls"), Column("period", "Period"),
    Column("first", "From"), Column("last", "To"),
    Column("amount", "Amount", "money"), Column("carried", "Carried over", "money"),
    Column("spent", "Spent", "money"), Column("percent", "Spent %", "percent"),
    Column("remaining", "Remaining", "money"), Column("currency", "Currency"), Column("state", "State"),
)


MONEY = ("amount", "carried", "spent", "remaining")
ZERO = Decimal(0)


def reference_day(options, zone, now: dt.datetime) -> dt.date:
    """The day whose budget period the report shows: the report period's last day, never after today."""
    today = now.astimezone(zone).date()
    if options.period == "custom":
        last = options.date_to or today
    else:
        last = preset_dates(options.period, today)[1]
    return min(last, today)


@register("budgets", "Budgets", "Summaries", COLUMNS, """
Each budget of a person or a cost center in its period that holds the end of the report's period:
its amount, what the previous period carried over, what was spent (calls in the budget's currency),
the percentage, what is left and whether a threshold was passed.""")
def budgets_report(report, options, scope, now):
    now = now or dt.datetime.now(dt.UTC)
    budgets = Budget.objects.filter(services.visible(scope)).select_related("person", "cost_center")
    if options.person:
        budgets = budgets.filter(person__username=options.person)
    if options.cost_center:
        center = CostCenter.objects.filter(code=options.cost_center).first()
        ids = subtree([center.pk]) if center else frozenset()
        budgets = budgets.filter(Q(cost_center_id__in=ids) | Q(person__cost_center_id__in=ids))
    if options.currency:
        budgets = budgets.filter(currency=options.currency)
    budgets = list(budgets)
    found = services.statuses(budgets, now, day_of=lambda b: reference_day(options, b.zone, now))
    rows, sums = [], {}
    for budget in budgets:
        status = found[budget.pk]
        rows.append({
            "budget": budget.name, "who": budget.who, "period": budget.get_period_display(),
            "first": status.first.isoformat(), "last": status.last.isoformat(),
            "amount": status.amount, "carried": status.carried, "spent": status.spent, "percent": status.percent,
            "remaining": status.remaining, "currency": budget.currency, "state": status.state,
        })
        per = sums.setdefault(budget.currency, dict.fromkeys(MONEY, ZERO))
        for name in MONEY:
            per[name] += rows[-1][name]
    return ReportResult(report, options, list(report.columns), rows, totals_of(sums))


def totals_of(sums: dict[str, dict]) -> dict:
    """The money columns summed when every budget is in one currency; with several, the spending
    per currency only (amounts of different currencies are never added)."""
    if len(sums) == 1:
        [(currency, per)] = sums.items()
        return {**per, "currency": currency}
    return {"currency": "/".join(sorted(sums)),
            "spent_by_currency": {c: per["spent"] for c, per in sorted(sums.items())}}
