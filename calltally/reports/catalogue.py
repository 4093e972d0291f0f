"""The report catalogue: every report declared once — name, title, columns, chart — and run the
same way for the web pages, ``calltally report``, the REST API and the exports.

``run(name, options, scope)`` gives a :class:`ReportResult`: its columns, its rows (dicts keyed
by column name; a summary row also carries ``drill``, the options of the call list behind it),
its totals and its chart data. Values are Python values: ``int`` counts and seconds, ``Decimal``
money (``None`` where an outbound call could not be priced), aware datetimes in the site's zone,
``float`` percentages. :meth:`ReportResult.as_json` turns them into the JSON every face gives.

Costs are summed per currency: a summary row is one group in one currency (a person who called
from a EUR and a USD site has two rows), ``totals["cost"]`` is the total when one currency
appears (``None`` when several do) and ``totals["cost_by_currency"]`` always has each one.

Every aggregate is one GROUP BY query (labels come from one more query per table, never one per
row); the call-shaped reports stream their rows from the database.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Case, Count, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from calltally import vocabulary
from calltally.accounts.models import Role
from calltally.accounts.scope import Scope
from calltally.calls.choices import Direction, DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.calls.services import AccountNames
from calltally.db import EpochSeconds
from calltally.directory.models import CostCenter, Extension, Person
from calltally.sites.models import Site

from .options import (
    NONE,
    ReportOptions,
    calls_for,
    filters_q,
    period_dates,
    period_q,
    report_sites,
    site_bounds,
    trunk_expression,
)

TYPES = ("text", "int", "seconds", "money", "datetime", "percent", "number")
CHART_KINDS = ("bar", "line", "heatmap", "pie")
# Sums come back with the database's arithmetic (floats on SQLite): kept to the cost's places.
CENT = Decimal(1).scaleb(-Call._meta.get_field("cost").decimal_places)


ZERO = Decimal(0).quantize(CENT)


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Column:
    """One column of a report: ``type`` says how to show and export its values (see TYPES)."""

    name: str
    label: str
    type: str = "text"

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "type": self.type}


@dataclass(frozen=True)
class Chart:
    """What a report's picture shows: ``x`` names the column along the axis, ``y`` the measured
    columns (a heatmap: ``x`` the column of each cell's x, ``y`` its rows' label column)."""

    kind: str
    x: str
    y: tuple[str, ...]


@dataclass
class ReportResult:
    """One run of a report (see the module's doc). ``rows`` is a list, except for the call-shaped
    reports of :data:`STREAMED`, where it is a one-shot iterator read from the database."""

    report: Report
    options: ReportOptions
    columns: list[Column]
    rows: Iterable[dict]
    totals: dict
    chart: dict | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        """``{"report", "options", "columns", "rows", "totals"}``: numbers as numbers, money as
        decimal text, datetimes as ISO 8601 with the site's offset (reads the rows)."""
        return {
            "report": self.report.name,
            "options": self.options.to_dict(),
            "columns": [c.as_dict() for c in self.columns],
            "rows": [json_row(row, self.columns) for row in self.rows],
            "totals": json_totals(self.totals),
        }


def json_value(value, kind: str = "text"):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value) if kind == "money" else (float(value) if kind in ("percent", "number") else str(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def json_row(row: dict, columns: list[Column]) -> dict:
    return {c.name: json_value(row.get(c.name), c.type) for c in columns}


def json_totals(totals: dict) -> dict:
    out = {}
    for key, value in totals.items():
        if isinstance(value, dict):
            out[key] = {k: json_value(v, "money") for k, v in value.items()}
        else:
            out[key] = json_value(value, "money")
    return out


Runner = Callable[["Report", ReportOptions, Scope, dt.datetime | None], ReportResult]


@dataclass(frozen=True)
class Report:
    """A report of the catalogue, declared once with :func:`register`."""

    name: str
    title: str
    description: str
    group: str
    columns: tuple[Column, ...]
    runner: Runner
    chart: Chart | None = None
    drills: bool = False  # its rows lead to the call list behind them

    def run(self, options: ReportOptions, scope: Scope, now: dt.datetime | None = None) -> ReportResult:
        return self.runner(self, options, scope, now)


REPORTS: dict[str, Report] = {}
GROUPS = ("Calls", "Summaries", "Top N", "Traffic", "Inbound", "Extensions", "Tariffs")
# The reports whose rows are calls, read as a stream.
STREAMED = {"call-list", "unrated-calls", "missed-not-called-back"}


class UnknownReport(KeyError):
    def __str__(self) -> str:
        return f"no report named {self.args[0]!r} (calltally report list shows them)"


def register(name: str, title: str, group: str, columns, description: str, chart: Chart | None = None,
             drills: bool = False):
    def decorate(runner: Runner) -> Runner:
        REPORTS[name] = Report(name, title, description.strip(), group, tuple(columns), runner, chart, drills)
        return runner

    return decorate


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None


def catalogue() -> list[Report]:
    """Every report, by group then in the order declared."""
    return sorted(REPORTS.values(), key=lambda r: GROUPS.index(r.group))


def run(name: str, options: ReportOptions, scope: Scope, now: dt.datetime | None = None) -> ReportResult:
    """Run the report ``name`` for an account's ``scope``; raises :class:`UnknownReport`."""
    return get_report(name).run(options, scope, now)


# --- totals -------------------------------------------------------------------------------------

def money_totals(per_currency: dict[str, Decimal]) -> dict:
    """``cost`` (one currency, else None), ``currency`` ("EUR", "EUR/USD") and ``cost_by_currency``."""
    currencies = sorted(c for c in per_currency if c)
    return {
        "cost": per_currency[currencies[0]] if len(currencies) == 1 else (ZERO if not currencies else None),
        "currency": "/".join(currencies),
        "cost_by_currency": {c: per_currency[c] for c in currencies},
    }


def call_totals(calls) -> dict:
    """calls, talk seconds and cost (per currency) of a queryset of calls: one GROUP BY."""
    total_calls, talk, costs = 0, 0, {}
    for row in calls.order_by().values("currency").annotate(n=Count("pk"), t=Sum("talk_seconds"), c=Sum("cost")):
        total_calls += row["n"]
        talk += row["t"] or 0
        costs[row["currency"]] = costs.get(row["currency"], ZERO) + money(row["c"])
    return {"calls": total_calls, "talk_seconds": talk, **money_totals(costs)}


def rows_totals(rows: list[dict]) -> dict:
    total_calls, talk, costs = 0, 0, {}
    for row in rows:
        total_calls += row["calls"]
        talk += row["talk_seconds"]
        if row.get("cost") is not None:
            costs[row["currency"]] = costs.get(row["currency"], ZERO) + row["cost"]
    return {"calls": total_calls, "talk_seconds": talk, **money_totals(costs)}


def share_of_total(rows: list[dict]) -> None:
    """Each row's share of its currency's total cost, in percent; where that total is zero
    (inbound or free calls), its share of the calls instead."""
    cost, calls = {}, {}
    for row in rows:
        cost[row["currency"]] = cost.get(row["currency"], ZERO) + (row["cost"] or ZERO)
        calls[row["currency"]] = calls.get(row["currency"], 0) + row["calls"]
    for row in rows:
        if cost[row["currency"]]:
            row["share"] = round(float(row["cost"] * 100 / cost[row["currency"]]), 1)
        else:
            row["share"] = round(row["calls"] * 100 / calls[row["currency"]], 1) if calls[row["currency"]] else 0.0


def list_totals(options: ReportOptions, scope: Scope, now=None, calls=None) -> dict:
    """The call list's totals for these options: from the rollups when they can answer (a month of
    ten million calls is not summed on every page), else summed over ``calls``."""
    from . import fast

    groups = fast.summary_groups(options, scope, "site", now)
    if groups is not None:
        return rows_totals(groups)
    return call_totals(calls if calls is not None else calls_for(options, scope, now))


# --- the call list -----------------------------------------------------------------------------

CALL_COLUMNS = (
    Column("start", "Date and time", "datetime"), Column("site", "Site"), Column("extension", "Extension"),
    Column("person", "Person"), Column("direction", "Direction"), Column("remote_number", "Remote number"),
    Column("destination", "Destination"), Column("category", "Category"), Column("ring_seconds", "Ring", "seconds"),
    Column("talk_seconds", "Duration", "seconds"), Column("cost", "Cost", "money"), Column("currency", "Currency"),
    Column("account", "Account"),
)
CALL_FIELDS = ("id", "site_id", "start", "extension_number", "person__username", "direction", "remote_number",
               "destination", "category", "ring_seconds", "talk_seconds", "cost", "currency", "account_code",
               "account", "unrated")


def call_rows(calls, sites: dict[int, Site] | None = None, chunk_size: int = 2000) -> Iterator[dict]:
    """The call list's rows of a queryset of calls (ordered and sliced as the caller likes), streamed.

    The start is shown in the call's site zone; the remote number as stored (masked by privacy when
    the Miner made the call); the account as :class:`AccountNames` shows it, never a code that is
    to be replaced by its description. An unrated call has no cost (None), not a zero price."""
    if sites is None:
        sites = {site.pk: site for site in Site.objects.all()}
    zones = {pk: site.zone for pk, site in sites.items()}
    names = AccountNames()
    for values in calls.values_list(*CALL_FIELDS).iterator(chunk_size=chunk_size):
        (pk, site_id, start, extension, person, direction, remote, destination, category, ring, talk, cost,
         currency, code, account, unrated) = values
        replaced = names.replacement(site_id, code)
        yield {
            "id": pk, "start": start.astimezone(zones[site_id]), "site": sites[site_id].code, "extension": extension,
            "person": person or "", "direction": direction, "remote_number": remote, "destination": destination,
            "category": category, "ring_seconds": ring, "talk_seconds": talk, "cost": None if unrated else cost,
            "currency": currency, "account": replaced if replaced is not None else (account or code),
        }


def _call_report(report: Report, options: ReportOptions, scope: Scope, now, calls=None, order=("start", "id"),
                 limit: int | None = None) -> ReportResult:
    sites = report_sites(options, scope)
    if calls is None:
        calls = calls_for(options, scope, now, sites)
    ordered = calls.order_by(*order)
    if limit is not None:
        ordered = ordered[:limit]
        # The totals of a top N are those of the rows shown.
        totals = call_totals(Call.objects.filter(pk__in=list(ordered.values_list("pk", flat=True))))
    elif report.name == "call-list":
        totals = list_totals(options, scope, now, calls)
    else:
        totals = call_totals(calls)
    return ReportResult(report, options, list(report.columns), call_rows(ordered, {s.pk: s for s in sites}), totals)


@register("call-list", "Call list", "Calls", CALL_COLUMNS, """
The itemised bill: every call of the period with its date and time in the site's zone, extension,
person, remote number (masked per privacy), destination, ring and talk time, cost and account.""")
def call_list(report, options, scope, now):
    return _call_report(report, options, scope, now)


@register("unrated-calls", "Unrated calls", "Tariffs", CALL_COLUMNS, """
Outbound calls no rate of the site's tariff plan matched: they cost nothing until a rate covers
them and the period is recalculated.""")
def unrated_calls(report, options, scope, now):
    return _call_report(report, options, scope, now, calls_for(options, scope, now).filter(unrated=True))


# --- summaries -----------------------------------------------------------------------------------

MEASURES = (Column("calls", "Calls", "int"), Column("talk_seconds", "Duration", "seconds"),
            Column("cost", "Cost", "money"), Column("currency", "Currency"), Column("share", "Share", "percent"))


@dataclass(frozen=True)
class Dimension:
    """What a summary groups by: the Call fields of the GROUP BY, and how a group is labelled
    (``label(groups)`` → for each group a dict of label columns and the options that drill to it)."""

    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    label: Callable[[list[dict]], list[tuple[dict, dict]]]
    annotate: dict | None = None


def aggregate(calls, dimension: Dimension, order: tuple[str, ...] = (), limit: int | None = None) -> list[dict]:
    """calls, talk seconds and cost per group and currency: one GROUP BY query."""
    if dimension.annotate:
        calls = calls.annotate(**dimension.annotate)
    rows = (calls.order_by().values(*dimension.keys, "currency")
            .annotate(calls=Count("pk"), talk_seconds=Sum("talk_seconds"), cost=Sum("cost")))
    if order:
        rows = rows.order_by(*order)
    if limit is not None:
        rows = rows[:limit]
    return [dict(row, talk_seconds=row["talk_seconds"] or 0, cost=money(row["cost"])) for row in rows]


def summary_rows(groups: list[dict], dimension: Dimension, options: ReportOptions) -> list[dict]:
    """Labelled rows, groups of the same label and currency merged (an account code and its
    description name one account), with their share and drill-down options; largest cost first."""
    merged: dict[tuple, dict] = {}
    for group, (labels, drill) in zip(groups, dimension.label(groups), strict=True):
        key = (*labels.values(), group["currency"])
        row = merged.get(key)
        if row is None:
            merged[key] = {**labels, "calls": group["calls"], "talk_seconds": group["talk_seconds"],
                           "cost": group["cost"], "currency": group["currency"],
                           "drill": options.replace(currency=group["currency"], **drill)}
        else:
            row["calls"] += group["calls"]
            row["talk_seconds"] += group["talk_seconds"]
            row["cost"] += group["cost"]
    rows = list(merged.values())
    share_of_total(rows)
    rows.sort(key=lambda r: (-r["cost"], -r["calls"], *(str(v) for v in r.values())))
    return rows


def _people(groups, key="person_id") -> list[tuple[dict, dict]]:
    people = {p.pk: p for p in Person.objects.filter(pk__in={g[key] for g in groups if g[key]})
              .only("username", "first_name", "last_name")}
    out = []
    for g in groups:
        person = people.get(g[key])
        if person is None:
            out.append(({"person": NONE, "name": "No person"}, {"person": NONE}))
        else:
            out.append(({"person": person.username, "name": person.full_name}, {"person": person.username}))
    return out


def _site_map(groups) -> dict[int, Site]:
    return {s.pk: s for s in Site.objects.filter(pk__in={g["site_id"] for g in groups})}


def _extensions(groups):
    sites = _site_map(groups)
    known = {e.pk: e for e in Extension.objects.filter(pk__in={g["extension_id"] for g in groups if g["extension_id"]})
             .select_related("person").only("number", "person__username")}
    out = []
    for g in groups:
        extension = known.get(g["extension_id"])
        # The number as the calls have it (an extension deleted since keeps its calls' number).
        number = g.get("extension_number") or (extension.number if extension else "")
        owner = extension.person.username if extension and extension.person_id else ""
        code = sites[g["site_id"]].code
        out.append(({"site": code, "extension": number or NONE, "person": owner},
                    {"sites": [code], "extension": number or NONE}))
    return out


def _sites(groups):
    sites = _site_map(groups)
    return [({"site": sites[g["site_id"]].code, "name": sites[g["site_id"]].name},
             {"sites": [sites[g["site_id"]].code]}) for g in groups]


def _accounts(groups):
    # The account a call is charged to, as stored by the Miner; a code switched to "replace with
    # description" since is shown as its description already (AccountNames), never as the code.
    names = AccountNames()
    out = []
    for g in groups:
        replaced = names.replacement(g["site_id"], g["account"])
        shown = replaced if replaced is not None else g["account"]
        out.append(({"account": shown or NONE}, {"account": shown or NONE}))
    return out


def _plain(key: str, column: str, option: str, labels: dict | None = None):
    def label(groups):
        out = []
        for g in groups:
            value = g[key] or ""
            row = {column: value or NONE}
            if labels is not None:
                row["label"] = labels.get(value, value) if value else "(none)"
            out.append((row, {option: value or NONE}))
        return out

    return label


def _cost_centers(groups):
    centers = {c.pk: c for c in CostCenter.objects.filter(pk__in={g["cost_center_id"] for g in groups})}
    out = []
    for g in groups:
        center = centers.get(g["cost_center_id"])
        if center is None:
            out.append(({"cost_center": NONE, "name": "No cost center"}, {"cost_center": NONE}))
        else:
            out.append(({"cost_center": center.code, "name": center.name}, {"cost_center": center.code}))
    return out


DIMENSIONS = {
    "person": Dimension(("person_id",), (Column("person", "Person"), Column("name", "Name")), _people),
    "extension": Dimension(("site_id", "extension_id", "extension_number"),
                           (Column("site", "Site"), Column("extension", "Extension"), Column("person", "Person")),
                           _extensions),
    "site": Dimension(("site_id",), (Column("site", "Site"), Column("name", "Name")), _sites),
    "account": Dimension(("site_id", "account"), (Column("account", "Account"),), _accounts),
    "destination": Dimension(("destination",), (Column("destination", "Destination"),),
                             _plain("destination", "destination", "destination")),
    "category": Dimension(("category",), (Column("category", "Category"), Column("label", "Name")),
                          _plain("category", "category", "category", vocabulary.CATEGORY_LABELS)),
    "tariff": Dimension(("tariff",), (Column("tariff", "Tariff"),), _plain("tariff", "tariff", "tariff")),
    "trunk": Dimension(("trunk",), (Column("trunk", "Trunk/device"),), _plain("trunk", "trunk", "trunk"),
                       annotate={"trunk": trunk_expression()}),
    "cost_center": Dimension(("cost_center_id",), (Column("cost_center", "Cost center"), Column("name", "Name")),
                             _cost_centers),
}


def summary_source(options: ReportOptions, scope: Scope, dimension_name: str, now) -> list[dict]:
    """The groups of a summary: calls, talk seconds and cost per group and currency.

    From the rollup tables when they can answer the options (calltally.reports.fast), else from
    the calls: both give the same groups (tested)."""
    from . import fast

    found = fast.summary_groups(options, scope, dimension_name, now)
    if found is not None:
        return found
    return aggregate(calls_for(options, scope, now), DIMENSIONS[dimension_name])


def _summary(dimension_name: str):
    dimension = DIMENSIONS[dimension_name]

    def runner(report, options, scope, now):
        groups = summary_source(options, scope, dimension_name, now)
        rows = summary_rows(groups, dimension, options)
        return ReportResult(report, options, list(report.columns), rows, rows_totals(rows),
                            chart=bar_chart(rows, report.chart))

    return runner


def bar_chart(rows: list[dict], chart: Chart | None, limit: int = 20) -> dict | None:
    """Chart data: the first ``limit`` rows' x labels and each measured column's values."""
    if chart is None or not rows:
        return None
    shown = rows[:limit]
    # "rows": what the chart draws (charts.chart_of), which may be fewer than the table's rows.
    return {"kind": chart.kind, "x": [str(r[chart.x]) for r in shown], "rows": rows,
            "series": [{"name": y, "values": [float(r[y] or 0) for r in shown]} for y in chart.y]}


SUMMARIES = {
    "person": ("summary-by-person", "Summary by person", "Calls, duration and cost of each person."),
    "extension": ("summary-by-extension", "Summary by extension",
                  "Calls, duration and cost of each extension, with its owner."),
    "site": ("summary-by-site", "Summary by site", "Calls, duration and cost of each site."),
    "account": ("summary-by-account", "Summary by account",
                "Calls, duration and cost per account code (its description where the code is replaced)."),
    "destination": ("summary-by-destination", "Summary by destination",
                    "Calls, duration and cost per destination (country or network)."),
    "category": ("summary-by-category", "Summary by category",
                 "Calls, duration and cost per category: local, national, mobile, international…"),
    "tariff": ("summary-by-tariff", "Summary by carrier/tariff", "Calls, duration and cost per tariff plan."),
    "trunk": ("summary-by-trunk", "Summary by trunk",
              "Calls, duration and cost per trunk/device (the outgoing device of an outbound call, the "
              "incoming one of an inbound call)."),
}
for _name, (_report, _title, _text) in SUMMARIES.items():
    _dim = DIMENSIONS[_name]
    register(_report, _title, "Summaries", (*_dim.columns, *MEASURES), _text,
             chart=Chart("pie" if _name in ("category", "site") else "bar", _dim.columns[0].name, ("cost",)),
             drills=True)(_summary(_name))


CC_COLUMNS = (Column("cost_center", "Cost center"), Column("name", "Name"), Column("depth", "Level", "int"),
              *MEASURES, Column("subtotal_calls", "Calls (with those below)", "int"),
              Column("subtotal_talk_seconds", "Duration (with those below)", "seconds"),
              Column("subtotal_cost", "Cost (with those below)", "money"))


@register("summary-by-cost-center", "Summary by cost center", "Summaries", CC_COLUMNS, """
Calls, duration and cost of each cost center, in the tree's order: its own calls, and a subtotal
with every cost center below it. A row drills down to the calls of its subtree.""",
          chart=Chart("bar", "cost_center", ("subtotal_cost",)), drills=True)
def summary_by_cost_center(report, options, scope, now):
    groups = summary_source(options, scope, "cost_center", now)
    own: dict[tuple[int | None, str], dict] = {}
    for g in groups:
        own[(g["cost_center_id"], g["currency"])] = g
    centers = {c.pk: c for c in CostCenter.objects.only("code", "name", "parent_id")}
    children: dict[int | None, list[int]] = {}
    for center in centers.values():
        children.setdefault(center.parent_id if center.parent_id in centers else None, []).append(center.pk)
    visible = None if scope.role != Role.MANAGER else set(scope.cost_center_ids or ())
    currencies = sorted({g["currency"] for g in groups})
    rows: list[dict] = []

    def walk(pk: int, depth: int, currency: str) -> tuple[int, int, Decimal]:
        # Depth first: a row is placed before its children, its subtotal filled in after them.
        center = centers[pk]
        mine = own.get((pk, currency))
        row = {"cost_center": center.code, "name": center.name, "depth": depth,
               "calls": mine["calls"] if mine else 0, "talk_seconds": mine["talk_seconds"] if mine else 0,
               "cost": mine["cost"] if mine else ZERO, "currency": currency,
               "drill": options.replace(cost_center=center.code, currency=currency)}
        position = len(rows)
        rows.append(row)
        calls, talk, cost = row["calls"], row["talk_seconds"], row["cost"]
        for child in sorted(children.get(pk, ()), key=lambda c: centers[c].code):
            c_calls, c_talk, c_cost = walk(child, depth + 1, currency)
            calls, talk, cost = calls + c_calls, talk + c_talk, cost + c_cost
        row.update(subtotal_calls=calls, subtotal_talk_seconds=talk, subtotal_cost=cost)
        if not calls or (visible is not None and pk not in visible):
            # Nothing in this subtree, or a manager's ancestor outside their scope: not shown.
            del rows[position:position + 1]
        return calls, talk, cost

    for currency in currencies:
        for root in sorted(children.get(None, ()), key=lambda c: centers[c].code):
            walk(root, 0, currency)
        orphan = own.get((None, currency))
        if orphan:
            rows.append({"cost_center": NONE, "name": "No cost center", "depth": 0, "calls": orphan["calls"],
                         "talk_seconds": orphan["talk_seconds"], "cost": orphan["cost"], "currency": currency,
                         "subtotal_calls": orphan["calls"], "subtotal_talk_seconds": orphan["talk_seconds"],
                         "subtotal_cost": orphan["cost"],
                         "drill": options.replace(cost_center=NONE, currency=currency)})
    # A cost center whose own groups were missed by the walk (a cycle in the tree) would be lost:
    # the totals come from the groups themselves.
    share_of_total(rows)
    totals = rows_totals([dict(g, cost=g["cost"]) for g in groups])
    return ReportResult(report, options, list(report.columns), rows, totals,
                        chart=bar_chart([r for r in rows if r["depth"] == 0], report.chart))


# --- top N ---------------------------------------------------------------------------------------

@register("top-expensive-calls", "Most expensive calls", "Top N", CALL_COLUMNS,
          "The N calls that cost most (--top N, 10 by default).")
def top_expensive(report, options, scope, now):
    return _call_report(report, options, scope, now, order=("-cost", "-talk_seconds", "id"), limit=options.top)


@register("top-longest-calls", "Longest calls", "Top N", CALL_COLUMNS,
          "The N longest calls by talk time.")
def top_longest(report, options, scope, now):
    return _call_report(report, options, scope, now, order=("-talk_seconds", "-cost", "id"), limit=options.top)


NUMBERS = Dimension(("remote_number",), (Column("remote_number", "Remote number"),),
                    _plain("remote_number", "remote_number", "remote"))


@register("top-called-numbers", "Most called numbers", "Top N",
          (Column("remote_number", "Remote number"), *MEASURES), """
The outside numbers called most often (outbound calls), as stored: a number masked by privacy
counts as its masked form.""", chart=Chart("bar", "remote_number", ("calls",)), drills=True)
def top_called_numbers(report, options, scope, now):
    calls = calls_for(options, scope, now).filter(direction=Direction.OUTBOUND).exclude(remote_number="")
    groups = aggregate(calls, NUMBERS, order=("-calls", "-cost", "remote_number"), limit=options.top)
    rows = summary_rows(groups, NUMBERS, options.replace(direction=Direction.OUTBOUND))
    rows.sort(key=lambda r: (-r["calls"], -r["cost"], r["remote_number"]))
    return ReportResult(report, options, list(report.columns), rows, rows_totals(rows),
                        chart=bar_chart(rows, report.chart))


@register("top-spenders", "Top spenders", "Top N", (*DIMENSIONS["person"].columns, *MEASURES),
          "The N people whose calls cost most.", chart=Chart("bar", "person", ("cost",)), drills=True)
def top_spenders(report, options, scope, now):
    # Every person's sums (from the rollups when they can answer), the N largest kept: a few
    # hundred people cost less to sort here than to ask the calls for an ORDER BY … LIMIT.
    groups = [g for g in summary_source(options, scope, "person", now) if g["person_id"]]
    rows = summary_rows(groups, DIMENSIONS["person"], options)
    rows = sorted(rows, key=lambda r: (-r["cost"], -r["calls"], r["person"]))[:options.top]
    return ReportResult(report, options, list(report.columns), rows, rows_totals(rows),
                        chart=bar_chart(rows, report.chart))


# --- traffic -------------------------------------------------------------------------------------

def _by_zone(sites: list[Site]) -> dict[str, list[Site]]:
    """Sites grouped by time zone: one query per zone, since local hours and days depend on it."""
    zones: dict[str, list[Site]] = {}
    for site in sites:
        zones.setdefault(site.timezone, []).append(site)
    return zones


HOURS = tuple(f"h{h:02d}" for h in range(24))


@register("traffic-by-hour-weekday", "Calls by hour and weekday", "Traffic",
          (Column("weekday", "Weekday"), *(Column(h, f"{h[1:]}:00", "int") for h in HOURS),
           Column("calls", "Calls", "int")), """
How many calls began in each hour of each weekday, in each site's local time: when the phones are
busy.""", chart=Chart("heatmap", "weekday", HOURS))
def traffic_heatmap(report, options, scope, now):
    from . import fast

    sites = report_sites(options, scope)
    grid = [[0] * 24 for _ in range(7)]
    hourly = fast.rollup_rows(options, scope, ("day", "hour"), now)
    if hourly is not None:
        for row in hourly:
            grid[row["day"].weekday()][row["hour"]] += row["calls"]
    else:
        calls = calls_for(options, scope, now, sites)
        for members in _by_zone(sites).values():
            tz = members[0].zone
            for row in (calls.filter(site_id__in=[s.pk for s in members]).order_by()
                        .annotate(wd=ExtractIsoWeekDay("start", tzinfo=tz), hour=ExtractHour("start", tzinfo=tz))
                        .values("wd", "hour").annotate(n=Count("pk"))):
                grid[row["wd"] - 1][row["hour"]] += row["n"]
    rows = [{"weekday": WEEKDAYS[d], **{h: grid[d][i] for i, h in enumerate(HOURS)}, "calls": sum(grid[d])}
            for d in range(7)]
    chart = {"kind": "heatmap", "x": [f"{h:02d}" for h in range(24)], "y": list(WEEKDAYS), "z": grid}
    return ReportResult(report, options, list(report.columns), rows, {"calls": sum(r["calls"] for r in rows)},
                        chart=chart)


@register("calls-per-day", "Calls per day", "Traffic",
          (Column("day", "Day"), Column("calls", "Calls", "int"), Column("talk_seconds", "Duration", "seconds"),
           Column("cost", "Cost", "money"), Column("currency", "Currency")),
          "Calls, duration and cost of each local day of the period.",
          chart=Chart("line", "day", ("calls",)), drills=True)
def calls_per_day(report, options, scope, now):
    from . import fast

    sites = report_sites(options, scope)
    merged: dict[tuple[dt.date, str], dict] = {}
    for row in _daily(options, scope, now, sites, fast.rollup_rows(options, scope, ("day",), now)):
        key = (row["day"], row["currency"])
        item = merged.setdefault(key, {"day": row["day"].isoformat(), "calls": 0, "talk_seconds": 0,
                                       "cost": ZERO, "currency": row["currency"],
                                       "drill": options.replace(period="custom", date_from=row["day"],
                                                                currency=row["currency"],
                                                                date_to=row["day"], time_from=None,
                                                                time_to=None)})
        item["calls"] += row["calls"]
        item["talk_seconds"] += row["talk_seconds"] or 0
        item["cost"] += money(row["cost"])
    rows = [merged[k] for k in sorted(merged)]
    days: dict[str, int] = {}
    for row in rows:
        days[row["day"]] = days.get(row["day"], 0) + row["calls"]
    chart = {"kind": "line", "x": list(days), "series": [{"name": "calls", "values": list(days.values())}]}
    return ReportResult(report, options, list(report.columns), rows, rows_totals(rows), chart=chart)


def _daily(options, scope, now, sites, from_rollups) -> Iterator[dict]:
    """(day, currency, calls, talk seconds, cost) rows: the rollups' when they answered, else one
    GROUP BY over the calls per time zone (a local day depends on it)."""
    if from_rollups is not None:
        yield from from_rollups
        return
    calls = calls_for(options, scope, now, sites)
    for members in _by_zone(sites).values():
        yield from (calls.filter(site_id__in=[s.pk for s in members]).order_by()
                    .annotate(day=TruncDate("start", tzinfo=members[0].zone)).values("day", "currency")
                    .annotate(calls=Count("pk"), talk_seconds=Sum("talk_seconds"), cost=Sum("cost")))


ALL_TRUNKS = "(all)"


@register("concurrent-calls", "Concurrent calls and busy hour", "Traffic",
          (Column("site", "Site"), Column("trunk", "Trunk/device"), Column("calls", "Calls", "int"),
           Column("peak", "Most at once", "int"), Column("peak_at", "First reached at", "datetime"),
           Column("busy_hour", "Busy hour", "datetime"), Column("busy_hour_calls", "Calls in the busy hour", "int"),
           Column("busy_hour_erlangs", "Busy hour traffic (Erlang)", "number")), """
Per site (all trunks) and per trunk: the most calls in progress at once (ringing or talking) and
when, and the busy hour — the clock hour with the most traffic, a call counted whole in the hour it
began.""", chart=Chart("bar", "trunk", ("peak",)))
def concurrent_calls(report, options, scope, now):
    sites = report_sites(options, scope)
    by_pk = {s.pk: s for s in sites}

    def calls():
        # One query per site, in start order: each is one range of the (site, start) index. The
        # sites' periods in one OR made PostgreSQL scan the whole table and sort what it found.
        for site in sites:
            yield from (calls_for(options, scope, now, [site])
                        .annotate(trunk=trunk_expression(), epoch=EpochSeconds("start")).order_by("start")
                        .values_list("site_id", "trunk", "epoch", "ring_seconds", "talk_seconds")
                        .iterator(chunk_size=5000))

    # One pass over the calls in start order, in whole seconds since the epoch (a datetime per call
    # cost three quarters of the time): a heap of end times per (site, trunk) holds the calls in
    # progress, so memory grows with the concurrency, not the period. A call's local clock hour is
    # found once per site and quarter of an hour (every zone's offset is whole quarters) and kept
    # as the instant it began.
    state: dict[tuple[int, str], dict] = {}
    hour_of: dict[tuple[int, int], int] = {}
    for site_id, trunk, start, ring, talk in calls():
        length = (ring or 0) + (talk or 0)
        end = start + length
        hour = hour_of.get((site_id, start // 900))
        if hour is None:
            local = dt.datetime.fromtimestamp(start, by_pk[site_id].zone).replace(minute=0, second=0)
            hour = hour_of[(site_id, start // 900)] = int(local.timestamp())
        for key in ((site_id, ALL_TRUNKS), (site_id, trunk or NONE)):
            item = state.get(key)
            if item is None:
                item = state[key] = {"heap": [], "calls": 0, "peak": 0, "peak_at": None, "hours": {}}
            heap = item["heap"]
            while heap and heap[0] <= start:
                heapq.heappop(heap)
            heapq.heappush(heap, end)
            item["calls"] += 1
            if len(heap) > item["peak"]:
                item["peak"], item["peak_at"] = len(heap), start
            counts = item["hours"].get(hour)
            if counts is None:
                item["hours"][hour] = [1, length]
            else:
                counts[0] += 1
                counts[1] += length
    rows = []
    for (site_id, trunk), item in sorted(state.items(), key=lambda kv: (by_pk[kv[0][0]].code,
                                                                      kv[0][1] != ALL_TRUNKS, kv[0][1])):
        busy, (n, seconds) = max(item["hours"].items(), key=lambda kv: (kv[1][1], kv[1][0], -kv[0]))
        zone = by_pk[site_id].zone
        rows.append({"site": by_pk[site_id].code, "trunk": trunk, "calls": item["calls"], "peak": item["peak"],
                     "peak_at": dt.datetime.fromtimestamp(item["peak_at"], zone),
                     "busy_hour": dt.datetime.fromtimestamp(busy, zone), "busy_hour_calls": n,
                     "busy_hour_erlangs": (Decimal(seconds) / 3600).quantize(Decimal("0.01"))})
    totals = {"calls": sum(r["calls"] for r in rows if r["trunk"] == ALL_TRUNKS),
              "peak": max((r["peak"] for r in rows), default=0)}
    return ReportResult(report, options, list(report.columns), rows, totals,
                        chart=bar_chart([r for r in rows if r["trunk"] != ALL_TRUNKS], report.chart))


# --- inbound -------------------------------------------------------------------------------------

RING_BUCKETS = ((5, "0–4 s"), (10, "5–9 s"), (20, "10–19 s"), (30, "20–29 s"), (60, "30–59 s"), (None, "60 s or more"))


def _inbound(options, scope, now):
    return calls_for(options, scope, now).filter(direction=Direction.INBOUND)


@register("inbound-performance", "Inbound performance", "Inbound",
          (Column("ring_time", "Ring time"), Column("answered", "Answered", "int"),
           Column("unanswered", "Unanswered", "int"), Column("calls", "Calls", "int"),
           Column("share", "Share of calls", "percent")), """
Inbound calls answered and unanswered by how long they rang; the totals give the average ring time
before an answer and the share answered within N seconds (--within, 20 by default).""",
          chart=Chart("bar", "ring_time", ("answered", "unanswered")))
def inbound_performance(report, options, scope, now):
    calls = _inbound(options, scope, now)
    bucket = Case(*(When(ring_seconds__lt=limit, then=Value(i)) for i, (limit, _) in enumerate(RING_BUCKETS)
                    if limit is not None), default=Value(len(RING_BUCKETS) - 1), output_field=IntegerField())
    counts = {(r["bucket"], r["answered"]): r["n"] for r in
              calls.order_by().annotate(bucket=bucket).values("bucket", "answered").annotate(n=Count("pk"))}
    rows = []
    for i, (_, label) in enumerate(RING_BUCKETS):
        answered, unanswered = counts.get((i, True), 0), counts.get((i, False), 0)
        rows.append({"ring_time": label, "answered": answered, "unanswered": unanswered,
                     "calls": answered + unanswered})
    total = sum(r["calls"] for r in rows)
    for row in rows:
        row["share"] = round(row["calls"] * 100 / total, 1) if total else 0.0
    figures = calls.order_by().aggregate(
        n_answered=Count("pk", filter=Q(answered=True)),
        within=Count("pk", filter=Q(answered=True, ring_seconds__lte=options.within)),
        average=Avg("ring_seconds", filter=Q(answered=True)))
    answered = figures["n_answered"]
    totals = {"calls": total, "answered": answered, "unanswered": total - answered,
              "answered_share": round(answered * 100 / total, 1) if total else 0.0,
              "average_ring_seconds": round(float(figures["average"] or 0), 1),
              "within_seconds": options.within, "answered_within": figures["within"],
              "answered_within_share": round(figures["within"] * 100 / total, 1) if total else 0.0}
    return ReportResult(report, options, list(report.columns), rows, totals, chart=bar_chart(rows, report.chart))


def _inbound_by(dimension_name: str, label_columns):
    dimension = DIMENSIONS[dimension_name]

    def runner(report, options, scope, now):
        calls = _inbound(options, scope, now)
        groups = list(calls.order_by().values(*dimension.keys).annotate(
            calls=Count("pk"), n_answered=Count("pk", filter=Q(answered=True)),
            average=Avg("ring_seconds", filter=Q(answered=True))))
        rows = []
        for g, (labels, drill) in zip(groups, dimension.label(groups), strict=True):
            rows.append({**labels, "calls": g["calls"], "answered": g["n_answered"],
                         "unanswered": g["calls"] - g["n_answered"],
                         "answered_share": round(g["n_answered"] * 100 / g["calls"], 1),
                         "average_ring_seconds": round(float(g["average"] or 0), 1),
                         "drill": options.replace(direction=Direction.INBOUND, answered="unanswered", **drill)})
        rows.sort(key=lambda r: (-r["unanswered"], -r["calls"], *(str(r[c.name]) for c in label_columns)))
        answered = sum(r["answered"] for r in rows)
        total = sum(r["calls"] for r in rows)
        totals = {"calls": total, "answered": answered, "unanswered": total - answered,
                  "answered_share": round(answered * 100 / total, 1) if total else 0.0}
        return ReportResult(report, options, list(report.columns), rows, totals,
                            chart=bar_chart(rows, report.chart))

    return runner


INBOUND_MEASURES = (Column("calls", "Inbound calls", "int"), Column("answered", "Answered", "int"),
                    Column("unanswered", "Unanswered", "int"), Column("answered_share", "Answered", "percent"),
                    Column("average_ring_seconds", "Average ring before answer", "number"))
for _name, _columns, _key in (
        ("extension", DIMENSIONS["extension"].columns, "extension"),
        ("cost_center", (Column("cost_center", "Cost center"), Column("name", "Name")), "cost_center")):
    register(f"unanswered-by-{_name.replace('_', '-')}", f"Unanswered calls by {_name.replace('_', ' ')}",
             "Inbound", (*_columns, *INBOUND_MEASURES),
             f"Inbound calls answered and unanswered per {_name.replace('_', ' ')}; a row drills down to its "
             "unanswered calls.", chart=Chart("bar", _key, ("unanswered",)), drills=True)(_inbound_by(_name, _columns))


@register("missed-not-called-back", "Missed calls not called back", "Inbound", CALL_COLUMNS, """
Inbound calls nobody answered whose caller was neither called back from the site nor answered on a
later call (within the data CallTally has, whoever took it). Anonymous callers are left out.""")
def missed_not_called_back(report, options, scope, now):
    sites = report_sites(options, scope)
    missed = _inbound(options, scope, now).filter(answered=False).exclude(remote_number="")
    # The last contact with each of those numbers, per site, from the period's start on (a call back
    # the next month still counts): a call to it, or one of its calls answered — by anyone at the
    # site, not only what the account sees. One GROUP BY with the numbers as a subquery, never a
    # query per missed call; a missed call after its number's last contact was never returned.
    since = Q(pk__in=[])
    for site in sites:
        start = site_bounds(options, site.zone, now)[0]
        since |= Q(site_id=site.pk, **({"start__gte": start} if start else {}))
    contacts = (Call.objects.filter(since)
                .filter(Q(direction=Direction.OUTBOUND) | Q(direction=Direction.INBOUND, answered=True),
                        remote_number__in=missed.order_by().values("remote_number"))
                .order_by().values("site_id", "remote_number").annotate(last=Max("start")))
    codes = {s.pk: s.code for s in sites}
    last = {(codes[c["site_id"]], c["remote_number"]): c["last"] for c in contacts}

    def returned(site_code: str, number: str, start: dt.datetime) -> bool:
        contact = last.get((site_code, number))
        return contact is not None and contact > start

    # Totals first (the rows are streamed after them), from the few columns they need.
    tally = {}
    talk = count = 0
    for site_id, number, start, seconds, cost, currency in missed.order_by().values_list(
            "site_id", "remote_number", "start", "talk_seconds", "cost", "currency").iterator(chunk_size=5000):
        if not returned(codes[site_id], number, start):
            count += 1
            talk += seconds
            tally[currency] = tally.get(currency, ZERO) + cost
    totals = {"calls": count, "talk_seconds": talk, **money_totals(tally)}
    rows = (row for row in call_rows(missed.order_by("start", "id"), {s.pk: s for s in sites})
            if not returned(row["site"], row["remote_number"], row["start"]))
    return ReportResult(report, options, list(report.columns), rows, totals)


# --- extensions ----------------------------------------------------------------------------------

@register("undefined-extensions", "Undefined extensions", "Extensions",
          (Column("site", "Site"), Column("extension", "Extension"), Column("calls", "Discarded calls", "int"),
           Column("first_seen", "First call", "datetime"), Column("last_seen", "Last call", "datetime")), """
Numbers whose calls in the period were discarded as "Extension not configured": add them (or let
the site acquire them) and reprocess. For those who run the sites.""")
def undefined_extensions(report, options, scope, now):
    sites = [s for s in report_sites(options, scope) if scope.is_administrator or scope.runs_sites]
    by_pk = {s.pk: s for s in sites}
    found = (DiscardedCall.objects.filter(scope.sites(field="site"), period_q(options, sites, now),
                                          reason=DiscardReason.EXTENSION_NOT_CONFIGURED)
             .exclude(extension_number="").order_by().values("site_id", "extension_number")
             .annotate(calls=Count("pk"), first=Min("start"), last=Max("start")))
    rows = [{"site": by_pk[r["site_id"]].code, "extension": r["extension_number"], "calls": r["calls"],
             "first_seen": r["first"].astimezone(by_pk[r["site_id"]].zone) if r["first"] else None,
             "last_seen": r["last"].astimezone(by_pk[r["site_id"]].zone) if r["last"] else None} for r in found]
    rows.sort(key=lambda r: (r["site"], r["extension"]))
    return ReportResult(report, options, list(report.columns), rows, {"calls": sum(r["calls"] for r in rows)})


@register("idle-extensions", "Extensions with no calls", "Extensions",
          (Column("site", "Site"), Column("extension", "Extension"), Column("person", "Person"),
           Column("cost_center", "Cost center")), """
Extensions that made and took no call in the period (with the filters given): lines that may be
given back.""")
def idle_extensions(report, options, scope, now):
    sites = report_sites(options, scope)
    # The extensions with calls in the period, as one subquery the database answers with one pass
    # over the period's calls (a correlated one per extension would scan them once per extension).
    used = (Call.objects.filter(period_q(options, sites, now)).filter(filters_q(options))
            .filter(extension_id__isnull=False).order_by().values("extension_id"))
    extensions = Extension.objects.filter(site__in=sites).exclude(pk__in=used)
    if not scope.is_administrator:
        # An extension's cost center is its own, else its person's: the one its calls are charged to.
        if scope.nothing:
            extensions = extensions.none()
        elif scope.role == Role.SITE_ADMIN:
            extensions = extensions.filter(scope.sites(field="site"))
        elif scope.role == Role.MANAGER:
            centers = scope.cost_center_ids or ()
            extensions = extensions.filter(Q(cost_center_id__in=centers)
                                           | Q(cost_center__isnull=True, person__cost_center_id__in=centers))
        else:
            extensions = extensions.filter(person_id=scope.person_id)
    if options.person and options.person != NONE:
        extensions = extensions.filter(person__username=options.person)
    if options.extension:
        extensions = extensions.filter(number=options.extension)
    rows = [{"site": e.site.code, "extension": e.number, "person": e.person.username if e.person_id else "",
             "cost_center": str(e.cost_center or (e.person.cost_center if e.person_id else None) or "")}
            for e in extensions.select_related("site", "person", "cost_center", "person__cost_center")
            .order_by("site__code", "number")]
    return ReportResult(report, options, list(report.columns), rows, {"extensions": len(rows)})


@register("unallocated-account-codes", "Unallocated account codes", "Extensions",
          (Column("site", "Site"), Column("account_code", "Account code"), Column("calls", "Calls", "int"),
           Column("cost", "Cost", "money"), Column("currency", "Currency"),
           Column("first_seen", "First call", "datetime"), Column("last_seen", "Last call", "datetime")), """
Account codes outbound calls carried that match no configured account: add them, or find who
dials them.""")
def unallocated_account_codes(report, options, scope, now):
    sites = report_sites(options, scope)
    by_pk = {s.pk: s for s in sites}
    found = (calls_for(options, scope, now, sites).filter(direction=Direction.OUTBOUND, account_unallocated=True)
             .order_by().values("site_id", "account_code", "currency")
             .annotate(calls=Count("pk"), cost=Sum("cost"), first=Min("start"), last=Max("start")))
    rows = [{"site": by_pk[r["site_id"]].code, "account_code": r["account_code"], "calls": r["calls"],
             "cost": money(r["cost"]), "currency": r["currency"], "talk_seconds": 0,
             "first_seen": r["first"].astimezone(by_pk[r["site_id"]].zone),
             "last_seen": r["last"].astimezone(by_pk[r["site_id"]].zone)} for r in found]
    rows.sort(key=lambda r: (r["site"], r["account_code"]))
    totals = rows_totals(rows)
    totals.pop("talk_seconds")
    return ReportResult(report, options, list(report.columns), rows, totals)


# --- tariffs -------------------------------------------------------------------------------------

@register("tariff-comparison", "Tariff comparison", "Tariffs",
          (Column("category", "Category"), Column("destination", "Destination"), Column("calls", "Calls", "int"),
           Column("actual", "Actual cost", "money")), """
What the period's calls would have cost under other tariff plans (--plan NAME, several allowed),
per category and destination. For those who run the sites: it re-prices every call of a site.""")
def tariff_comparison(report, options, scope, now):
    from calltally.rating.comparison import compare

    columns = list(report.columns)
    for plan in options.plans:
        columns += [Column(f"{plan}:cost", f"{plan}", "money"), Column(f"{plan}:saving", f"Saving {plan}", "money")]
    sites = report_sites(options, scope) if scope.runs_sites else []
    notes = []
    if not options.plans:
        notes.append("Name the plans to compare with (--plan NAME).")
    if not sites:
        notes.append("A tariff comparison re-prices every call of a site: it is for those who run the sites.")
    if not options.plans or not sites:
        return ReportResult(report, options, columns, [], {"calls": 0, "actual": ZERO}, notes=notes)
    today = (now or timezone.now()).astimezone(sites[0].zone).date()
    first, last = period_dates(options, sites[0].zone, now)
    result = compare(sites, first or dt.date(2000, 1, 1), last or today, options.plans)

    def line(item):
        row = {"category": item.category, "destination": item.destination, "calls": item.calls,
               "actual": item.actual}
        for plan, cost, saving in zip(options.plans, item.costs, item.savings, strict=True):
            row[f"{plan}:cost"], row[f"{plan}:saving"] = cost, saving
        return row

    rows = [line(item) for item in result.lines]
    totals = line(result.total) if result.total else {"calls": 0, "actual": ZERO}
    totals.pop("category", None)
    totals.pop("destination", None)
    notes.append("Only the period and sites apply: a comparison re-prices every call of the sites.")
    return ReportResult(report, options, columns, rows, totals, notes=notes)
