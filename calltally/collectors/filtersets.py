"""The connection list's filters."""

from __future__ import annotations

import django_filters
from django import forms

from calltally.accounts.scope import scope_of
from calltally.sites.models import Site

from .choices import ConnectionKind
from .models import Connection


def runs(request):
    """The sites offered (and accepted) as a filter: those the account runs."""
    if request is None:
        return Site.objects.none()
    return Site.objects.filter(scope_of(request.user).sites())


STATES = ("starting", "listening", "connected", "polling", "waiting", "error", "stopped")


class ConnectionFilterSet(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=lambda request: runs(request), to_field_name="code",
                                            label="Site", empty_label="All sites")
    kind = django_filters.ChoiceFilter(choices=ConnectionKind.choices, label="Kind", empty_label="Any kind")
    enabled = django_filters.BooleanFilter(label="Enabled", widget=forms.Select(
        choices=(("", "Any"), ("true", "Enabled"), ("false", "Disabled"))))
    state = django_filters.ChoiceFilter(
        label="State", method="filter_state", empty_label="Any state",
        choices=[(state, state) for state in STATES] + [("never", "never started")])

    class Meta:
        model = Connection
        fields = ("site", "kind", "enabled", "state")

    def filter_state(self, queryset, name, value):
        if value == "never":
            return queryset.filter(state__isnull=True)
        return queryset.filter(state__state=value)
