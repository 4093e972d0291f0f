"""The site list's filters."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from calltally.drivers import registry

from .models import Site


def _driver_choices():
    return sorted((name, f"{cls.brand} ({name})") for name, cls in registry().items())


class SiteFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Code or name", method="filter_q")
    driver = django_filters.ChoiceFilter(label="Driver", choices=_driver_choices, empty_label="Any driver")
    country = django_filters.CharFilter(label="Country", lookup_expr="iexact")
    enabled = django_filters.BooleanFilter(label="Enabled", widget=forms.Select(
        choices=(("", "Any"), ("true", "Enabled"), ("false", "Disabled"))))
    reading = django_filters.ChoiceFilter(
        label="Records", method="filter_reading", empty_label="Any",
        choices=(("read", "Read as calls"), ("problem", "Not read as calls")))

    class Meta:
        model = Site
        fields = ("q", "driver", "country", "enabled", "reading")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))

    def filter_reading(self, queryset, name, value):
        problem = ~Q(reading_problem="")
        return queryset.filter(problem if value == "problem" else ~problem)
