"""A connection as the API gives it: its options with every secret as "(set)" — a secret is written,
never read back."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calltally.collectors.forms import shown_options
from calltally.collectors.models import Connection


class ConnectionStateSerializer(serializers.Serializer):
    state = serializers.CharField()
    detail = serializers.CharField()
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    last_record_at = serializers.DateTimeField(allow_null=True)
    records_total = serializers.IntegerField()


class ConnectionSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    options = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = ["id", "site", "kind", "enabled", "options", "state", "created", "updated"]
        read_only_fields = fields

    def get_options(self, connection) -> dict[str, str]:
        """Each option as typed on the connection page; each secret as "(set)" when it has one."""
        return shown_options(connection)

    @extend_schema_field(ConnectionStateSerializer(allow_null=True))
    def get_state(self, connection) -> dict | None:
        state = getattr(connection, "state", None)
        return ConnectionStateSerializer(state).data if state is not None else None
