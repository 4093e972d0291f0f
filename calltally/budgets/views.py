"""The budget pages: the list with this period's spending, a budget with its notices, and (for
administrators) add, edit and delete.

Anyone signed in opens the list and sees the budgets their scope holds
(calltally.budgets.services.visible: a manager their cost centers' and people's, a user their own),
read only; only administrators change budgets.
"""

from __future__ import annotations

from calltally.webkit import views as kit

from . import services
from .forms import BudgetForm
from .models import Budget
from .tables import BudgetTable, meter, state_badge


class BudgetPage:
    """What the budget pages share: the model, its names, who sees and changes which budget."""

    model = Budget
    url_base = "budgets:budget"

    def scoped(self, queryset):
        return queryset.filter(services.visible(self.scope))

    def may_change(self, obj=None) -> bool:
        return self.scope.is_administrator

    def base_queryset(self):
        return Budget.objects.select_related("person__site", "cost_center")


class BudgetListView(BudgetPage, kit.ObjectListView):
    title = "Budgets"
    table_class = BudgetTable
    bulk_actions = ()
    empty_hint = ("A budget is what a person or a cost center may spend on calls per day, week or month; "
                  "its thresholds (e.g. 80% and 100%) mail a notice once per period.")

    def table_data(self, queryset):
        budgets = list(queryset)
        found = services.statuses(budgets)
        for budget in budgets:
            budget.status = found[budget.pk]
        return budgets


class BudgetDetailView(BudgetPage, kit.ObjectDetailView):
    template_name = "budgets/budget_detail.html"

    def extra_context(self, budget):
        status = services.statuses([budget])[budget.pk]
        return {"title": f"Budget {budget.name}", "budget": budget, "status": status, "meter": meter(status, wide=True),
                "state": state_badge(status.state), "recipients": services.recipients(budget),
                "notices": budget.notices.all()[:100]}


class BudgetEditView(BudgetPage, kit.ObjectEditView):
    form_class = BudgetForm

    def make_form(self, data=None, files=None):
        form = BudgetForm(data, files, instance=self.object, scope=self.scope)
        if self.object is None and data is None:
            form.initial.setdefault("enabled", True)
        return form


class BudgetDeleteView(BudgetPage, kit.ObjectDeleteView):
    pass
