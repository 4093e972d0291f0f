"""Admin pages for what administrators edit by hand: holidays and plan assignments.

Plans themselves are edited as files (`calltally tariff load/export`), so they are
shown read-only here: a rate table of 200,000 rows is no form.
"""

from django.contrib import admin

from .models import Carrier, Holiday, PlanAssignment, TariffPlan, TariffVersion


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "country", "site")
    list_filter = ("country", "site")
    date_hierarchy = "date"


@admin.register(PlanAssignment)
class PlanAssignmentAdmin(admin.ModelAdmin):
    list_display = ("site", "plan", "pattern", "priority")
    list_filter = ("site", "plan")


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name",)


class VersionInline(admin.TabularInline):
    model = TariffVersion
    fields = ("valid_from", "valid_to", "currency", "rounding_decimals", "markup_percent", "directions", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(TariffPlan)
class TariffPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "carrier")
    inlines = [VersionInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

