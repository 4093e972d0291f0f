"""The audit page's filters: a time range (days in the server's time zone), the action, the
account, the kind of object, and words anywhere in the event."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from .choices import Action
from .models import AuditEvent


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


class AuditEventFilterSet(django_filters.FilterSet):
    since = django_filters.DateFilter(label="From", method="filter_since",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(label="To (inclusive)", method="filter_until",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    action = django_filters.ChoiceFilter(choices=Action.choices, empty_label="Any action", label="Action")
    account = django_filters.CharFilter(field_name="username", lookup_expr="iexact", label="Account")
    object_type = django_filters.ChoiceFilter(label="Object type", empty_label="Any object", method="filter_type")
    q = django_filters.CharFilter(label="Text", method="search")

    class Meta:
        model = AuditEvent
        fields = ()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["object_type"].extra["choices"] = object_types

    def filter_since(self, queryset, name, value):
        return queryset.filter(when__gte=_midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(when__lt=_midnight(value + dt.timedelta(days=1)))

    def filter_type(self, queryset, name, value):
        return queryset.filter(object_type=value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The JSON columns are searched as text: a name or a value changed, a reason, a query exported.
        return queryset.filter(
            Q(username__icontains=value) | Q(object_text__icontains=value) | Q(object_id=value)
            | Q(before__icontains=value) | Q(after__icontains=value) | Q(details__icontains=value)
        )


def object_types() -> list[tuple[str, str]]:
    """The kinds of object an event can name: CallTally's models and the sign-in user. Read from
    the code, not from the trail: a DISTINCT over millions of events would scan them all."""
    labels = {model._meta.label_lower: str(model._meta.verbose_name) for model in apps.get_models()
              if model.__module__.startswith("calltally.") or model._meta.label_lower == "auth.user"}
    return [(label, f"{label} ({name})") for label, name in sorted(labels.items())]
