"""Summaries from the rollup tables (calltally.calls.rollups) when the options allow it.

A rollup keeps sums per site, local day (and hour), direction, answered, extension, person, cost
center, category, destination, account, tariff, trunk and currency. A summary whose period is whole
local days and whose filters name only those dimensions is answered from it, thousands of times
fewer rows than the calls; anything else — a time of day, a remote number pattern, a duration or
cost threshold, short missed calls left out, an open-ended range — is read from the
calls (``summary_groups`` says None). Both give the same groups: calltally/reports/tests prove it.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from calltally.accounts.scope import Scope, subtree
from calltally.calls import rollups
from calltally.directory.models import CostCenter, Person

from .options import NONE, ReportOptions, period_dates, report_sites

# What each summary groups by, in the rollups' words, and the Call-shaped keys it is given as.
GROUPS = {
    "person": ("person",), "extension": ("site", "extension"), "site": ("site",), "account": ("site", "account"),
    "destination": ("destination",), "category": ("category",), "tariff": ("tariff",),
    "cost_center": ("cost_center",), "trunk": ("trunk",),
}
KEYS = {"site": "site_id", "person": "person_id", "extension": "extension_id", "cost_center": "cost_center_id"}
# Set, these options need the calls themselves.
CALLS_ONLY = ("time_from", "time_to", "remote", "min_duration", "min_cost", "ignore_short_missed")

# Switched off by tests that read the calls path on purpose.
enabled = True


def answerable(options: ReportOptions, dimension_name: str = "") -> bool:
    if not enabled or (dimension_name and dimension_name not in GROUPS):
        return False
    if any(getattr(options, name) for name in CALLS_ONLY):
        return False
    # An extension is kept by id, a call filtered by its number: a deleted extension's calls
    # keep their number and lose the id, so the filter reads the calls.
    if options.extension:
        return False
    return not (options.period == "custom" and (options.date_from is None or options.date_to is None))


def filters_of(options: ReportOptions) -> tuple[dict, Q] | None:
    """The options' filters on rollup rows (None: one names nothing, so nothing matches)."""
    filters: dict = {}
    where = Q()
    if options.cost_center == NONE:
        filters["cost_center_id"] = 0
    elif options.cost_center:
        root = CostCenter.objects.filter(code=options.cost_center).values_list("pk", flat=True).first()
        where &= Q(cost_center_id__in=subtree([root] if root else []))
    if options.person == NONE:
        filters["person_id"] = 0
    elif options.person:
        pk = Person.objects.filter(username=options.person).values_list("pk", flat=True).first()
        if pk is None:
            return None
        filters["person_id"] = pk
    if options.direction:
        filters["direction"] = options.direction
    for name in ("category", "destination", "tariff", "account"):
        value = getattr(options, name)
        if value == NONE:
            filters[name] = ""
        elif value:
            filters[name if name == "category" else f"{name}__iexact"] = value
    if options.trunk:
        # Exact, as the calls' filter (calltally.reports.options.filters_q): device names are the PBX's own.
        filters["trunk"] = "" if options.trunk == NONE else options.trunk
    if options.currency:
        filters["currency"] = options.currency
    if options.answered:
        filters["answered"] = options.answered == "answered"
    return filters, where


def rollup_rows(options: ReportOptions, scope: Scope, group_by: tuple[str, ...], now: dt.datetime | None = None
                ) -> list[dict] | None:
    """``rollups.summary`` rows for these options and this scope (each site's period in its own
    zone), or None when the rollups cannot answer."""
    if not answerable(options):
        return None
    found = filters_of(options)
    sites = report_sites(options, scope)
    if found is None or not sites:
        return []
    filters, where = found
    # Sites of different zones may be on different local days ("today" at 23:30 UTC): one
    # rollup question per distinct period.
    periods: dict[tuple, list[int]] = {}
    for site in sites:
        periods.setdefault(period_dates(options, site.zone, now), []).append(site.pk)
    out: list[dict] = []
    for (first, last), site_ids in periods.items():
        rows = rollups.summary(group_by, first, last, filters=filters,
                               where=where & Q(site_id__in=site_ids) & scope.calls())
        if rows is None:
            return None
        out.extend(rows)
    return out


def summary_groups(options: ReportOptions, scope: Scope, dimension_name: str, now: dt.datetime | None = None
                   ) -> list[dict] | None:
    """The groups of a summary from the rollups, keyed as ``catalogue.aggregate`` keys them, or None
    when the rollups cannot answer these options."""
    if not answerable(options, dimension_name):
        return None
    group_by = GROUPS[dimension_name]
    rows = rollup_rows(options, scope, group_by, now)
    if rows is None:
        return None
    groups = []
    for row in rows:
        group = {KEYS.get(name, name): (row[name] or None) if name in KEYS else row[name] for name in group_by}
        group.update(currency=row["currency"], calls=row["calls"], talk_seconds=row["talk_seconds"],
                     cost=row["cost"])
        groups.append(group)
    return _merged(groups, [KEYS.get(name, name) for name in group_by])


def _merged(groups: list[dict], keys: list[str]) -> list[dict]:
    out: dict[tuple, dict] = {}
    for group in groups:
        key = (*(group[k] for k in keys), group["currency"])
        if key in out:
            for measure in ("calls", "talk_seconds", "cost"):
                out[key][measure] += group[measure]
        else:
            out[key] = dict(group)
    return list(out.values())
