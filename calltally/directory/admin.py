from django.contrib import admin

from calltally.webkit.admin import InspectOnlyAdmin, InspectOnlyInline

from .forms import AccountCodeForm, CostCenterForm, ExtensionForm, PersonForm
from .models import AccountCode, CostCenter, Extension, Person


@admin.register(CostCenter)
class CostCenterAdmin(InspectOnlyAdmin):
    form = CostCenterForm
    list_display = ("code", "name", "parent", "manager")
    search_fields = ("code", "name")
    list_select_related = ("parent", "manager")


class ExtensionInline(InspectOnlyInline):
    """A person's extensions."""

    model = Extension
    fields = ("site", "number", "cost_center", "billing_enabled")


@admin.register(Person)
class PersonAdmin(InspectOnlyAdmin):
    """A person as stored (edited on the directory pages, or kept by the LDAP sync)."""

    form = PersonForm
    list_display = ("username", "first_name", "last_name", "email", "site", "cost_center", "masked_digits",
                    "virtual", "active", "synced")
    list_filter = ("site", "active", "virtual")
    search_fields = ("username", "first_name", "last_name", "email")
    list_select_related = ("site", "cost_center")
    readonly_fields = ("ldap_dn", "ldap_synced")
    inlines = [ExtensionInline]

    @admin.display(boolean=True, description="LDAP")
    def synced(self, obj) -> bool:
        return obj.is_synced


@admin.register(Extension)
class ExtensionAdmin(InspectOnlyAdmin):
    form = ExtensionForm
    list_display = ("number", "site", "person", "cost_center", "billing_enabled", "auto_acquired")
    list_filter = ("site", "billing_enabled", "auto_acquired")
    search_fields = ("number", "person__username", "aliases__number")
    list_select_related = ("site", "person", "cost_center")


@admin.register(AccountCode)
class AccountCodeAdmin(InspectOnlyAdmin):
    form = AccountCodeForm
    list_display = ("code", "site", "description", "privacy_digits", "cost_center", "replace_with_description")
    list_filter = ("site", "replace_with_description")
    search_fields = ("code", "description")
    list_select_related = ("site", "cost_center")
