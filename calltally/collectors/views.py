"""The connection pages: list, detail (live state, where the PBX sends its records, *test*), add, edit,
delete, enable/disable and, for http-push, a new token.

Administrators see every connection; a site administrator those of their sites (any other is a 404)
and may add, change and delete them; managers and users have no connection pages. Every change goes
through :class:`~calltally.collectors.forms.ConnectionForm` — the checks of `calltally connection
add|set` — and no stored secret is ever shown back, on a page or in an export.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.sites.models import Site
from calltally.webkit import views as kit

from . import endpoints, probe, schema
from .base import ConfigError
from .common import check_port_free
from .filtersets import ConnectionFilterSet
from .forms import HTTP_PUSH, ConnectionForm, changed_parameters, checked_parameters, new_token, shown_options
from .models import Connection
from .tables import ConnectionTable

SHOWN_ONCE = "connection-token:{}"  # the session key of a token to show once on the connection's page


def snapshot(connection: Connection) -> dict:
    """What the audit log keeps of a connection: its fields, the options with every secret as "(set)"."""
    values = audit.snapshot(connection, exclude=("parameters",))
    values["parameters"] = schema.redacted(connection.kind, connection.parameters)
    return values


class ConnectionPage:
    model = Connection
    url_base = "collectors:connection"
    audience = "runs-sites"

    def base_queryset(self):
        return Connection.objects.select_related("site", "state")

    def scoped(self, queryset):
        return queryset.filter(self.scope.sites("site"))

    def may_add(self) -> bool:
        return self.scope.runs_sites

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Connections", reverse("collectors:connection_list"))]


class ConnectionListView(ConnectionPage, kit.ObjectListView):
    title = "Connections"
    table_class = ConnectionTable
    filterset_class = ConnectionFilterSet
    bulk_actions = ()
    empty_hint = ("A connection says how a PBX's records arrive: an FTP upload, a TCP stream, an HTTP push, a "
                  "watched folder… Add one to a site, or let the setup wizard do it.")

    def base_queryset(self):
        return super().base_queryset().order_by("site__code", "pk")


class ConnectionDetailView(ConnectionPage, kit.ObjectDetailView):
    template_name = "collectors/connection_detail.html"

    def breadcrumbs(self):
        return [*ConnectionPage.breadcrumbs(self), (f"#{self.object.pk} {self.object.site.code}", None)]

    def extra_context(self, connection):
        state = getattr(connection, "state", None)
        token = self.request.session.pop(SHOWN_ONCE.format(connection.pk), None)  # shown this once, never again
        secrets = {"token": token} if token else {}
        return {
            "state": state,
            "options": shown_options(connection),
            "receiving": endpoints.where_to_send(connection.kind, connection.parameters, connection.pk,
                                                 self.request, secrets),
            "token": token,
            "test": self.request.session.pop(f"connection-test:{connection.pk}", None),
            "is_push": connection.kind == HTTP_PUSH,
        }


class ConnectionEditView(ConnectionPage, kit.ObjectEditView):
    form_class = ConnectionForm
    template_name = "collectors/connection_edit.html"

    def breadcrumbs(self):
        crumbs = ConnectionPage.breadcrumbs(self)
        if self.object is not None:
            return [*crumbs, (f"#{self.object.pk} {self.object.site.code}", self.detail_url(self.object)),
                    ("Edit", None)]
        return [*crumbs, ("New connection", None)]

    def make_form(self, data=None, files=None):
        initial = {}
        if self.object is None:
            code = self.request.GET.get("site")
            site = Site.objects.filter(self.scope.sites(), code=code).first() if code else None
            initial = {"site": site.pk if site else None, "kind": self.request.GET.get("kind", "")}
        kind = (data or {}).get("kind") or initial.get("kind")
        self.form = ConnectionForm(data, files, instance=self.object, scope=self.scope, kind=kind,
                                   initial=initial)
        return self.form

    def snapshot(self, obj):
        return snapshot(obj)

    def show(self, form, status=200):
        return render(self.request, self.template_name, self.context(
            form=form, object=self.object, kinds=form.fields["kind"].choices, kind=form.kind,
            cancel_url=self.detail_url(self.object) if self.object else self.url("list")), status=status)

    def after_save(self, connection, created):
        if self.form.generated_token:
            self.request.session[SHOWN_ONCE.format(connection.pk)] = self.form.generated_token


class ConnectionDeleteView(ConnectionPage, kit.ObjectDeleteView):
    template_name = "collectors/connection_delete.html"
    audit_exclude = ("parameters",)


class ConnectionActionView(ConnectionPage, kit.Page):
    """A button on a connection's page (POST only): enable/disable, test, new token."""

    def connection(self, pk) -> Connection:
        try:
            connection = self.get_queryset().get(pk=pk)
        except Connection.DoesNotExist:
            raise Http404("No connection here.") from None
        if not self.may_change(connection):
            raise PermissionDenied("Your account may not change this connection.")
        return connection

    def done(self, connection):
        return HttpResponseRedirect(reverse("collectors:connection_detail", args=[connection.pk]))


class ConnectionToggleView(ConnectionActionView):
    def post(self, request, pk):
        connection = self.connection(pk)
        before = snapshot(connection)
        enable = not connection.enabled
        if enable:
            # Enabling makes it listen again, as `connection set --enable` checks: its port may be taken now.
            try:
                check_port_free(connection.kind, connection.parameters or {}, connection.pk)
            except ConfigError as exc:
                messages.error(request, f"Not enabled: {exc}")
                return self.done(connection)
        connection.enabled = enable
        connection.save()
        audit.record(request, Action.UPDATE, obj=connection, before=before, after=snapshot(connection))
        messages.success(request, f"Connection #{connection.pk} {'enabled' if enable else 'disabled'}: the "
                                  "Recorder picks the change up within seconds.")
        return self.done(connection)


class ConnectionTokenView(ConnectionActionView):
    def post(self, request, pk):
        connection = self.connection(pk)
        if connection.kind != HTTP_PUSH:
            raise Http404("Only an http-push connection has a token.")
        token = new_token()
        before = snapshot(connection)
        with transaction.atomic():
            connection.parameters = checked_parameters(
                connection.kind, changed_parameters(connection.kind, connection.parameters, {"token": token}),
                connection.pk, connection.enabled)
            connection.save()
        audit.record(request, Action.UPDATE, obj=connection, before=before, after=snapshot(connection),
                     text="new http-push token")
        request.session[SHOWN_ONCE.format(connection.pk)] = token
        messages.success(request, "A new token was made: the old one no longer works.")
        return self.done(connection)


class ConnectionTestView(ConnectionActionView):
    def post(self, request, pk):
        connection = self.connection(pk)
        state = getattr(connection, "state", None)
        outcome = probe.try_connection(connection.kind, connection.parameters, connection.pk, connection.site.code,
                                       state=state.state if state else "", enabled=connection.enabled)
        audit.record(request, Action.CONFIGURATION, obj=connection, text="connection tested",
                     ok=outcome.ok, result=outcome.text)
        request.session[f"connection-test:{connection.pk}"] = {"ok": outcome.ok, "text": outcome.text}
        return self.done(connection)
