from django.contrib import admin

from calltally.webkit.admin import InspectOnlyAdmin

from .models import Site


@admin.register(Site)
class SiteAdmin(InspectOnlyAdmin):
    list_display = ("code", "name", "driver", "country", "timezone", "currency", "extension_plan", "enabled")
    list_filter = ("driver", "country", "enabled")
    search_fields = ("code", "name")
