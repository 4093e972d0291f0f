"""Sign-in accounts as the API gives them (administrators only): never a password, not even hashed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calltally.accounts.models import Role


class AccountSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(source="account.role", choices=Role.choices, read_only=True)
    person = serializers.CharField(source="account.person.username", allow_null=True, read_only=True, default=None)
    cost_center = serializers.CharField(source="account.cost_center.code", allow_null=True, read_only=True,
                                        default=None)
    sites = serializers.SerializerMethodField()
    ldap = serializers.BooleanField(source="account.ldap", read_only=True)
    must_change_password = serializers.BooleanField(source="account.must_change_password", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "role", "person", "sites", "cost_center", "ldap", "active",
                  "must_change_password", "last_login"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_sites(self, user) -> list[str]:
        return sorted(site.code for site in user.account.sites.all())
