"""The audit log page (administrators only): the trail filtered by time, action, account, kind of
object and text, with what each change changed; exported as CSV like every list."""

from __future__ import annotations

from django.urls import reverse

from calltally.webkit.views import ObjectListView

from .filtersets import AuditEventFilterSet
from .models import AuditEvent
from .tables import AuditEventTable


class AuditEventListView(ObjectListView):
    model = AuditEvent
    title = "Audit log"
    url_base = "audit:event"
    audience = "administrator"
    table_class = AuditEventTable
    filterset_class = AuditEventFilterSet
    bulk_actions = ()
    # The trail grows without end: next/previous pages, no count of every row.
    lazy_pagination = True
    export_name = "audit-log.csv"
    empty_hint = "Sign-ins, changes, exports and recalculations are recorded here as they happen."

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Audit log", None)]

    @property
    def verbose_name(self) -> str:
        return "audit event"

    @property
    def verbose_name_plural(self) -> str:
        return "audit events"
