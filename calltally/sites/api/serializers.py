"""A site as the API gives it: the fields of its form (`calltally site add|set`, the site pages)."""

from __future__ import annotations

from rest_framework import serializers

from calltally.sites.models import Site


class SiteSerializer(serializers.ModelSerializer):
    """A site's settings; ``reading_problem`` says what is wrong when its records are not read as calls."""

    class Meta:
        model = Site
        fields = ["code", "name", "driver", "driver_options", "import_internal", "internal_digits_min",
                  "internal_digits_max", "internal_pattern", "auto_acquire", "merge_legs", "transfer_billing",
                  "country", "area_code", "timezone", "currency", "access_codes", "enabled", "created",
                  "reading_problem"]
        read_only_fields = fields
