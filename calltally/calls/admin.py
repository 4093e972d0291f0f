from django.contrib import admin

from calltally.webkit.admin import InspectOnlyAdmin, site_time

from .models import Call, DiscardedCall


class ReadOnlyAdmin(InspectOnlyAdmin):
    """Calls are made by the Miner from the spool, never edited by hand."""


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("start_local", "site", "kind", "direction", "extension_number", "remote_number", "talk_seconds",
                    "cost")
    list_filter = ("site", "kind", "direction", "disposition")
    search_fields = ("extension_number", "remote_number", "pbx_call_id", "leg_key")
    list_select_related = ("site",)
    show_full_result_count = False

    @admin.display(description="start (site time)", ordering="start")
    def start_local(self, obj):
        return site_time(obj.start, obj.site)

    def get_queryset(self, request):
        # The admin shows every row, legs of merged calls included (filter by kind).
        return Call.rows.select_related("site")


@admin.register(DiscardedCall)
class DiscardedCallAdmin(ReadOnlyAdmin):
    list_display = ("received_local", "site", "reason", "extension_number", "detail")
    list_select_related = ("site",)

    @admin.display(description="received (site time)", ordering="received")
    def received_local(self, obj):
        return site_time(obj.received, obj.site)
    list_filter = ("site", "reason")
    search_fields = ("raw_text", "extension_number")
