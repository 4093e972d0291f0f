"""The tariff lists' filters. The site choices are the sites the account runs."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q

from calltally.accounts.scope import scope_of
from calltally.sites.models import Site
from calltally.vocabulary import CATEGORIES

from .models import Carrier, Holiday, PlanAssignment, Rate, TariffPlan


def _sites(request):
    if request is None:
        return Site.objects.none()
    return Site.objects.filter(scope_of(request.user).sites()).order_by("code")


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Plan or carrier", method="filter_q")
    carrier = django_filters.ModelChoiceFilter(label="Carrier", queryset=Carrier.objects.all(), empty_label="Any")
    site = django_filters.ModelChoiceFilter(label="Used by site", queryset=_sites, method="filter_site",
                                            empty_label="Any")
    currency = django_filters.CharFilter(label="Currency", method="filter_currency")

    class Meta:
        model = TariffPlan
        fields = ("q", "carrier", "site", "currency")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(carrier__name__icontains=value))

    def filter_site(self, queryset, name, value):
        return queryset.filter(pk__in=PlanAssignment.objects.filter(site=value).values("plan_id"))

    def filter_currency(self, queryset, name, value):
        return queryset.filter(pk__in=TariffPlan.objects.filter(versions__currency__iexact=value.strip())
                               .values("pk"))


class RateFilterSet(django_filters.FilterSet):
    prefix = django_filters.CharFilter(label="Prefix starts with", method="filter_prefix")
    number = django_filters.CharFilter(label="Rate for number", method="filter_number",
                                       help_text="E.164 digits: the rates whose prefix the number starts with.")
    destination = django_filters.CharFilter(label="Destination", lookup_expr="icontains")
    category = django_filters.ChoiceFilter(label="Category", choices=[(c, c) for c in CATEGORIES],
                                           empty_label="Any")
    band = django_filters.CharFilter(label="Band", method="filter_band")

    class Meta:
        model = Rate
        fields = ("prefix", "number", "destination", "category", "band")

    def filter_prefix(self, queryset, name, value):
        value = value.strip().lstrip("+")
        if value == "*":
            return queryset.filter(prefix="")
        return queryset.filter(prefix__startswith=value)

    def filter_number(self, queryset, name, value):
        digits = "".join(ch for ch in value if ch.isdigit())
        # Every leading part of the number, and "" (the "*" rate): the longest one present wins.
        return queryset.filter(prefix__in=[digits[:length] for length in range(len(digits) + 1)])

    def filter_band(self, queryset, name, value):
        return queryset.filter(Q(band=value.strip()) | Q(band=""))


class AssignmentFilterSet(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(label="Site", queryset=_sites, empty_label="Any")
    plan = django_filters.ModelChoiceFilter(label="Plan", queryset=TariffPlan.objects.all(), empty_label="Any")
    kind = django_filters.ChoiceFilter(label="Kind", method="filter_kind", empty_label="Any", choices=(
        ("default", "Default plan"), ("route", "Route pattern")))

    class Meta:
        model = PlanAssignment
        fields = ("site", "plan", "kind")

    def filter_kind(self, queryset, name, value):
        return queryset.filter(pattern="") if value == "default" else queryset.exclude(pattern="")


def _years():
    this = dt.date.today().year
    return [(year, year) for year in range(this + 1, this - 6, -1)]


class HolidayFilterSet(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(label="Site", queryset=_sites, method="filter_site", empty_label="Any",
                                            help_text="The days added for this site, its country or every site.")
    year = django_filters.ChoiceFilter(label="Year", choices=_years, field_name="date__year",
                                            empty_label="Any")
    name = django_filters.CharFilter(label="Name", lookup_expr="icontains")

    class Meta:
        model = Holiday
        fields = ("site", "year", "name")

    def filter_site(self, queryset, name, value):
        return queryset.filter(Q(site=value) | Q(site__isnull=True, country="")
                               | Q(site__isnull=True, country=value.country))
