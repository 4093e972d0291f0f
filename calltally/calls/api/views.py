"""The calls endpoints: ``/api/calls/`` (cursor pages; the call list's filters, or the report options)
and ``/api/calls/<id>/``.

The account's scope comes first (the call list page's ``scoped``), the filters only narrow it:
``?person=someone-else`` finds nothing rather than another person's calls. A query that names a
report option the call list has no filter for (``period``, ``category``, ``min_cost``…) is read
whole as report options, so it finds exactly the calls a report run with it counts.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from calltally.api.pagination import CallCursor
from calltally.api.resources import Endpoint, form_errors
from calltally.calls.filtersets import CallFilterSet
from calltally.calls.models import Call
from calltally.calls.views import CallDetailView, CallListView
from calltally.reports.options import OptionsError, OptionsForm, calls_for, validate

from .serializers import CallSerializer

# A query naming one of these is read as report options (see docs/api.md, "Calls").
REPORT_ONLY = set(OptionsForm.base_fields) - set(CallFilterSet.base_filters)
FILTERS = [
    OpenApiParameter(name, str, description=str(CallFilterSet.base_filters[name].label or name))
    for name in CallFilterSet.base_filters
] + [
    OpenApiParameter(name, str, description=f"Report option: {OptionsForm.base_fields[name].label}. With any "
                                            "report option the whole query is read as report options.")
    for name in sorted(REPORT_ONLY)
]


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class CallViewSet(Endpoint, viewsets.ReadOnlyModelViewSet):
    """Calls the account may see: single-record and merged calls, oldest first; a call's legs are
    reached by their id."""

    serializer_class = CallSerializer
    pagination_class = CallCursor
    policy_class = CallListView
    queryset = Call.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Call.objects.none()
        if self.action == "retrieve":
            page = self.make_policy(CallDetailView)  # every row: a leg too, as on the call's page
        else:
            page = self.policy
        # base_queryset joins the site, person and cost center: no query per call.
        return page.scoped(page.base_queryset())

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        query = self.request.query_params
        if REPORT_ONLY & set(query):
            # Report options: exactly the calls a report run with this query counts (the same form,
            # the same scope, the period in each site's own zone).
            try:
                options = validate(query, scope=self.scope)
            except OptionsError as exc:
                raise exceptions.ValidationError(form_errors(exc.form)) from None
            return calls_for(options, self.scope).select_related("site", "person", "cost_center")
        filterset = CallFilterSet(query, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise exceptions.ValidationError({name: [str(m) for m in messages]
                                              for name, messages in filterset.errors.items()})
        return filterset.qs
