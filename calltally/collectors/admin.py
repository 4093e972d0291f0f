from django.contrib import admin

from .models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("site", "kind", "enabled", "created", "updated")
    list_filter = ("kind", "enabled")
