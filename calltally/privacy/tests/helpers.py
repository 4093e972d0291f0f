"""Checks the retention and privacy tests share."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from calltally.calls import rollups
from calltally.calls.models import CallRollup
from calltally.sites.models import Site


def rollup_rows() -> dict:
    """The non-empty rollup rows, by key."""
    rows = {}
    for row in CallRollup.objects.filter(calls__gt=0).values_list(*rollups.KEY, *rollups.MEASURES):
        key, values = row[:len(rollups.KEY)], row[len(rollups.KEY):]
        rows[key] = tuple(Decimal(v).quantize(Decimal("0.0001")) if i == 5 else v for i, v in enumerate(values))
    return rows


def rollups_equal_sums_over_calls() -> bool:
    """Whether the rollups are exactly what a rebuild from the calls makes."""
    kept = rollup_rows()
    for site in Site.objects.all():
        rollups.rebuild(site)
    rebuilt = rollup_rows()
    return kept == rebuilt


def spool_text(world) -> bytes:
    folder = world.spool.site_dir(world.site.code)
    return b"".join(path.read_bytes() for path in sorted(folder.glob("*.cdr")))


def counted(queryset, field: str) -> Counter:
    return Counter(queryset.values_list(field, flat=True))
