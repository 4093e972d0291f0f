"""The calls endpoints: ``/api/calls/`` (cursor pages, the call list's filters) and ``/api/calls/<id>/``.

The account's scope comes first (the call list page's ``scoped``), the filters only narrow it:
``?person=someone-else`` finds nothing rather than another person's calls.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from calltally.api.pagination import CallCursor
from calltally.api.resources import Endpoint
from calltally.calls.filtersets import CallFilterSet
from calltally.calls.models import Call
from calltally.calls.views import CallDetailView, CallListView

from .serializers import CallSerializer

FILTERS = [
    OpenApiParameter(name, str, description=str(CallFilterSet.base_filters[name].label or name))
    for name in CallFilterSet.base_filters
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
        filterset = CallFilterSet(self.request.query_params, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise exceptions.ValidationError({name: [str(m) for m in messages]
                                              for name, messages in filterset.errors.items()})
        return filterset.qs
