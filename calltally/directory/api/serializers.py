"""People, extensions, cost centers and account codes as the API gives them: related rows by the
code (or username) their forms take."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calltally.accounts.scope import scope_of
from calltally.directory.models import AccountCode, CostCenter, Extension, Person


def by_code(field: str = "code", **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=field, read_only=True, **kwargs)


class PersonSerializer(serializers.ModelSerializer):
    site = by_code()
    cost_center = by_code()
    manager = by_code("username")
    synced = serializers.BooleanField(source="is_synced", read_only=True,
                                      help_text="Kept by the LDAP sync: its synced fields are changed there.")

    class Meta:
        model = Person
        fields = ["id", "username", "first_name", "last_name", "email", "site", "cost_center", "manager",
                  "masked_digits", "virtual", "active", "synced"]
        read_only_fields = fields


class ExtensionSerializer(serializers.ModelSerializer):
    site = by_code()
    person = by_code("username")
    cost_center = by_code()
    aliases = serializers.SerializerMethodField(help_text="Other numbers that reach the extension.")

    class Meta:
        model = Extension
        fields = ["id", "site", "number", "person", "cost_center", "billing_enabled", "aliases", "auto_acquired",
                  "created"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_aliases(self, extension) -> list[str]:
        return sorted(alias.number for alias in extension.aliases.all())


class CostCenterSerializer(serializers.ModelSerializer):
    parent = by_code()
    manager = by_code("username")

    class Meta:
        model = CostCenter
        fields = ["id", "code", "name", "parent", "manager"]
        read_only_fields = fields


class AccountCodeSerializer(serializers.ModelSerializer):
    """An account code; ``code`` is null where the code is shown as its description (a PIN) and the
    account does not manage it — as on the account codes page."""

    site = by_code(help_text="Null: valid on every site.")
    cost_center = by_code()
    code = serializers.SerializerMethodField()

    class Meta:
        model = AccountCode
        fields = ["id", "code", "description", "site", "privacy_digits", "cost_center", "replace_with_description",
                  "created"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_code(self, account) -> str | None:
        request = self.context.get("request")
        scope = scope_of(request.user) if request is not None else None
        readable = scope is not None and (scope.is_administrator or not account.replace_with_description
                                          or scope.may_configure(account.site_id))
        return account.code if readable else None
