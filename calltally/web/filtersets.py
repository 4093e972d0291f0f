"""django-filter FilterSets of the list pages."""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

import django_filters
from django import forms
from django.db.models import Q

from calltally.calls.choices import Direction, DiscardReason, Disposition
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.sites.models import Site


def _site_filter() -> django_filters.ModelChoiceFilter:
    # By code, so addresses read /calls/?site=MILAN rather than ?site=3.
    return django_filters.ModelChoiceFilter(
        queryset=Site.objects.all(), to_field_name="code", empty_label="All sites", label="Site"
    )


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


def local_midnights(day: dt.date, site: Site | None) -> Q:
    """``start >= local midnight of day``, where midnight is each call's own site's.

    Calls are stored in UTC and every site has its own time zone, so "calls of
    2 March" means a different UTC instant per site. With a site chosen it is
    one comparison; otherwise one (site, instant) pair per site, ORed.
    """
    sites = [site] if site is not None else list(Site.objects.only("pk", "timezone"))
    if not sites:
        return Q(pk__in=[])
    return reduce(
        operator.or_,
        (Q(site_id=s.pk, start__gte=dt.datetime.combine(day, dt.time.min, tzinfo=s.zone)) for s in sites),
    )


class CallFilterSet(django_filters.FilterSet):
    site = _site_filter()
    direction = django_filters.ChoiceFilter(choices=Direction.choices, empty_label="Any direction")
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, empty_label="Any disposition")
    date_from = django_filters.DateFilter(label="From", method="filter_date_from", widget=_date_widget())
    date_to = django_filters.DateFilter(label="To (inclusive)", method="filter_date_to",
                                        widget=_date_widget())
    extension = django_filters.CharFilter(field_name="extension_number", label="Extension")
    remote = django_filters.CharFilter(field_name="remote_number", lookup_expr="icontains",
                                       label="Remote number contains")
    person = django_filters.CharFilter(field_name="person__username", lookup_expr="iexact",
                                       label="Person (username)")

    class Meta:
        model = Call
        fields: list[str] = []

    def _chosen_site(self) -> Site | None:
        return self.form.cleaned_data.get("site") if hasattr(self.form, "cleaned_data") else None

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(local_midnights(value, self._chosen_site()))

    def filter_date_to(self, queryset, name, value):
        # Before the next local midnight: the To day itself is included.
        return queryset.exclude(local_midnights(value + dt.timedelta(days=1), self._chosen_site()))


class DiscardedCallFilterSet(django_filters.FilterSet):
    site = _site_filter()
    reason = django_filters.ChoiceFilter(choices=DiscardReason.choices, empty_label="Any reason")

    class Meta:
        model = DiscardedCall
        fields: list[str] = []


class ExtensionFilterSet(django_filters.FilterSet):
    site = _site_filter()
    number = django_filters.CharFilter(lookup_expr="startswith", label="Number starts with")

    class Meta:
        model = Extension
        fields: list[str] = []
