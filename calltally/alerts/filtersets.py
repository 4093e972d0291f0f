"""The alert list's filters."""

from __future__ import annotations

import django_filters

from calltally.accounts.scope import scope_of

from .choices import Kind, State
from .models import Alert, AlertRule
from .services import rules_in_scope


class AlertFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label="State", choices=State.choices, empty_label="Any state")
    kind = django_filters.ChoiceFilter(label="Kind", field_name="rule__kind", choices=Kind.choices,
                                       empty_label="Any kind")
    rule = django_filters.ModelChoiceFilter(label="Rule", queryset=AlertRule.objects.none(), empty_label="Any rule")
    key = django_filters.CharFilter(label="What", lookup_expr="icontains")

    class Meta:
        model = Alert
        fields = ("state", "kind", "rule", "key")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        scope = scope_of(request.user) if request is not None else None
        rules = rules_in_scope(scope, AlertRule.objects.all()) if scope is not None else AlertRule.objects.none()
        self.filters["rule"].queryset = rules.order_by("name")
