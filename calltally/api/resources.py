"""What every API endpoint is made of.

* :class:`Endpoint` — an API view outside the web's sign-in redirect (the API answers 401/403
  itself: a script has no sign-in page to go to) that knows the account's scope.
* **Policy.** An endpoint does not decide who sees what: it asks the web page of the same objects
  (its ``policy_class``, e.g. ``SiteEditView``) — the page's ``admits``, ``scoped``,
  ``may_add`` and ``may_change`` — so the API and the web can never disagree on scope.
* :class:`FormResource` — a configuration object read and written through the one form the web
  page and the CLI validate with: the JSON a client sends is laid over the object's current values
  as the form posts them, the form decides, and its messages come back as a 400 by field. Every
  change is audited before and after, as a page's is.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from calltally.accounts.scope import scope_of
from calltally.audit import services as audit
from calltally.audit.choices import Action


class Endpoint:
    """Mixed into every API view (before DRF's class)."""

    # The web page whose scoping the endpoint applies (see the module's doc).
    policy_class = None

    @classmethod
    def as_view(cls, *args, **initkwargs):
        # The API signs requests in itself (token or session) and answers 401/403, never a redirect
        # to the sign-in page that LoginRequiredMiddleware would send.
        return login_not_required(super().as_view(*args, **initkwargs))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.scope = scope_of(request.user)
        if self.policy_class is not None:
            self.policy = self.make_policy(self.policy_class)
            if not self.policy.admits(self.scope):
                raise exceptions.PermissionDenied("Your account's role does not open these objects.")

    def make_policy(self, page_class):
        page = page_class()
        page.request, page.scope, page.args, page.kwargs = self.request, self.scope, (), {}
        return page


class ApiView(Endpoint, APIView):
    """A plain API view (the API root, the report endpoints)."""


def form_errors(form: forms.BaseForm, names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A form's errors by field, as the API names its fields (``names``: form name → API name);
    errors about the whole object under ``non_field_errors``."""
    names = names or {}
    found: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        key = "non_field_errors" if field == "__all__" else names.get(field, field)
        found.setdefault(key, []).extend(str(message) for message in messages)
    return found


def writable_serializer(form_class: type[forms.BaseForm], name: str, rename: dict[str, str] | None = None,
                        extra: dict | None = None, skip: tuple[str, ...] = ()) -> type[serializers.Serializer]:
    """The request body the schema documents for a form: one field per form field, of its type.

    Only the schema reads it — the form validates — so the documented body cannot drift from
    what is accepted: it is derived from the very form."""
    rename = rename or {}
    fields: dict[str, serializers.Field] = {}
    for field_name, field in form_class.base_fields.items():
        if field_name in skip:
            continue
        options = {"required": False, "help_text": str(field.help_text or field.label or "") or None}
        if isinstance(field, forms.ModelMultipleChoiceField):
            made = serializers.ListField(child=serializers.CharField(), **options)
        elif isinstance(field, forms.ModelChoiceField):
            made = serializers.CharField(allow_blank=True, allow_null=True, **options)
        elif isinstance(field, forms.BooleanField):
            made = serializers.BooleanField(**options)
        elif isinstance(field, forms.IntegerField):
            made = serializers.IntegerField(allow_null=True, **options)
        elif isinstance(field, forms.DecimalField):
            made = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True, **options)
        elif isinstance(field, forms.DateField):
            made = serializers.DateField(allow_null=True, **options)
        elif isinstance(field, forms.JSONField):
            made = serializers.JSONField(**options)
        elif isinstance(field, forms.ChoiceField) and not isinstance(field.widget, forms.TextInput):
            choices = [value for value, _ in field.choices if value != ""] if field.choices else []
            made = (serializers.ChoiceField(choices=choices, **options) if choices
                    else serializers.CharField(allow_blank=True, **options))
        else:
            made = serializers.CharField(allow_blank=True, **options)
        fields[rename.get(field_name, field_name)] = made
    fields.update(extra or {})
    return type(name, (serializers.Serializer,), fields)


class FormResource(Endpoint, viewsets.GenericViewSet):
    """List, read, create (POST), change (PATCH: only the fields given change) and delete one kind of
    configuration object through its form (see the module's doc)."""

    form_class: type[forms.BaseForm] | None = None
    # The web page class that deletes (its ``may_change`` is asked); default: the policy.
    delete_policy_class = None
    # API field name → form field name, where they differ.
    field_names: dict[str, str] = {}
    audit_exclude: tuple[str, ...] = ()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    # --- what the account sees ------------------------------------------------------------
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator looks at the model only
            return self.queryset if self.queryset is not None else self.policy_class.model._default_manager.none()
        queryset = self.policy.scoped(self.policy.base_queryset())
        return queryset if queryset.ordered else queryset.order_by("pk")

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, TypeError):
            raise Http404("No such object.") from None

    # --- the form ---------------------------------------------------------------------------
    def make_form(self, data, instance):
        return self.form_class(data, None, instance=instance, scope=self.scope)

    def current_values(self, instance) -> dict:
        """The object's values as its form posts them (a new object: the form's initial values)."""
        form = self.make_form(None, instance)
        return {name: form[name].value() for name, field in form.fields.items() if not field.disabled}

    def api_names(self) -> dict[str, str]:
        """Form field name → API field name."""
        return {form: api for api, form in self.field_names.items()}

    def form_data(self, instance, given) -> dict:
        """The object's current values with what the client sent laid over them."""
        if not isinstance(given, dict):
            raise exceptions.ParseError("Send a JSON object of the fields to set.")
        data = self.current_values(instance)
        accepted = set(self.make_form(None, instance).fields) | set(self.field_names)
        unknown = sorted(key for key in given if key not in accepted)
        if unknown:
            raise exceptions.ValidationError({key: ["Not a field of this object."] for key in unknown})
        for key, value in given.items():
            data[self.field_names.get(key, key)] = self.to_form_value(key, value)
        return data

    def to_form_value(self, key: str, value):
        """A JSON value as the form field takes it (override to translate a code to a key)."""
        return value

    def snapshot(self, obj) -> dict:
        return audit.snapshot(obj, exclude=self.audit_exclude)

    def validated(self, form):
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form, self.api_names()))
        return form

    def save(self, form):
        with transaction.atomic():
            return form.save()

    def created_extra(self, form, obj) -> dict:
        """What a new object's answer adds to its fields (a secret made for it, shown this once)."""
        return {}

    def representation(self, obj) -> dict:
        return self.get_serializer(obj).data

    # --- the actions -------------------------------------------------------------------------
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.representation(self.get_object()))

    def create(self, request, *args, **kwargs):
        if not self.policy.may_add():
            raise exceptions.PermissionDenied("Your account may not add these objects.")
        form = self.validated(self.make_form(self.form_data(None, request.data), None))
        saved = self.save(form)
        audit.record(request, Action.CREATE, obj=saved, after=self.snapshot(saved), via="api")
        return Response({**self.representation(saved), **self.created_extra(form, saved)},
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        if not self.policy.may_change(obj):
            raise exceptions.PermissionDenied("Your account may not change this object.")
        before = self.snapshot(obj)
        form = self.validated(self.make_form(self.form_data(obj, request.data), obj))
        saved = self.save(form)
        audit.record(request, Action.UPDATE, obj=saved, before=before, after=self.snapshot(saved), via="api")
        return Response(self.representation(saved))

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        judge = self.make_policy(self.delete_policy_class) if self.delete_policy_class else self.policy
        try:
            allowed = judge.may_change(obj)
        except DjangoPermissionDenied:
            allowed = False
        if not allowed:
            raise exceptions.PermissionDenied("Your account may not delete this object.")
        return self.perform_delete(request, obj)

    def perform_delete(self, request, obj):
        """Delete (the page's own rules first: see :meth:`refusal`) and audit; 409 when something
        still refers to the object."""
        refused = self.refusal(obj)
        if refused:
            return Response({"detail": refused}, status=status.HTTP_409_CONFLICT)
        before = self.snapshot(obj)
        name = str(obj)
        try:
            with transaction.atomic():
                obj.delete()
        except (ProtectedError, RestrictedError) as exc:
            kept = sorted({str(item._meta.verbose_name_plural) for item in exc.protected_objects})
            return Response({"detail": f"{name} is still used by {', '.join(kept)}: it was not deleted."},
                            status=status.HTTP_409_CONFLICT)
        audit.record(request, Action.DELETE, obj=obj, before=before, text=name, via="api")
        return Response(status=status.HTTP_204_NO_CONTENT)

    def refusal(self, obj) -> str:
        """Why the page would refuse to delete the object for a reason of its own ("" if it would not)."""
        return ""


def documented(form_class, name: str, response, **kwargs):
    """The schema of a FormResource: its request bodies derived from the form (see
    :func:`writable_serializer`); ``response`` is the object's serializer."""
    body = writable_serializer(form_class, f"{name}Write", **kwargs)
    conflict = inline_serializer(f"{name}Conflict", {"detail": serializers.CharField()})
    return extend_schema_view(
        create=extend_schema(request=body, responses={201: response}),
        partial_update=extend_schema(request=body, responses={200: response}),
        destroy=extend_schema(responses={204: None, 409: conflict}),
    )
