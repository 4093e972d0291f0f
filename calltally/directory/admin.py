from django.contrib import admin

from .models import CostCenter, Extension, Person


@admin.register(CostCenter)
class CostCenterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    fields = ("site", "number", "cost_center", "billing_enabled")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("username", "first_name", "last_name", "email", "site", "cost_center", "active")
    list_filter = ("site", "active")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("cost_center",)
    inlines = [ExtensionInline]


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ("number", "site", "person", "cost_center", "billing_enabled", "auto_acquired")
    list_filter = ("site", "billing_enabled", "auto_acquired")
    search_fields = ("number", "person__username")
    autocomplete_fields = ("person", "cost_center")
