from django.contrib import admin

from .models import Call, DiscardedCall


class ReadOnlyAdmin(admin.ModelAdmin):
    """Calls are made by the Miner from the spool, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("start", "site", "kind", "direction", "extension_number", "remote_number", "talk_seconds", "cost")
    list_filter = ("site", "kind", "direction", "disposition")
    search_fields = ("extension_number", "remote_number", "pbx_call_id", "leg_key")
    list_select_related = ("site",)
    show_full_result_count = False

    def get_queryset(self, request):
        # The admin shows every row, legs of merged calls included (filter by kind).
        return Call.rows.select_related("site")


@admin.register(DiscardedCall)
class DiscardedCallAdmin(ReadOnlyAdmin):
    list_display = ("received", "site", "reason", "extension_number", "detail")
    list_filter = ("site", "reason")
    search_fields = ("raw_text", "extension_number")
