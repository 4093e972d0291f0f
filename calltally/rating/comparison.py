"""`calltally tariff compare`: what a period's calls would have cost under other plans.

Two parts, measured apart by benchmarks/rating.py:

* :func:`fetch_rows` — the period's calls, read with one streamed query, only
  the columns pricing needs;
* :func:`price_rows` (``engine.compare_rows``) — the stored costs summed and
  the calls priced in memory under each plan, with the engine's caches: the
  prefix match per number, the band schedule per local day, the cost per
  (rate values, billed seconds).

With a large period and a second core (``CALLTALLY_PROCESSES``), a forked
helper process reads and prices the calls to numbers ending in an odd digit
while this one does the rest; their totals add up exactly (costs are summed
in integer units).

Stored costs are read, never changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, connections, transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast, Right

from calltally.calls.models import Call
from calltally.calls.services import calls_between
from calltally.forking import helper_allowed
from calltally.sites.models import Site

from .engine import ZERO, Plan, PlanDays, Tally, compare_rows
from .services import engine_plan, get_plan, site_calendar

FETCH_CHUNK = 10000
# Below this many calls a comparison is made in one process: a fork costs more than it saves.
SPLIT_MIN_CALLS = 100_000
COST_PLACES = Call._meta.get_field("cost").decimal_places
FETCH_COLUMNS = ("site_id", "start_text", "direction", "answered", "talk_seconds", "e164", "category",
                 "destination", "cost", "currency")


@dataclass
class Line:
    category: str
    destination: str
    calls: int
    actual: Decimal
    costs: list[Decimal]
    unrated: list[int]

    @property
    def savings(self) -> list[Decimal]:
        return [self.actual - cost for cost in self.costs]


@dataclass
class Comparison:
    plans: list[str]
    currencies: list[str]  # of each plan's versions, e.g. "EUR" (or "EUR/USD" when they differ)
    actual_currency: str  # of the stored costs ("" without calls; "EUR/USD" when they differ)
    first: dt.date
    last: dt.date
    sites: list[str]
    lines: list[Line] = field(default_factory=list)
    total: Line | None = None

    def as_dict(self) -> dict:
        def line(item: Line) -> dict:
            return {
                "category": item.category, "destination": item.destination, "calls": item.calls,
                "actual": str(item.actual),
                "plans": [
                    {"plan": name, "cost": str(cost), "saving": str(saving), "unrated": unrated}
                    for name, cost, saving, unrated in zip(self.plans, item.costs, item.savings, item.unrated,
                                                           strict=True)
                ],
            }

        return {
            "from": self.first.isoformat(), "to": self.last.isoformat(), "sites": self.sites,
            "actual_currency": self.actual_currency,
            "plans": [{"plan": p, "currency": c} for p, c in zip(self.plans, self.currencies, strict=True)],
            "lines": [line(item) for item in self.lines],
            "total": line(self.total) if self.total else None,
        }


def fetch_rows(sites: list[Site], first: dt.date, last: dt.date, half: int | None = None) -> Iterator[tuple]:
    """(site id, start, direction, answered, talk seconds, e164, category, destination, cost, currency)
    of the period's calls, ``start`` as UTC text ("2026-03-02 09:15:00…").

    The ORM writes the query; the rows are read straight from the database cursor (a server-side
    one on PostgreSQL), without the ORM's conversion of every value, which would cost more than the
    pricing: the start is cast to text in SQL, so no datetime is built for it, and a cost comes as
    the database has it (a float on SQLite), which ``engine.compare_rows`` sums exactly.
    ``half``: 0 or 1, only the calls whose number ends in an even digit, or the others. A
    number always falls in the same half, so two processes never both price (and cache) it.
    """
    calls = calls_between(sites, first, last)
    if half is not None:
        calls = calls.alias(last_digit=Right("e164", 1))
        even = Q(last_digit__in=list("02468"))
        calls = calls.filter(even if half == 0 else ~even)
    query = (calls.order_by()
             .annotate(start_text=Cast("start", output_field=CharField()))
             .values_list(*FETCH_COLUMNS))
    sql, params = query.query.sql_with_params()
    # One statement reads one snapshot. A transaction is only needed for PostgreSQL's
    # server-side cursor; on SQLite it would be BEGIN IMMEDIATE, which takes the write lock
    # and would stop the Miner (and a second comparison process) for the whole read.
    snapshot = contextlib.nullcontext() if connection.vendor == "sqlite" else transaction.atomic()
    with snapshot, connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            yield from rows


def plans_at(sites: Iterable[Site], plans: list[Plan]) -> dict[int, tuple[dt.tzinfo, list[PlanDays]]]:
    """Per site: its zone and each plan at the site (its holidays, its local days)."""
    found = {}
    for site in sites:
        calendar = site_calendar(site)
        found[site.pk] = (site.zone, [PlanDays(plan, calendar) for plan in plans])
    return found


def price_rows(rows: Iterable[tuple], sites: dict, plans: int, currencies: set[str] | None = None) -> list[Line]:
    """Lines per (category, destination), largest stored cost first."""
    return lines_of(compare_rows(rows, sites, plans, places=COST_PLACES, currencies=currencies))


def lines_of(groups: dict[tuple[str, str], Tally]) -> list[Line]:
    """The priced groups as lines, largest stored cost first."""
    quantum = Decimal(1).scaleb(-COST_PLACES)
    lines = [Line(cat, dest, t.calls, Decimal(t.actual_units).scaleb(-COST_PLACES),
                  [cost.quantize(quantum) for cost in t.costs], t.unrated)
             for (cat, dest), t in groups.items()]
    lines.sort(key=lambda item: (-item.actual, item.category, item.destination))
    return lines


def compare(sites: list[Site], first: dt.date, last: dt.date, plan_names: list[str]) -> Comparison:
    """Re-price the calls of ``sites`` from ``first`` to ``last`` (local days) under each plan.

    Raises ValueError for an unknown plan.
    """
    plans = [engine_plan(get_plan(name)) for name in plan_names]
    currencies: set[str] = set()
    at = plans_at(sites, plans)
    if _worth_splitting(sites, first, last):
        groups = _tally_in_two(sites, first, last, at, len(plans), currencies)
    else:
        groups = compare_rows(fetch_rows(sites, first, last), at, len(plans), places=COST_PLACES,
                              currencies=currencies)
    lines = lines_of(groups)
    total = Line("", "", 0, ZERO, [ZERO] * len(plans), [0] * len(plans))
    for item in lines:
        total.calls += item.calls
        total.actual += item.actual
        total.costs = [a + b for a, b in zip(total.costs, item.costs, strict=True)]
        total.unrated = [a + b for a, b in zip(total.unrated, item.unrated, strict=True)]
    return Comparison(
        plans=list(plan_names),
        currencies=["/".join(sorted({v.currency for v in plan.versions})) for plan in plans],
        actual_currency="/".join(sorted(currencies)), first=first, last=last, sites=[s.code for s in sites],
        lines=lines, total=total,
    )


def _worth_splitting(sites: list[Site], first: dt.date, last: dt.date) -> bool:
    return (
        helper_allowed()
        # At least that many calls: stepping to the last of them costs less than counting all.
        and calls_between(sites, first, last).order_by().values("pk")[SPLIT_MIN_CALLS - 1:].exists()
    )


def _tally_in_two(sites, first, last, at, plans: int, currencies: set[str]) -> dict[tuple[str, str], Tally]:
    """compare_rows over the period, every other call priced by a forked helper process."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    connections.close_all()  # the helper opens its own connection

    def helper() -> None:
        try:
            found: set[str] = set()
            groups = compare_rows(fetch_rows(sites, first, last, 1), at, plans, places=COST_PLACES,
                                  currencies=found)
            sender.send((groups, found))
        except BaseException:
            sender.send(traceback.format_exc())
        finally:
            connections.close_all()

    process = context.Process(target=helper, name="calltally-compare", daemon=True)
    process.start()
    sender.close()
    try:
        groups = compare_rows(fetch_rows(sites, first, last, 0), at, plans, places=COST_PLACES,
                              currencies=currencies)
        try:
            answer = receiver.recv()
        except EOFError:
            answer = f"it ended without an answer (exit code {process.exitcode})"
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()
        receiver.close()
    if isinstance(answer, str):
        raise RuntimeError(f"the comparison's helper process failed: {answer}")
    other, found = answer
    currencies.update(found)
    for key, tally in other.items():
        mine = groups.get(key)
        if mine is None:
            groups[key] = tally
            continue
        mine.calls += tally.calls
        mine.actual_units += tally.actual_units
        mine.costs = [a + b for a, b in zip(mine.costs, tally.costs, strict=True)]
        mine.unrated = [a + b for a, b in zip(mine.unrated, tally.unrated, strict=True)]
    return groups
