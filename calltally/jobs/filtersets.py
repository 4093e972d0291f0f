"""The job list's filters."""

from __future__ import annotations

import django_filters

from calltally.accounts.scope import scope_of
from calltally.sites.models import Site

from .models import Job, Kind, State


class JobFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="Kind", choices=Kind.choices, empty_label="Any kind")
    state = django_filters.ChoiceFilter(label="State", choices=State.choices, empty_label="Any state")
    site = django_filters.ModelChoiceFilter(label="Site", queryset=Site.objects.none(), to_field_name="code",
                                            empty_label="Any site")

    class Meta:
        model = Job
        fields = ("kind", "state", "site")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        scope = scope_of(request.user) if request is not None else None
        sites = Site.objects.filter(scope.sites()) if scope is not None else Site.objects.none()
        self.filters["site"].queryset = sites.order_by("code")
