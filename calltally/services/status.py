"""`calltally status`: what every site and service is doing, in a few aggregate queries."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q

from calltally import conf
from calltally.alerts.models import SiteMonitoring
from calltally.alerts.silence import Monitoring, silence
from calltally.alerts.silence import silent_sites as silent_sites  # where callers have found it
from calltally.calls.choices import DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.collectors.models import Connection
from calltally.sites.models import Site
from calltally.spool import rawview
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool

from . import control, today

UTC = dt.UTC


def site_status(now: dt.datetime | None = None, sites=None) -> list[dict]:
    """Per site: connections, last raw record, today's counters, unknown extensions, spool size, silence.

    "Today" is the site's own day, from midnight in its time zone (``today``), as
    on the dashboard: the raw records and discarded records received since then,
    and the calls that started since then. The queries are one aggregate each,
    whatever the number of sites or calls.
    """
    now = now or dt.datetime.now(UTC)
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

    calls_today, earliest = today.since_midnight(sites, now, "start")
    received_today, _ = today.since_midnight(sites, now, "received")
    calls: dict[int, int] = {}
    discarded: dict[int, dict[str, int]] = {}
    segments: dict[int, dict[dt.date, dict]] = {}
    if sites:
        calls = dict(
            Call.objects.filter(site__in=sites, start__gte=earliest).values_list("site_id")
            .annotate(n=Count("pk", filter=calls_today)).order_by()
        )
        # A record lands in the spool file of the UTC day it was received: only those files' rows.
        first_file = earliest.astimezone(UTC).date()
        for row in (DiscardedCall.objects.filter(received_today, segment__day__gte=first_file)
                    .values("site_id", "reason").annotate(n=Count("id")).order_by()):
            discarded.setdefault(row["site_id"], {})[row["reason"]] = row["n"]
        for row in SpoolSegment.objects.filter(site__in=sites, day__gte=first_file).values(
                "site_id", "day", "records", "mined_offset"):
            segments.setdefault(row["site_id"], {})[row["day"]] = row
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
        since = today.day_start(site.zone, now)
        records, backlog = _received_since(spool, site.code, since, now, segments.get(site.pk, {}))
        result.append({
            "site": site.code,
            "name": site.name,
            "enabled": site.enabled,
            "connections": connections.get(site.pk, []),
            "last_record_received": last,
            "last_record_source": last_record.source if last_record else "",
            "timezone": site.timezone,
            "today_since": since,
            "records_today": records,
            "backlog_bytes_today": backlog,
            "calls_today": calls.get(site.pk, 0),
            "discarded_today": discarded.get(site.pk, {}),
            "unknown_extensions": unknown.get(site.pk, 0),
            "spool_bytes": rawview.folder_size(spool, site.code),
            "silent": site.enabled and silent,
            "silent_hours": round(hours, 1),
            "silent_after_hours": config.hours,
            "business_days": list(config.days),
            "business_hours": f"{config.start:%H:%M}-{config.end:%H:%M}",
            # The Miner's notice when records are not being read as calls (the wrong driver, say).
            "reading_problem": site.reading_problem,
            "reading_problem_since": site.reading_problem_at,
        })
    return result


def _received_since(spool: Spool, code: str, since: dt.datetime, now: dt.datetime,
                    segments: dict[dt.date, dict]) -> tuple[int, int]:
    """(raw records received since ``since``, bytes of them not mined yet), over the UTC day files.

    A day file that began after ``since`` counts whole: the Miner's counter up to
    its checkpoint plus the lines after it, so only the backlog is read. In the file
    where ``since`` falls, the lines from the first one received at or after it.
    """
    records = backlog = 0
    day, last = since.astimezone(UTC).date(), now.astimezone(UTC).date()
    while day <= last:
        path = spool.path(code, day)
        size = spool.size(code, day)
        if size:
            segment = segments.get(day) or {}
            mined = segment.get("mined_offset") or 0
            if dt.datetime.combine(day, dt.time.min, tzinfo=UTC) >= since:
                records += (segment.get("records") or 0) + rawview.count_lines(path, mined)
                backlog += max(0, size - mined)
            else:
                start = rawview.offset_received_from(path, since)
                records += rawview.count_lines(path, start)
                backlog += max(0, size - max(start, mined))
        day += dt.timedelta(days=1)
    return records, backlog


def system_status(now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(UTC)
    return {
        "generated": now,
        # What this command read: a second data dir or database is the first thing to rule out.
        "data_dir": str(settings.DATA_DIR),
        "database": conf.describe_database(settings.DATABASES["default"]),
        "services": control.services(now),
        "sites": site_status(now),
    }
