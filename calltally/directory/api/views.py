"""``/api/people/``, ``/api/extensions/``, ``/api/cost-centers/``, ``/api/account-codes/``: through the
directory's forms (those of the pages, the importers and the CLI), scoped as the directory pages are."""

from __future__ import annotations

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from calltally.api.resources import FormResource, documented
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.directory.forms import AccountCodeForm, CostCenterForm, ExtensionForm, PersonForm
from calltally.directory.models import AccountCode, CostCenter, Extension, Person
from calltally.directory.services import remove_person
from calltally.directory.views import (
    AccountCodeEditView,
    CostCenterDeleteView,
    CostCenterEditView,
    ExtensionEditView,
    PersonEditView,
)

from .serializers import AccountCodeSerializer, CostCenterSerializer, ExtensionSerializer, PersonSerializer


@documented(PersonForm, "Person", PersonSerializer)
class PersonViewSet(FormResource):
    serializer_class = PersonSerializer
    form_class = PersonForm
    policy_class = PersonEditView
    queryset = Person.objects.none()

    def perform_delete(self, request, person):
        """As the person pages and the people import: a person whose calls are theirs is made inactive
        (their extensions released) instead, so the calls stay theirs."""
        before = self.snapshot(person)
        name = str(person)
        with transaction.atomic():
            deleted = remove_person(person)
        if deleted:
            audit.record(request, Action.DELETE, obj=person, before=before, text=name, via="api")
            return Response(status=status.HTTP_204_NO_CONTENT)
        audit.record(request, Action.UPDATE, obj=person, before=before, after=self.snapshot(person), via="api",
                     reason="has calls: made inactive instead of deleted")
        return Response({**self.representation(person),
                         "detail": f"{name} has calls, so they were made inactive rather than deleted."})


@documented(ExtensionForm, "Extension", ExtensionSerializer)
class ExtensionViewSet(FormResource):
    serializer_class = ExtensionSerializer
    form_class = ExtensionForm
    policy_class = ExtensionEditView
    queryset = Extension.objects.none()

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if getattr(self, "swagger_fake_view", False) else queryset.prefetch_related("aliases")


@documented(CostCenterForm, "CostCenter", CostCenterSerializer)
class CostCenterViewSet(FormResource):
    serializer_class = CostCenterSerializer
    form_class = CostCenterForm
    policy_class = CostCenterEditView
    delete_policy_class = CostCenterDeleteView
    queryset = CostCenter.objects.none()

    def refusal(self, center) -> str:
        # Reports sum calls by cost center: one with calls charged to it stays (as on its page).
        uses = CostCenterDeleteView.uses(center)
        if uses["has_calls"]:
            return f"Cost center {center.code} was not deleted: calls are charged to it."
        if uses["children"]:
            return f"Cost center {center.code} was not deleted: other cost centers are below it."
        return ""


@documented(AccountCodeForm, "AccountCode", AccountCodeSerializer)
class AccountCodeViewSet(FormResource):
    serializer_class = AccountCodeSerializer
    form_class = AccountCodeForm
    policy_class = AccountCodeEditView
    queryset = AccountCode.objects.none()
