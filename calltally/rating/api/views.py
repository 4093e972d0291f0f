"""``/api/tariff-plans/`` (read only) and ``/api/tariff-assignments/`` (through
:class:`~calltally.rating.forms.AssignmentForm`, the form of `calltally tariff assign` and the
assignment pages), scoped as the tariff pages are."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import viewsets

from calltally.api.resources import Endpoint, FormResource, documented
from calltally.rating.forms import AssignmentForm
from calltally.rating.models import PlanAssignment, TariffPlan, TariffVersion
from calltally.rating.views import AssignmentEditView, PlanListView
from calltally.sites.models import Site

from .serializers import AssignmentSerializer, PlanSerializer


class PlanViewSet(Endpoint, viewsets.ReadOnlyModelViewSet):
    """Tariff plans with their versions, for the accounts that run sites."""

    serializer_class = PlanSerializer
    policy_class = PlanListView
    queryset = TariffPlan.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TariffPlan.objects.none()
        plans = TariffPlan.objects.select_related("carrier").prefetch_related(
            Prefetch("versions", queryset=TariffVersion.objects.order_by("valid_from")))
        return self.policy.scoped(plans).order_by("name")


@documented(AssignmentForm, "Assignment", AssignmentSerializer)
class AssignmentViewSet(FormResource):
    """A site's default plan (no pattern) or the plan of its calls whose trunk matches a pattern. The
    site is given by its code, the plan by its name. Changing one replaces it (its id changes)."""

    serializer_class = AssignmentSerializer
    form_class = AssignmentForm
    policy_class = AssignmentEditView
    queryset = PlanAssignment.objects.none()

    def to_form_value(self, key, value):
        # The form chooses by primary key; the API names a site by code and a plan by name. A name
        # that matches nothing goes to the form as it is, which refuses it.
        if key == "site" and isinstance(value, str):
            found = Site.objects.filter(code=value).values_list("pk", flat=True).first()
            return value if found is None else found
        if key == "plan" and isinstance(value, str):
            found = TariffPlan.objects.filter(name=value).values_list("pk", flat=True).first()
            return value if found is None else found
        return value
