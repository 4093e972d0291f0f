"""The tariff tables as a superuser inspects them (read only: see calltally.webkit.admin).

Plans, assignments and holidays are edited on the tariff pages and with `calltally tariff`.
"""

from django.contrib import admin

from calltally.webkit.admin import InspectOnlyAdmin

from .models import Carrier, Holiday, PlanAssignment, TariffPlan, TariffVersion


@admin.register(Holiday)
class HolidayAdmin(InspectOnlyAdmin):
    list_display = ("date", "name", "country", "site")
    list_filter = ("country", "site")
    date_hierarchy = "date"


@admin.register(PlanAssignment)
class PlanAssignmentAdmin(InspectOnlyAdmin):
    list_display = ("site", "plan", "pattern", "priority")
    list_filter = ("site", "plan")


@admin.register(Carrier)
class CarrierAdmin(InspectOnlyAdmin):
    list_display = ("name",)


class VersionInline(admin.TabularInline):
    model = TariffVersion
    fields = ("valid_from", "valid_to", "currency", "rounding_decimals", "markup_percent", "directions", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(TariffPlan)
class TariffPlanAdmin(InspectOnlyAdmin):
    list_display = ("name", "carrier")
    inlines = [VersionInline]

