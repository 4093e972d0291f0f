"""The connections as a superuser inspects them in the Django admin: read only, secrets never shown.

Connections are added and changed on the connection pages and with ``calltally connection``,
which validate them the same way and write the audit log (see calltally.webkit.admin).
"""

from __future__ import annotations

from django.contrib import admin

from calltally.webkit.admin import InspectOnlyAdmin, server_time

from . import schema
from .models import Connection


@admin.register(Connection)
class ConnectionAdmin(InspectOnlyAdmin):
    list_display = ("__str__", "site", "kind", "enabled", "shown_options", "updated_local")
    list_filter = ("kind", "enabled")
    list_select_related = ("site",)
    # The stored parameters hold sealed secrets: only their redacted form is shown.
    fields = ("site", "kind", "enabled", "shown_options", "updated_local")
    readonly_fields = fields

    @admin.display(description="options")
    def shown_options(self, obj: Connection) -> str:
        return " ".join(f"{name}={value}" for name, value in schema.redacted(obj.kind, obj.parameters).items())

    @admin.display(description="updated (server time)", ordering="updated")
    def updated_local(self, obj: Connection) -> str:
        return server_time(obj.updated)
