"""The one way a connection's options are changed: the web's connection pages, the setup wizard and
`calltally connection add|set` all lay their changes over the stored parameters with
:func:`changed_parameters` and check the result with ``validate_connection`` — so a port 99999,
an option the kind does not take or a port another connection listens on is refused everywhere,
in the same words.

:class:`ConnectionForm` shows a kind's options as fields, derived from what the kind declares
(its collector's ``options``: name → help; a :class:`~calltally.collectors.base.Secret` help marks
a secret). A secret is write-only: its field is always empty, typing replaces it, a box clears it,
leaving it empty keeps it; it is stored sealed (``schema.sealed``) and never shown back.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.html import escape

from calltally.sites.models import Site

from . import COLLECTOR_PATHS, schema
from .base import ConfigError, Secret
from .choices import ConnectionKind
from .common import validate_connection
from .models import Connection

OPTION = "option_"  # the field of option NAME is option_NAME
CLEAR = "clear_"  # the box that clears secret NAME is clear_NAME
HTTP_PUSH = "http-push"


def option_value(text: str) -> Any:
    """A value typed for an option, read as `--option KEY=VALUE` reads it: JSON when it is JSON
    (``2121``, ``true``), the text otherwise."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def shown_value(value: Any) -> str:
    """A stored option as it is typed back (the inverse of :func:`option_value` for what is stored)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def shown_options(connection) -> dict[str, str]:
    """A connection's options as a page shows them: each as typed, every secret as "(set)"."""
    return {name: shown_value(value) for name, value in schema.redacted(connection.kind, connection.parameters).items()}


def declared_options(kind: str) -> dict[str, str]:
    return schema.options(kind)


def changed_parameters(kind: str, stored: dict | None, changes: dict[str, Any]) -> dict:
    """The parameters as stored with ``changes`` laid over them: a value replaces the stored one
    (a new secret replaces the old, its hash included); ``""`` or ``None`` removes the option."""
    parameters = dict(stored or {})
    for name, value in changes.items():
        parameters = schema.forget(kind, parameters, name)  # a secret's hash goes with it
        if value not in ("", None):
            parameters[name] = value
    return parameters


def checked_parameters(kind: str, parameters: dict, connection_id: int | None = None,
                       enabled: bool = True) -> dict:
    """``validate_connection``, with a kind this installation cannot run said as a ConfigError too."""
    try:
        from . import collector_class

        collector_class(kind)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except ImportError as exc:
        raise ConfigError(f"the {kind} collector is not available in this installation: {exc}") from None
    return validate_connection(kind, parameters, connection_id, enabled)


def new_token() -> str:
    from .http_push import new_token as make

    return make()


class SecretTextarea(forms.Textarea):
    """A textarea for a secret that spans lines (a key's text): never filled back in."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


def option_fields(kind: str, stored: dict | None, creating: bool) -> dict[str, forms.Field]:
    """The fields of ``kind``'s options, in the order the kind declares them."""
    fields: dict[str, forms.Field] = {}
    status = schema.secret_status(kind, stored or {})
    for name, about in declared_options(kind).items():
        if isinstance(about, Secret):
            widget = (SecretTextarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"})
                      if about.multiline else forms.PasswordInput(render_value=False,
                                                                   attrs={"autocomplete": "new-password"}))
            state = status.get(name, "")
            if state == schema.SET:
                note = "Set (never shown). Type a new value to replace it; leave empty to keep it."
            elif state:
                note = f"Read from the environment variable {state[4:]}. Type a value to store one instead."
            elif kind == HTTP_PUSH and name == "token" and creating:
                note = "Leave empty: a token is made and shown once, after saving."
            else:
                note = "Not set."
            fields[OPTION + name] = forms.CharField(label=name, required=False, strip=False, widget=widget,
                                                    help_text=escape(f"{note} {about}"))
            if state:
                fields[CLEAR + name] = forms.BooleanField(label=f"Clear {name}", required=False)
        else:
            fields[OPTION + name] = forms.CharField(
                label=name, required=False, help_text=escape(str(about)),
                initial=shown_value((stored or {}).get(name)) if stored else None)
    return fields


