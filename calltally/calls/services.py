"""Reading calls out: the rows of exports, filtered by site and local dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q

from calltally.sites.models import Site

from .models import Call, DiscardedCall

EXPORT_COLUMNS = [
    "id", "site", "start", "direction", "disposition", "extension", "person", "cost_center", "remote_number",
    "dialled_number", "talk_seconds", "ring_seconds", "answered", "account_code", "account", "cost", "currency",
    "pbx_call_id", "e164", "category", "destination", "tariff", "rated_prefix", "band", "billed_seconds",
    "unrated", "kind",
]


def local_day_bounds(site: Site, first: dt.date | None, last: dt.date | None) -> Q:
    """Calls of ``site`` from the start of ``first`` to the end of ``last``, in the site's time zone."""
    q = Q(site=site)
    if first:
        q &= Q(start__gte=dt.datetime.combine(first, dt.time(), tzinfo=site.zone))
    if last:
        q &= Q(start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=site.zone))
    return q


def calls_between(sites: list[Site], first: dt.date | None, last: dt.date | None):
    where = Q(pk__in=[])
    for site in sites:
        where |= local_day_bounds(site, first, last)
    return Call.objects.filter(where)


def export_rows(sites: list[Site], first: dt.date | None, last: dt.date | None) -> Iterator[dict]:
    """One dict per call, in start order; streamed, so any number of calls fits in memory."""
    zones = {site.pk: (site.code, site.zone) for site in sites}
    rows = (
        calls_between(sites, first, last)
        .order_by("start", "id")
        .values_list(
            "id", "site_id", "start", "direction", "disposition", "extension_number", "person__username",
            "cost_center__code", "remote_number", "dialled_number", "talk_seconds", "ring_seconds", "answered",
            "account_code", "cost", "currency", "pbx_call_id", "account", "e164", "category", "destination",
            "tariff", "rated_prefix", "band", "billed_seconds", "unrated", "kind",
        )
    )
    for row in rows.iterator(chunk_size=5000):
        code, zone = zones[row[1]]
        yield {
            "id": row[0],
            "site": code,
            "start": row[2].astimezone(zone).isoformat(),
            "direction": row[3],
            "disposition": row[4],
            "extension": row[5],
            "person": row[6] or "",
            "cost_center": row[7] or "",
            "remote_number": row[8],
            "dialled_number": row[9],
            "talk_seconds": row[10],
            "ring_seconds": row[11],
            "answered": row[12],
            "account_code": row[13],
            "account": row[17],
            "cost": str(row[14]),
            "currency": row[15],
            "pbx_call_id": row[16],
            "e164": row[18],
            "category": row[19],
            "destination": row[20],
            "tariff": row[21],
            "rated_prefix": row[22],
            "band": row[23],
            "billed_seconds": row[24],
            "unrated": row[25],
            "kind": row[26],  # "call" (one record) or "merged" (several records of one call)
        }


def discarded(sites: list[Site]):
    return DiscardedCall.objects.filter(site__in=sites).select_related("site", "segment").order_by("id")
