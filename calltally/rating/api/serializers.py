"""Tariff plans (read only: plans are loaded from plan files and rate decks) and their assignments."""

from __future__ import annotations

from rest_framework import serializers

from calltally.rating.models import PlanAssignment, TariffPlan, TariffVersion


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffVersion
        fields = ["valid_from", "valid_to", "currency", "rounding_decimals", "markup_percent", "directions",
                  "default_band", "holiday_band", "public_holidays"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    carrier = serializers.SlugRelatedField(slug_field="name", read_only=True)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = TariffPlan
        fields = ["id", "name", "carrier", "versions"]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = PlanAssignment
        fields = ["id", "site", "plan", "pattern", "priority"]
        read_only_fields = fields
