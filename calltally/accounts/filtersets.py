"""The accounts page's filters."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from calltally.sites.models import Site

from .models import Role

YES_NO = [("", "Any"), ("true", "Yes"), ("false", "No")]


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search",
                                  help_text="Username, e-mail, or the linked person's name")
    role = django_filters.ChoiceFilter(field_name="account__role", choices=Role.choices, empty_label="Any role",
                                       label="Role")
    site = django_filters.ModelChoiceFilter(field_name="account__sites", queryset=Site.objects.all(),
                                            to_field_name="code", empty_label="Any site", label="Site")
    is_active = django_filters.BooleanFilter(label="Active", widget=forms.Select(choices=YES_NO))
    ldap = django_filters.BooleanFilter(field_name="account__ldap", label="LDAP", widget=forms.Select(choices=YES_NO))

    class Meta:
        model = get_user_model()
        fields = ()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(email__icontains=value)
            | Q(account__person__username__icontains=value) | Q(account__person__first_name__icontains=value)
            | Q(account__person__last_name__icontains=value)
        ).distinct()
