"""What the Django admin is here: a superuser's window on the tables, never where CallTally is configured.

Configuration goes through CallTally's own pages and commands, which share one validation
path and write the audit log; the admin would skip both. So every CallTally model admin is
*inspect only* (list, search, view), and the admin site opens to active superusers only.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from . import display


class SuperuserAdminSite(admin.AdminSite):
    site_header = "CallTally — database inspection"
    site_title = "CallTally inspection"
    index_title = "Tables (read only: configure CallTally on its own pages)"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class InspectOnlyAdmin(admin.ModelAdmin):
    """A model shown, searched and opened, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InspectOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def site_time(moment, site) -> str:
    """An instant as the web pages show it: in its site's zone, with the offset."""
    return display.local_time(moment, site.zone if site is not None else None)


def server_time(moment) -> str:
    """An instant tied to no site: in the server's zone, with the offset."""
    return display.local_time(moment, timezone.get_current_timezone())
