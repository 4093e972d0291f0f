"""``/api/connections/``: through :class:`~calltally.collectors.forms.ConnectionForm`, the checks of
`calltally connection add|set` and the connection pages (a port 99999 or a port another connection
listens on is refused in the same words). The kind's options come as one JSON object, ``options``;
``clear`` lists secrets to remove. An http-push connection made without a token gets one, given in
the answer to the POST that made it and never again."""

from __future__ import annotations

import json

from rest_framework import exceptions, serializers

from calltally.api.resources import FormResource, documented, form_errors
from calltally.collectors.forms import CLEAR, OPTION, ConnectionForm
from calltally.collectors.models import Connection
from calltally.collectors.views import ConnectionEditView, snapshot
from calltally.sites.models import Site

from .serializers import ConnectionSerializer

WRITE = {
    "options": serializers.DictField(required=False, help_text="The kind's options by name (see `calltally "
                                     "connection kinds`); a secret is write-only; \"\" or null removes an option."),
    "clear": serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text="Secrets to remove, by option name."),
}


@documented(ConnectionForm, "Connection", ConnectionSerializer, extra=WRITE)
class ConnectionViewSet(FormResource):
    serializer_class = ConnectionSerializer
    form_class = ConnectionForm
    policy_class = ConnectionEditView
    queryset = Connection.objects.none()

    def make_form(self, data, instance):
        kind = (data or {}).get("kind") if instance is None else None
        return ConnectionForm(data, None, instance=instance, scope=self.scope, kind=kind)

    def validated(self, form):
        # An option's error under "options.NAME", as the client sent it (the form's field is option_NAME).
        if not form.is_valid():
            names = {name: f"options.{name[len(OPTION):]}" for name in form.errors if name.startswith(OPTION)}
            names.update({name: f"clear.{name[len(CLEAR):]}" for name in form.errors if name.startswith(CLEAR)})
            raise exceptions.ValidationError(form_errors(form, names))
        return form

    def form_data(self, instance, given):
        if not isinstance(given, dict):
            raise exceptions.ParseError("Send a JSON object of the fields to set.")
        given = dict(given)
        options, clear = given.pop("options", None) or {}, given.pop("clear", None) or []
        if not isinstance(options, dict) or not isinstance(clear, list):
            raise exceptions.ValidationError({"options": ["Give the options as a JSON object, and clear as a list."]})
        site = given.get("site")
        if isinstance(site, str):
            # A site by its code, as everywhere in the API; an unknown code is left for the form to refuse.
            found = Site.objects.filter(code=site).values_list("pk", flat=True).first()
            given["site"] = found if found is not None else site
        data = super().form_data(instance, given)
        for name, value in options.items():
            # Typed as on the page: JSON for what is not text (a port 2121, a flag true).
            text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
            data[OPTION + name] = text
        for name in clear:
            data[CLEAR + str(name)] = True
        return data

    def current_values(self, instance):
        values = super().current_values(instance)
        # A secret's field is always empty (leaving it empty keeps it): never sent back as a change.
        return {name: value for name, value in values.items() if value not in (None, "")
                or not name.startswith(OPTION)}

    def snapshot(self, obj):
        return snapshot(obj)

    def created_extra(self, form, connection):
        return {"token": form.generated_token} if form.generated_token else {}
