"""How long a site has been silent, counted in business hours; and business hours themselves.

The silent-site alert rule and ``calltally status`` read the same computation: a site is silent
when no raw record arrived for its threshold of hours counted within its business hours (in the
site's own zone), so a quiet weekend or night never raises the alarm.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from calltally.collectors.models import ConnectionState
from calltally.sites.models import Site
from calltally.spool import rawview
from calltally.spool.storage import Spool
from calltally.vocabulary import WEEKDAYS

UTC = dt.UTC
# Days looked back when adding up business hours of silence: beyond that a site is silent anyway.
SILENCE_HORIZON_DAYS = 400
DEFAULT_HOURS = 4


@dataclass(frozen=True)
class Monitoring:
    """A silence threshold (``hours``; 0: never silent) and the business hours it is counted in:
    ``days`` are weekday numbers (Monday 0), ``start``/``end`` local times of the site."""

    hours: int = DEFAULT_HOURS
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(18, 0)

    @classmethod
    def of(cls, row) -> Monitoring:
        """From a site's :class:`~calltally.alerts.models.SiteMonitoring` row (None: the defaults)."""
        if row is None:
            return cls()
        return cls(row.silent_after_hours, tuple(row.business_days), row.business_start, row.business_end)

    def contains(self, local: dt.datetime) -> bool:
        """Whether a local instant falls within these business hours."""
        return local.weekday() in self.days and self.start <= local.time() < self.end

    @property
    def text(self) -> str:
        return f"{days_text(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"


def days_text(days) -> str:
    """Weekday numbers as words: a run of three or more days as a range (Mon-Fri)."""
    days = sorted(set(days))
    parts, index = [], 0
    while index < len(days):
        last = index
        while last + 1 < len(days) and days[last + 1] == days[last] + 1:
            last += 1
        names = [WEEKDAYS[day].capitalize() for day in days[index:last + 1]]
        parts.append(f"{names[0]}-{names[-1]}" if len(names) >= 3 else ",".join(names))
        index = last + 1
    return ",".join(parts)


HOURS_PATTERN = re.compile(r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


def parse_business_hours(text: str) -> tuple[tuple[int, ...], dt.time, dt.time]:
    """``"Mon-Fri 08:00-18:00"`` (days as a range or a list: ``"Mon,Wed,Sat 09:00-12:00"``) →
    (weekday numbers, start, end); ValueError in words."""
    match = HOURS_PATTERN.match(text or "")
    if not match:
        raise ValueError(f"{text!r} does not read as business hours; write e.g. \"Mon-Fri 08:00-18:00\"")
    days: set[int] = set()
    for part in match["days"].replace(" ", "").lower().split(","):
        first, _, last = part.partition("-")
        try:
            low = WEEKDAYS.index(first[:3])
            high = WEEKDAYS.index(last[:3]) if last else low
        except ValueError:
            raise ValueError(f"{part!r} is not a weekday or a range of them (Mon, Tue … Sun)") from None
        if high < low:
            raise ValueError(f"{part!r}: a range of days runs forward, e.g. Mon-Fri")
        days.update(range(low, high + 1))
    try:
        start = dt.time.fromisoformat(match["start"].zfill(5))
        end = dt.time.fromisoformat(match["end"].zfill(5)) if match["end"] != "24:00" else dt.time.max
    except ValueError:
        raise ValueError(f"{text!r}: times are HH:MM, 00:00 to 24:00") from None
    if start >= end:
        raise ValueError(f"{text!r}: business hours must end after they start")
    return tuple(sorted(days)), start, end


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


def last_received(sites: list[Site]) -> dict[int, dt.datetime | None]:
    """Per site id: the last instant a raw record arrived (the spool's last line, or a connection's
    last record), in one query for the connections whatever the number of sites."""
    spool = Spool(settings.SPOOL_DIR)
    states = dict(
        ConnectionState.objects.filter(connection__site__in=sites)
        .values_list("connection__site_id").annotate(last=Max("last_record_at")).order_by()
    )
    result = {}
    for site in sites:
        candidates = [value for value in (rawview.last_received(spool, site.code), states.get(site.pk)) if value]
        result[site.pk] = max(candidates) if candidates else None
    return result


def monitoring_of(sites: list[Site]) -> dict[int, Monitoring]:
    """Per site id: its silence threshold and business hours (the defaults without a row)."""
    from .models import SiteMonitoring

    rows = {row.site_id: row for row in SiteMonitoring.objects.filter(site__in=sites)}
    return {site.pk: Monitoring.of(rows.get(site.pk)) for site in sites}


def silent_sites(now: dt.datetime | None = None, sites=None) -> list[dict]:
    """Enabled sites that received nothing for their configured business hours: each item has
    ``site`` (code), ``hours`` (business hours of silence), ``last_received`` (or None) and
    ``threshold``."""
    now = now or dt.datetime.now(UTC)
    sites = list(sites if sites is not None else Site.objects.filter(enabled=True))
    monitoring = monitoring_of(sites)
    last = last_received(sites)
    result = []
    for site in sites:
        config = monitoring[site.pk]
        silent, hours = silence(last[site.pk], site.created, now, site.zone, config)
        if silent:
            result.append({"site": site.code, "hours": round(hours, 1), "last_received": last[site.pk],
                           "threshold": config.hours})
    return result
