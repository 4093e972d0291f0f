"""`calltally status`: what every site and service is doing, in a few aggregate queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from calltally.calls.choices import DiscardReason
from calltally.calls.models import DiscardedCall
from calltally.collectors.models import ConnectionState
from calltally.sites.models import Connection, Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool

from . import control, rawview
from .models import SiteMonitoring

UTC = dt.UTC
# Days looked back when adding up business hours of silence: beyond that a site is silent anyway.
SILENCE_HORIZON_DAYS = 400


@dataclass(frozen=True)
class Monitoring:
    hours: int = 4
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(18, 0)

    @classmethod
    def of(cls, row: SiteMonitoring | None) -> Monitoring:
        if row is None:
            return cls()
        return cls(row.silent_after_hours, tuple(row.business_days), row.business_start, row.business_end)


def business_seconds(since: dt.datetime, until: dt.datetime, zone, monitoring: Monitoring) -> float:
    """Seconds between two instants that fall within the business hours (in ``zone``)."""
    if until <= since:
        return 0.0
    since = max(since, until - dt.timedelta(days=SILENCE_HORIZON_DAYS))
    day = since.astimezone(zone).date() - dt.timedelta(days=1)
    last = until.astimezone(zone).date()
    total = 0.0
    while day <= last:
        if day.weekday() in monitoring.days:
            opens = dt.datetime.combine(day, monitoring.start, tzinfo=zone)
            closes = dt.datetime.combine(day, monitoring.end, tzinfo=zone)
            low, high = max(opens, since), min(closes, until)
            if high > low:
                total += (high - low).total_seconds()
        day += dt.timedelta(days=1)
    return total


def silence(last: dt.datetime | None, since_fallback: dt.datetime, at: dt.datetime, zone,
            monitoring: Monitoring) -> tuple[bool, float]:
    """(silent, business hours without a record) for one site."""
    hours = business_seconds(last or since_fallback, at, zone, monitoring) / 3600
    return bool(monitoring.hours) and hours >= monitoring.hours, hours


def _last_received(spool: Spool, site: Site, states_last: dt.datetime | None) -> dt.datetime | None:
    spooled = rawview.last_received(spool, site.code)
    candidates = [value for value in (spooled, states_last) if value is not None]
    return max(candidates) if candidates else None


def silent_sites(now: dt.datetime | None = None) -> list[dict]:
    """Enabled sites that received nothing for their configured business hours.

    For the scheduler's alarm: each item has ``site`` (code), ``hours`` (business
    hours of silence), ``last_received`` (or None) and ``threshold``.
    """
    now = now or dt.datetime.now(UTC)
    spool = Spool(settings.SPOOL_DIR)
    sites = list(Site.objects.filter(enabled=True))
    monitoring = {row.site_id: row for row in SiteMonitoring.objects.filter(site__in=sites)}
    states = dict(
        ConnectionState.objects.filter(connection__site__in=sites)
        .values_list("connection__site_id").annotate(last=Max("last_record_at"))
    )
    result = []
    for site in sites:
        config = Monitoring.of(monitoring.get(site.pk))
        last = _last_received(spool, site, states.get(site.pk))
        silent, hours = silence(last, site.created, now, site.zone, config)
        if silent:
            result.append({"site": site.code, "hours": round(hours, 1), "last_received": last,
                           "threshold": config.hours})
    return result


def site_status(now: dt.datetime | None = None, sites=None) -> list[dict]:
    """Per site: connections, last raw record, today's counters, unknown extensions, spool size, silence.

    "Today" is the current UTC day, the spool's day file; the queries are one
    aggregate each, whatever the number of sites or calls.
    """
    now = now or dt.datetime.now(UTC)
    today = now.astimezone(UTC).date()
    spool = Spool(settings.SPOOL_DIR)
    sites = list(sites if sites is not None else Site.objects.all())
    monitoring = {row.site_id: row for row in SiteMonitoring.objects.filter(site__in=sites)}

    connections: dict[int, list[dict]] = {}
    last_from_states: dict[int, dt.datetime] = {}
    for conn in Connection.objects.filter(site__in=sites).select_related("state").order_by("site_id", "id"):
        state = getattr(conn, "state", None)
        connections.setdefault(conn.site_id, []).append({
            "id": conn.pk,
            "kind": conn.kind,
            "enabled": conn.enabled,
            "state": state.state if state else ("disabled" if not conn.enabled else "unknown"),
            "detail": state.detail if state else "",
            "last_error": state.last_error if state else "",
            "last_error_at": state.last_error_at if state else None,
            "last_record_at": state.last_record_at if state else None,
            "records_total": state.records_total if state else 0,
        })
        if state and state.last_record_at:
            previous = last_from_states.get(conn.site_id)
            last_from_states[conn.site_id] = max(filter(None, (previous, state.last_record_at)))

    segments = {
        row["site_id"]: row
        for row in SpoolSegment.objects.filter(site__in=sites, day=today).values("site_id").annotate(
            records=Sum("records"), calls=Sum("calls"), discarded=Sum("discarded"),
            mined_offset=Sum("mined_offset"),
        )
    }
    discarded: dict[int, dict[str, int]] = {}
    for row in (DiscardedCall.objects.filter(site__in=sites, segment__day=today)
                .values("site_id", "reason").annotate(n=Count("id")).order_by()):
        discarded.setdefault(row["site_id"], {})[row["reason"]] = row["n"]
    unknown = dict(
        DiscardedCall.objects.filter(site__in=sites, reason=DiscardReason.EXTENSION_NOT_CONFIGURED)
        .values_list("site_id").annotate(n=Count("extension_number", distinct=True, filter=~Q(extension_number="")))
        .order_by()
    )

    result = []
    for site in sites:
        last_record = rawview.last_record(spool, site.code)
        spooled_last = None
        if last_record is not None and last_record.received:
            try:
                spooled_last = dt.datetime.fromisoformat(last_record.received)
            except ValueError:
                spooled_last = None
        candidates = [value for value in (spooled_last, last_from_states.get(site.pk)) if value]
        last = max(candidates) if candidates else None
        config = Monitoring.of(monitoring.get(site.pk))
        silent, hours = silence(last, site.created, now, site.zone, config)
        segment = segments.get(site.pk) or {}
        today_size = spool.size(site.code, today)
        result.append({
            "site": site.code,
            "name": site.name,
            "enabled": site.enabled,
            "connections": connections.get(site.pk, []),
            "last_record_received": last,
            "last_record_source": last_record.source if last_record else "",
            # mined records plus the lines the Miner has not reached yet: only the backlog is read
            "records_today": (segment.get("records") or 0) + (
                rawview.count_lines(spool.path(site.code, today), segment.get("mined_offset") or 0)
                if today_size else 0),
            "records_mined_today": segment.get("records") or 0,
            "backlog_bytes_today": max(0, today_size - (segment.get("mined_offset") or 0)),
            "calls_today": segment.get("calls") or 0,
            "discarded_today": discarded.get(site.pk, {}),
            "unknown_extensions": unknown.get(site.pk, 0),
            "spool_bytes": rawview.folder_size(spool, site.code),
            "silent": site.enabled and silent,
            "silent_hours": round(hours, 1),
            "silent_after_hours": config.hours,
            "business_days": list(config.days),
            "business_hours": f"{config.start:%H:%M}-{config.end:%H:%M}",
        })
    return result


def system_status(now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(UTC)
    return {"generated": now, "services": control.services(now), "sites": site_status(now)}
