"""The Django admin's connection pages: for superusers only, and no stored secret is ever shown back.

A connection's options are edited as one JSON object, its secrets excepted: each secret option of the
kind has a field of its own, always empty, that replaces the stored secret when something is typed in
it, and a box that clears it; the page says only whether the secret is set. The kind's declaration
(schema.py) says which options those are, and every change goes through ``validate_connection``,
like ``calltally connection add|set``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from . import COLLECTOR_PATHS, schema
from .base import ConfigError
from .common import validate_connection
from .models import Connection

NEW = "new_"  # the form field that replaces a secret option: new_<option>
CLEAR = "clear_"  # the box that clears it: clear_<option>


class SecretTextarea(forms.Textarea):
    """A textarea for a secret that spans lines (a key's text): what was typed is not sent back,
    even when the form comes back with an error."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class ConnectionForm(forms.ModelForm):
    options = forms.JSONField(
        required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text='The kind\'s options as one JSON object, e.g. {"host": "10.0.0.20", "port": 1752} '
                  "(docs/collectors.md). Secrets are not typed here: each has its own field below.")

    class Meta:
        model = Connection
        fields = ("site", "kind", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            kind = self.instance.kind
            self.fields["options"].initial = {name: value for name, value in (self.instance.parameters or {}).items()
                                              if not schema.is_secret(kind, name)}

    def clean(self):
        cleaned = super().clean()
        kind = self.instance.kind if self.instance.pk else cleaned.get("kind")
        if not kind:
            return cleaned
        options = cleaned.get("options")
        if options in (None, ""):
            options = {}
        if not isinstance(options, dict):
            self.add_error("options", 'Give a JSON object, such as {"port": 1150}.')
            return cleaned
        secrets = schema.secrets(kind)
        for name in options:
            # (an option the kind does not declare is left to validation, which names it as unknown)
            if schema.is_secret(kind, name) and _declared(kind, name):
                self.add_error("options", f"{name} is a secret: set it in its own field below, never here.")
        parameters = self._stored_secrets(kind)
        for field_name in self.fields:
            if not field_name.startswith(NEW):
                continue
            name, value = field_name[len(NEW):], cleaned.get(field_name) or ""
            if value and name not in secrets:
                self.add_error(field_name, f"A {kind} connection has no option {name}.")
            elif cleaned.get(CLEAR + name):
                parameters = schema.forget(kind, parameters, name)
            elif value:
                parameters = schema.forget(kind, parameters, name)
                parameters[name] = value
        if self.errors:
            return cleaned
        parameters.update(options)
        try:
            self.instance.parameters = validate_connection(kind, parameters, self.instance.pk,
                                                           cleaned.get("enabled", True))
        except ConfigError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned

    def _stored_secrets(self, kind: str) -> dict:
        """The secrets stored for this connection, as stored (encrypted, hashed or a reference)."""
        if not self.instance.pk:
            return {}
        return {name: value for name, value in (self.instance.parameters or {}).items()
                if schema.is_secret(kind, name) and _declared(kind, name)}


def _declared(kind: str, name: str) -> bool:
    """Whether ``kind`` declares option ``name`` or keeps a secret's hash under it."""
    hashes = {secret.hashed_as for secret in schema.secrets(kind).values() if secret.hashed}
    return name in schema.options(kind) or name in hashes


def secret_fields(kinds: list[str], stored: dict | None) -> dict[str, forms.Field]:
    """The fields that set or clear each secret option of ``kinds`` (one kind when changing a
    connection, every kind when adding one); ``stored``: the parameters of the connection changed."""
    owners: dict[str, list[str]] = {}
    for kind in kinds:
        for name in schema.secrets(kind):
            owners.setdefault(name, []).append(kind)
    status = schema.secret_status(kinds[0], stored) if stored is not None else {}
    fields: dict[str, forms.Field] = {}
    for name, owned_by in owners.items():
        secret = schema.secrets(owned_by[0])[name]
        widget = SecretTextarea(attrs={"rows": 4, "cols": 80}) if secret.multiline else \
            forms.PasswordInput(render_value=False)
        state = status.get(name, "")
        about = f" {secret}" if len(owned_by) == 1 else ""  # one kind's help would mislead about the others
        if stored is None:
            label = f"{name} ({', '.join(owned_by)})"
            help_text = "Stored encrypted, or hashed when CallTally only checks it; never shown again."
        elif state == schema.SET:
            label, help_text = name, "Set. Type a new value to replace it; leave empty to keep it."
        elif state:
            label, help_text = name, f"Read from the environment variable {state[4:]} ({state}). Type a value to " \
                                     "store one instead."
        else:
            label, help_text = name, "Not set."
        fields[NEW + name] = forms.CharField(label=label, required=False, strip=False, widget=widget,
                                             help_text=help_text + about)
        if state:
            fields[CLEAR + name] = forms.BooleanField(label=f"clear {name}", required=False)
    return fields


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ("__str__", "site", "kind", "enabled", "shown_options", "updated")
    list_filter = ("kind", "enabled")

    @admin.display(description="options")
    def shown_options(self, obj: Connection) -> str:
        return " ".join(f"{name}={value}" for name, value in schema.redacted(obj.kind, obj.parameters).items())

    def get_form(self, request, obj=None, change=False, **kwargs):
        kinds = [obj.kind] if obj is not None else list(COLLECTOR_PATHS)
        extra = secret_fields(kinds, (obj.parameters or {}) if obj is not None else None)
        kwargs["form"] = type("ConnectionForm", (self.form,), extra)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        kinds = [obj.kind] if obj is not None else list(COLLECTOR_PATHS)
        extra = secret_fields(kinds, (obj.parameters or {}) if obj is not None else None)
        return ["site", "kind", "enabled", "options", *extra]

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj is not None else ()

    # Connections hold the credentials of PBXs and file servers: superusers only.
    def _superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)
