"""What "today" means, on every screen: since midnight in each site's own time zone.

`calltally status`, the dashboard and any other "today" or "last N days" figure
take their day boundaries from here, so a site shows the same day everywhere:
a call at 00:30 in Rome is today's call in Rome on every page, whatever the
server's zone or UTC say. The spool's day files are UTC days; the records
received since a site's midnight are counted across them (``rawview``).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

# Said on the screens that show "today" figures of several sites at once.
RULE = "Today starts at midnight in each site's own time zone."


def day_start(zone: dt.tzinfo, now: dt.datetime, days_back: int = 0) -> dt.datetime:
    """Midnight that began the site's current day (``days_back`` days earlier), as an aware instant."""
    day = now.astimezone(zone).date() - dt.timedelta(days=days_back)
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def since_midnight(sites, now: dt.datetime, field: str, days_back: int = 0) -> tuple[Q, dt.datetime | None]:
    """A filter for the rows of ``sites`` whose ``field`` falls in each site's today (or the
    ``days_back`` days before it too), and the earliest boundary among the sites, which
    lets a query skip older rows with one plain comparison first."""
    condition, earliest = Q(), None
    for site in sites:
        start = day_start(site.zone, now, days_back)
        condition |= Q(site_id=site.pk, **{f"{field}__gte": start})
        earliest = start if earliest is None else min(earliest, start)
    return condition, earliest


def label(site) -> str:
    """The rule for one site, in words: ``since 00:00 Europe/Rome``."""
    return f"since 00:00 {site.timezone}"
