"""The filters of the directory's list pages: people, extensions, cost centers, account codes.

A filter that chooses a site offers only the sites the account runs (the ``request`` the
list page passes in says whose page it is); sites and cost centers are chosen by code, so
an address reads ``?site=HQ&cost_center=SALES``.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from calltally.accounts.scope import scope_of
from calltally.sites.models import Site

from .models import AccountCode, CostCenter, Extension, Person

YES_NO = (("yes", "Yes"), ("no", "No"))


def _sites(request):
    if request is None:
        return Site.objects.none()
    return Site.objects.filter(scope_of(request.user).sites()).order_by("code")


def site_filter(field_name: str = "site") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(field_name=field_name, queryset=_sites, to_field_name="code",
                                            empty_label="All sites", label="Site")


def cost_center_filter(field_name: str = "cost_center", label: str = "Cost center"):
    return django_filters.ModelChoiceFilter(field_name=field_name, queryset=CostCenter.objects.order_by("code"),
                                            to_field_name="code", empty_label="Any cost center", label=label)


def yes_no_filter(field_name: str, label: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(field_name=field_name, choices=YES_NO, label=label, empty_label="Either",
                                       method="filter_yes_no")


class DirectoryFilterSet(django_filters.FilterSet):
    """What every directory filter set shares: a free-text box over ``search_fields``, yes/no choices."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="filter_text", label="Search")

    def filter_text(self, queryset, name, value):
        words = value.split()
        for word in words:
            match = Q()
            for field in self.search_fields:
                match |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(match)
        return queryset

    def filter_yes_no(self, queryset, name, value):
        if value not in ("yes", "no"):
            return queryset
        return queryset.filter(**{name: value == "yes"})


class PersonFilterSet(DirectoryFilterSet):
    search_fields = ("username", "first_name", "last_name", "email")
    site = site_filter()
    cost_center = cost_center_filter()
    active = yes_no_filter("active", "Active")
    virtual = yes_no_filter("virtual", "Virtual")
    manager = django_filters.CharFilter(field_name="manager__username", lookup_expr="iexact",
                                        label="Manager (username)")

    class Meta:
        model = Person
        fields: list[str] = []


class ExtensionFilterSet(DirectoryFilterSet):
    search_fields = ("number", "person__username", "person__first_name", "person__last_name", "aliases__number")
    site = site_filter()
    number = django_filters.CharFilter(lookup_expr="startswith", label="Number starts with")
    cost_center = cost_center_filter()
    person = django_filters.CharFilter(field_name="person__username", lookup_expr="iexact",
                                       label="Person (username)")
    assigned = yes_no_filter("person__isnull", "Assigned")
    billing_enabled = yes_no_filter("billing_enabled", "Billing")
    auto_acquired = yes_no_filter("auto_acquired", "Auto-acquired")

    class Meta:
        model = Extension
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        # Through the aliases a row can match twice.
        return super().filter_text(queryset, name, value).distinct()

    def filter_yes_no(self, queryset, name, value):
        if name == "person__isnull" and value in ("yes", "no"):
            return queryset.filter(person__isnull=value == "no")
        return super().filter_yes_no(queryset, name, value)


class CostCenterFilterSet(DirectoryFilterSet):
    search_fields = ("code", "name", "manager__username", "manager__last_name")

    class Meta:
        model = CostCenter
        fields: list[str] = []


def readable_codes(scope) -> Q:
    """The account codes whose code the account may read: those not shown as their description,
    and those it manages (administrators all; a site administrator their sites')."""
    if scope.is_administrator:
        return Q()
    return Q(replace_with_description=False) | scope.sites(field="site")


class AccountCodeFilterSet(DirectoryFilterSet):
    """Account codes by site and by any of their fields."""

    search_fields = ("description",)
    site = django_filters.ChoiceFilter(label="Valid on site", empty_label="Any site", method="filter_site")
    code = django_filters.CharFilter(method="filter_code", label="Code contains")
    description = django_filters.CharFilter(lookup_expr="icontains", label="Description contains")
    cost_center = cost_center_filter()
    privacy_digits = django_filters.NumberFilter(label="Privacy digits")
    replace_with_description = yes_no_filter("replace_with_description", "Shown as description")

    MULTISITE = "*"

    class Meta:
        model = AccountCode
        fields: list[str] = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.readable = readable_codes(scope_of(request.user)) if request is not None else Q(pk__in=[])
        # A site, or "*": the codes valid on every site (those with no site of their own).
        self.filters["site"].extra["choices"] = [(self.MULTISITE, "Every site (multisite)"),
                                                 *((s.code, s.code) for s in _sites(request))]

    def filter_code(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) & self.readable)

    def filter_text(self, queryset, name, value):
        # The code is searched only where the account may read it: a search must not find a PIN.
        for word in value.split():
            queryset = queryset.filter(Q(description__icontains=word) | (Q(code__icontains=word) & self.readable))
        return queryset

    def filter_site(self, queryset, name, value):
        if value == self.MULTISITE:
            return queryset.filter(site__isnull=True)
        # As `calltally accounts list --site`: the site's own codes and those valid on every site.
        return queryset.filter(Q(site__code=value) | Q(site__isnull=True))
