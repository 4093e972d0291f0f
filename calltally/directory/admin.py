from django.contrib import admin

from .forms import AccountCodeForm, CostCenterForm, ExtensionForm, PersonForm
from .models import AccountCode, CostCenter, Extension, Person


@admin.register(CostCenter)
class CostCenterAdmin(admin.ModelAdmin):
    form = CostCenterForm
    list_display = ("code", "name", "parent", "manager")
    search_fields = ("code", "name")
    list_select_related = ("parent", "manager")


class ExtensionInline(admin.TabularInline):
    """A person's extensions; read-only when the LDAP sync keeps them."""

    model = Extension
    extra = 0
    fields = ("site", "number", "cost_center", "billing_enabled")

    @staticmethod
    def _synced(obj) -> bool:
        return bool(obj is not None and obj.ldap_values.get("extension"))

    def has_add_permission(self, request, obj=None):
        return not self._synced(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._synced(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._synced(obj) and super().has_delete_permission(request, obj)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Fields the LDAP sync keeps are disabled by PersonForm for synced people."""

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
class ExtensionAdmin(admin.ModelAdmin):
    form = ExtensionForm
    list_display = ("number", "site", "person", "cost_center", "billing_enabled", "auto_acquired")
    list_filter = ("site", "billing_enabled", "auto_acquired")
    search_fields = ("number", "person__username", "aliases__number")
    list_select_related = ("site", "person", "cost_center")


@admin.register(AccountCode)
class AccountCodeAdmin(admin.ModelAdmin):
    form = AccountCodeForm
    list_display = ("code", "site", "description", "privacy_digits", "cost_center", "replace_with_description")
    list_filter = ("site", "replace_with_description")
    search_fields = ("code", "description")
    list_select_related = ("site", "cost_center")