class ConnectionForm(forms.ModelForm):
    """A connection: its site, kind, state and the kind's options (see the module's doc).

    ``kind`` (a new connection's kind) and ``site`` (the site, fixed: the setup wizard's site,
    not yet stored) may be given; ``scope`` narrows the sites offered to those the account runs.
    After validation, ``generated_token`` holds an http-push token made here (to show once).
    """

    class Meta:
        model = Connection
        fields = ("site", "kind", "enabled")
        labels = {"site": "Site", "kind": "Kind", "enabled": "Enabled (the Recorder runs it)"}

    def __init__(self, data=None, files=None, *, instance=None, scope=None, kind: str | None = None,
                 site: Site | None = None, stored: dict | None = None, **kwargs):
        super().__init__(data, files, instance=instance, **kwargs)
        self.scope = scope
        self.fixed_site = site
        self.creating = self.instance.pk is None
        # The parameters the changes are laid over: the stored connection's, or (``stored``) those a
        # connection not yet stored was given before (the wizard's step, visited again).
        self.stored = dict(self.instance.parameters or {}) if not self.creating else dict(stored or {})
        if not self.creating:
            self.kind = self.instance.kind
        else:
            self.kind = kind or (data or {}).get("kind") or self.initial.get("kind") or ""
        self.generated_token: str | None = None
        if site is not None:
            del self.fields["site"]
        else:
            sites = Site.objects.all()
            if scope is not None:
                sites = sites.filter(scope.sites())
            self.fields["site"].queryset = sites
            self.fields["site"].empty_label = "Choose the site…"
            self.fields["site"].label_from_instance = lambda s: f"{s.code} — {s.name}"
        self.fields["kind"].choices = [("", "Choose how records arrive…"), *ConnectionKind.choices]
        self.fields["kind"].initial = self.kind
        if not self.creating:
            # A connection belongs to its site and is of its kind: another site or kind is another connection.
            self.fields["kind"].disabled = True
            if "site" in self.fields:
                self.fields["site"].disabled = True
        if self.kind in COLLECTOR_PATHS:
            self.fields.update(option_fields(self.kind, self.stored or None, self.creating and not self.stored))

    @property
    def option_names(self) -> list[str]:
        return [name[len(OPTION):] for name in self.fields if name.startswith(OPTION)]

    def changes(self) -> dict[str, Any]:
        """What the form changes, by option (see :func:`changed_parameters`)."""
        cleaned = self.cleaned_data
        declared = declared_options(self.kind)
        stored = self.stored
        changes: dict[str, Any] = {}
        for name in self.option_names:
            typed = cleaned.get(OPTION + name) or ""
            if isinstance(declared.get(name), Secret):
                if cleaned.get(CLEAR + name):
                    changes[name] = ""
                elif typed:
                    changes[name] = typed  # a secret is taken as typed, never read as JSON
            elif typed.strip():
                changes[name] = option_value(typed.strip())
            elif name in stored:
                changes[name] = ""
        # Options posted that the kind does not declare (an API client, a hand-made request): passed
        # on, so that validation names them as the CLI does.
        for key in (self.data or {}):
            name = key[len(OPTION):]
            if key.startswith(OPTION) and name not in declared and name not in changes:
                changes[name] = option_value(self.data[key])
        return changes

    def clean(self):
        cleaned = super().clean()
        if self.creating and cleaned.get("kind"):
            self.kind = cleaned["kind"]
        if not self.kind or self.errors:
            return cleaned
        if self.creating and self.kind not in COLLECTOR_PATHS:
            return cleaned
        parameters = changed_parameters(self.kind, self.stored, self.changes())
        if self.kind == HTTP_PUSH and not parameters.get("token") and not parameters.get("token_sha256"):
            # As `connection add` does: the PBX gets a token made here, shown once.
            self.generated_token = parameters["token"] = new_token()
        try:
            self.instance.parameters = checked_parameters(self.kind, parameters, self.instance.pk,
                                                          cleaned.get("enabled", False))
        except ConfigError as exc:
            self.generated_token = None
            self.add_error(self.field_of(str(exc)), str(exc))
        return cleaned

    def field_of(self, message: str) -> str | None:
        """The option field a validation message is about ("option port=99999 must…"), if any."""
        for name in sorted(self.option_names, key=len, reverse=True):
            if message.startswith((f"option {name}=", f"option {name} ", f"{name}=")):
                return OPTION + name
        return None

    def save(self, commit=True):
        if self.fixed_site is not None:
            self.instance.site = self.fixed_site
        if self.creating:
            self.instance.kind = self.kind
        return super().save(commit=commit)


def errors_text(form: forms.Form) -> str:
    return "; ".join(" ".join(str(m) for m in messages) for messages in form.errors.values())
