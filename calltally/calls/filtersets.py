"""The filters of the call and discarded-call lists (one FilterSet per model).

A filter only ever narrows what the page already scoped to the account, so
``?person=someone-else`` finds nothing rather than someone else's calls; the
choices it offers (sites, cost centers) are narrowed the same way, so the form
never names what the account may not see.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

import django_filters
from django import forms
from django.db.models import Q

from calltally.accounts.models import Role
from calltally.accounts.scope import scope_of, subtree
from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site

from .choices import Direction, DiscardReason, Disposition
from .models import Call, DiscardedCall


def visible_sites(request):
    """The sites offered in the site filter: those the account runs, or every site for the
    roles that see calls by person or cost center (theirs may be at any site)."""
    if request is None:
        return Site.objects.none()
    scope = scope_of(request.user)
    if scope.runs_sites:
        return Site.objects.filter(scope.sites())
    return Site.objects.all()


def visible_cost_centers(request):
    """A manager picks among their own subtree; the other roles among every cost center."""
    if request is None:
        return CostCenter.objects.none()
    scope = scope_of(request.user)
    if scope.role == Role.MANAGER:
        return CostCenter.objects.filter(pk__in=scope.cost_center_ids or ())
    return CostCenter.objects.all()


def _site_filter(queryset=visible_sites) -> django_filters.ModelChoiceFilter:
    # By code, so addresses read /calls/?site=MILAN rather than ?site=3.
    return django_filters.ModelChoiceFilter(queryset=queryset, to_field_name="code", empty_label="All sites",
                                            label="Site")


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


def local_midnights(day: dt.date, site: Site | None, field: str = "start") -> Q:
    """``field >= local midnight of day``, where midnight is each row's own site's.

    Calls are stored in UTC and every site has its own time zone, so "calls of
    2 March" means a different UTC instant per site. With a site chosen it is
    one comparison; otherwise one (site, instant) pair per site, ORed.
    """
    sites = [site] if site is not None else list(Site.objects.only("pk", "timezone"))
    if not sites:
        return Q(pk__in=[])
    return reduce(
        operator.or_,
        (Q(site_id=s.pk, **{f"{field}__gte": dt.datetime.combine(day, dt.time.min, tzinfo=s.zone)}) for s in sites),
    )


class LocalDaysMixin:
    """``date_from`` / ``date_to`` filters on whole days of each row's site calendar."""

    day_field = "start"

    def _chosen_site(self) -> Site | None:
        return self.form.cleaned_data.get("site") if hasattr(self.form, "cleaned_data") else None

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(local_midnights(value, self._chosen_site(), self.day_field))

    def filter_date_to(self, queryset, name, value):
        # Before the next local midnight: the To day itself is included.
        return queryset.exclude(local_midnights(value + dt.timedelta(days=1), self._chosen_site(), self.day_field))


class CallFilterSet(LocalDaysMixin, django_filters.FilterSet):
    site = _site_filter()
    date_from = django_filters.DateFilter(label="From", method="filter_date_from", widget=_date_widget())
    date_to = django_filters.DateFilter(label="To (inclusive)", method="filter_date_to", widget=_date_widget())
    direction = django_filters.ChoiceFilter(choices=Direction.choices, empty_label="Any direction")
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, empty_label="Any disposition")
    extension = django_filters.CharFilter(field_name="extension_number", label="Extension")
    remote = django_filters.CharFilter(field_name="remote_number", lookup_expr="icontains",
                                       label="Remote number contains")
    person = django_filters.CharFilter(method="filter_person", label="Person (username)")
    cost_center = django_filters.ModelChoiceFilter(
        queryset=visible_cost_centers, to_field_name="code", method="filter_cost_center",
        empty_label="All cost centers", label="Cost center (and below)")
    # The account as shown (its description where the code is replaced), never the code as dialled:
    # searching the dialled code would let anyone probe for a PIN.
    account = django_filters.CharFilter(field_name="account", lookup_expr="icontains", label="Account contains")

    class Meta:
        model = Call
        fields: list[str] = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None and scope_of(request.user).role == Role.USER:
            # A user sees their own calls: a person or cost-center choice would only ever find those.
            for name in ("person", "cost_center"):
                self.filters.pop(name)

    def filter_cost_center(self, queryset, name, value):
        return queryset.filter(cost_center_id__in=subtree([value.pk]))

    def filter_person(self, queryset, name, value):
        # The person's id first: with the username joined in, the database walks every call
        # newest first looking for theirs (0.2 s on 2 million calls) instead of their own index.
        ids = list(Person.objects.filter(username__iexact=value).values_list("pk", flat=True))
        return queryset.filter(person_id__in=ids)


class DiscardedCallFilterSet(LocalDaysMixin, django_filters.FilterSet):
    day_field = "received"

    site = _site_filter()
    reason = django_filters.ChoiceFilter(choices=DiscardReason.choices, empty_label="Any reason")
    date_from = django_filters.DateFilter(label="Received from", method="filter_date_from", widget=_date_widget())
    date_to = django_filters.DateFilter(label="Received to (inclusive)", method="filter_date_to",
                                        widget=_date_widget())
    extension = django_filters.CharFilter(field_name="extension_number", label="Extension")
    text = django_filters.CharFilter(field_name="raw_text", lookup_expr="icontains", label="Raw text contains")

    class Meta:
        model = DiscardedCall
        fields: list[str] = []
