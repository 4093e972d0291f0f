"""Rollups: the sums summaries are answered from, kept as calls are written.

:class:`Tally` turns call rows into additions (or subtractions) to the
:class:`~calltally.calls.models.CallRollup` rows of every grain and writes them
with one upsert statement (``INSERT … ON CONFLICT DO UPDATE``, on SQLite and
PostgreSQL alike) in the writer's transaction. :func:`rebuild` recomputes a
site's rollups from its calls; :func:`summary` answers a grouped sum from the
smallest grain that can, or says it cannot (``None``) so the caller reads the
calls instead.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, Sum

from calltally import db
from calltally.sites.models import Site
from calltally.vocabulary import LEG, TRUNK_DEVICE

from .models import Call, CallRollup, Grain

# The columns of a call a rollup reads, in this order (`Tally.add` takes rows of them).
SOURCE = ("site_id", "start", "kind", "direction", "answered", "extension_id", "person_id", "cost_center_id",
          "category", "destination", "account", "tariff", "orig_device", "dest_device", "currency", "talk_seconds",
          "billed_seconds", "ring_seconds", "cost")
KEY = ("grain", "day", "site_id", "hour", "direction", "answered", "extension_id", "person_id", "cost_center_id",
       "category", "destination", "account", "tariff", "trunk", "currency")
MEASURES = ("calls", "answered_calls", "talk_seconds", "billed_seconds", "ring_seconds", "cost")
# Where a row of SOURCE holds the trunk of a call of each direction (vocabulary.TRUNK_DEVICE).
TRUNK_AT = {direction: SOURCE.index(column) for direction, column in TRUNK_DEVICE.items()}
COST_QUANTUM = Decimal("0.0001")
ZERO = Decimal(0)
# On PostgreSQL a flush of more rows than this copies them into a scratch table (Tally.flush).
COPY_FROM_ROWS = 100
DELTAS = "calltally_rollup_deltas"
# Where a tally's rows wait for the writers' turn on SQLite (Tally.stage).
STAGE = db.Stage("calltally_staged_rollups", KEY + MEASURES, order=KEY)
# How many minutes' local moments a tally keeps (Tally.moment) before it starts again.
MOMENTS_KEPT = 20_000

PEOPLE = ("extension", "person", "cost_center")
# A trunk is the device a call went out by (outbound) or came in by (inbound), as rating reads it.
ROUTES = ("category", "destination", "account", "tariff", "trunk")
ALWAYS = ("site", "direction", "answered", "currency")
# What each grain keeps besides the period (summary() picks among them).
DIMENSIONS = {
    Grain.HOUR: frozenset(ALWAYS + ("hour",)),
    Grain.DAY: frozenset(ALWAYS + PEOPLE + ROUTES),
    Grain.DAY_PEOPLE: frozenset(ALWAYS + PEOPLE),
    Grain.DAY_ROUTES: frozenset(ALWAYS + ROUTES),
    # Answered or not is a count in the month grains (answered_calls), not a dimension.
    Grain.MONTH: frozenset(ALWAYS + PEOPLE + ROUTES) - {"answered"},
    Grain.MONTH_PEOPLE: frozenset(ALWAYS + PEOPLE) - {"answered"},
    Grain.MONTH_ROUTES: frozenset(ALWAYS + ROUTES) - {"answered"},
}
MONTHLY = (Grain.MONTH_PEOPLE, Grain.MONTH_ROUTES, Grain.MONTH)
DAILY = (Grain.DAY_PEOPLE, Grain.DAY_ROUTES, Grain.DAY)
# The model field behind each dimension name callers use.
FIELD = {"site": "site_id", "extension": "extension_id", "person": "person_id", "cost_center": "cost_center_id"}
GROUPABLE = frozenset(ALWAYS + PEOPLE + ROUTES + ("hour", "day", "month"))


def local_of(start, zone: ZoneInfo) -> dt.datetime:
    """A stored instant (an aware datetime, or SQLite's naive UTC text) in the site's zone."""
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    return start.astimezone(zone)


class Tally:
    """Additions to the rollups, gathered from call rows and written in one statement.

    ``add(rows, sign)`` takes rows of :data:`SOURCE` columns (sign -1 for rows
    being deleted or replaced); legs count nothing. ``flush()`` writes and
    empties what was gathered; the caller's transaction makes it atomic with
    the calls."""

    def __init__(self):
        self.sums: dict[tuple, list] = {}
        self.zones: dict[int, ZoneInfo] = {}
        # (site, stored minute) -> (local day, its month, local hour): zones differ from UTC by whole
        # quarter hours, so a minute's local day and hour are its every second's. Reading them once per
        # minute instead of per call took a quarter off add() (SQLite's instants are text to parse).
        self.moments: dict[tuple[int, str], tuple[dt.date, dt.date, int]] = {}
        # The statement's parameters, made ahead by stage() (outside the writers' turn), and the
        # token of their rows in the stage; None once the sums change.
        self.ready: tuple[int, list] | None = None
        self.staged: int | None = None

    def zone(self, site_id: int) -> ZoneInfo:
        zone = self.zones.get(site_id)
        if zone is None:
            zone = self.zones[site_id] = ZoneInfo(Site.objects.values_list("timezone", flat=True).get(pk=site_id))
        return zone

    def moment(self, site_id: int, start: str) -> tuple[dt.date, dt.date, int]:
        """The local day, month and hour of a stored instant (SQLite text), cached per minute."""
        if len(self.moments) >= MOMENTS_KEPT:
            self.moments.clear()
        local = local_of(start, self.zones.get(site_id) or self.zone(site_id))
        day = local.date()
        found = self.moments[(site_id, start[:16])] = (day, day.replace(day=1), local.hour)
        return found

    def add(self, rows: Iterable[Sequence], sign: int = 1) -> None:
        # The Miner's hottest Python after parsing, written out flat (no slices, no inner loop). What
        # it costs is the seven dict updates per call (~1 µs each: a 15-column key built and hashed):
        # fewer grains, not tighter code, would make it cheaper.
        sums, zones, trunk_at, moments = self.sums, self.zones, TRUNK_AT, self.moments
        self.ready = self.staged = None
        negative = sign < 0
        for row in rows:
            (site_id, start, kind, direction, answered, extension_id, person_id, cost_center_id, category,
             destination, account, tariff, _, _, currency, talk, billed, ring, cost) = row
            if kind == LEG:
                continue
            if start.__class__ is str:
                day, month, hour = moments.get((site_id, start[:16])) or self.moment(site_id, start)
            else:
                local = (start if start.tzinfo else start.replace(tzinfo=dt.UTC)).astimezone(
                    zones.get(site_id) or self.zone(site_id))
                day, hour = local.date(), local.hour
                month = day.replace(day=1)
            answered = bool(answered)
            extension_id, person_id, cost_center_id = extension_id or 0, person_id or 0, cost_center_id or 0
            if cost.__class__ is not Decimal:  # SQLite hands back a float or an int
                cost = Decimal(str(cost)).quantize(COST_QUANTUM)
            talk, billed, ring = (talk or 0) * sign, (billed or 0) * sign, (ring or 0) * sign
            if negative:
                cost = -cost
            counted = sign if answered else 0
            category, destination, account, tariff = category or "", destination or "", account or "", tariff or ""
            at = trunk_at.get(direction)
            trunk = (row[at] or "") if at is not None else ""
            # Plain ints for the grains: the database drivers take no enum. The month grains keep the
            # answered calls as a count (answered_calls), not as a dimension: half the rows.
            for key in (
                (1, day, site_id, hour, direction, answered, 0, 0, 0, "", "", "", "", "", currency),
                (2, day, site_id, 0, direction, answered, extension_id, person_id, cost_center_id,
                 category, destination, account, tariff, trunk, currency),
                (3, day, site_id, 0, direction, answered, extension_id, person_id, cost_center_id,
                 "", "", "", "", "", currency),
                (4, day, site_id, 0, direction, answered, 0, 0, 0, category, destination, account, tariff, trunk,
                 currency),
                (5, month, site_id, 0, direction, False, extension_id, person_id, cost_center_id,
                 category, destination, account, tariff, trunk, currency),
                (6, month, site_id, 0, direction, False, extension_id, person_id, cost_center_id,
                 "", "", "", "", "", currency),
                (7, month, site_id, 0, direction, False, 0, 0, 0, category, destination, account, tariff, trunk,
                 currency),
            ):
                found = sums.get(key)
                if found is None:
                    sums[key] = [sign, counted, talk, billed, ring, cost]
                else:
                    found[0] += sign
                    found[1] += counted
                    found[2] += talk
                    found[3] += billed
                    found[4] += ring
                    found[5] += cost

    def __len__(self) -> int:
        return len(self.sums)

    def absorb(self, other: Tally) -> None:
        """Add another tally's sums to these (and empty it): taken whole when these are empty."""
        if not self.sums:
            self.sums, other.sums = other.sums, {}
            self.ready, other.ready = other.ready, None
            self.staged, other.staged = other.staged, None
            return
        sums = self.sums
        self.ready = other.ready = self.staged = other.staged = None
        for key, values in other.sums.items():
            found = sums.get(key)
            if found is None:
                sums[key] = values
            else:
                for at, value in enumerate(values):
                    found[at] += value
        other.sums = {}

    def stage(self) -> None:
        """Make the statement's parameters now and put its rows in the stage (SQLite: see
        :class:`calltally.db.Stage`), so that flush() only copies them in one statement: the Miner
        stages a batch's tally while making the batch, and flushes it in the writers' turn."""
        if self.ready is None:
            # The stage copies them in key order: sorting here would be Python's work (SQLite's
            # sorter did it in a tenth of the time).
            self.ready = self.parameters(ordered=connection.vendor != "sqlite")
        count, rows = self.ready
        self.staged = STAGE.put(rows) if count else None

    def parameters(self, ordered: bool = True) -> tuple[int, list]:
        """(how many rollup rows, those rows as the upsert takes them, in key order if ``ordered``)."""
        # In key order, each upsert lands beside the previous one in the table's B-tree instead of
        # at a random page of it: on SQLite the rollup writes of a batch took ~1.5x less.
        items = [item for item in self.sums.items() if any(item[1])]
        if ordered:
            items.sort()
        if connection.vendor == "postgresql":
            return len(items), [key + tuple(values) for key, values in items]
        # Days and amounts as the text SQLite stores, made here: the sqlite3 module's adapters are a
        # Python call per value.
        days: dict[dt.date, str] = {}
        return len(items), [(key[0], days.get(key[1]) or days.setdefault(key[1], key[1].isoformat()), *key[2:],
                             *values[:5], str(values[5])) for key, values in items]

    def flush(self) -> int:
        """Write the additions (one statement) and forget them; returns how many rollup rows they touch."""
        count, rows = self.ready if self.ready is not None else self.parameters()
        staged = STAGE.holds(self.staged)
        self.sums, self.ready, self.staged = {}, None, None
        if not count:
            return 0
        table, columns = db.table(CallRollup), KEY + MEASURES
        quote = connection.ops.quote_name
        adding = ", ".join(f"{quote(m)} = {table}.{quote(m)} + excluded.{quote(m)}" for m in MEASURES)
        conflict = f"ON CONFLICT ({db.quoted(KEY)}) DO UPDATE SET {adding}"
        with connection.cursor() as cursor:
            if staged:
                STAGE.copy_into(cursor, table, count, conflict)
            elif connection.vendor == "postgresql" and count > COPY_FROM_ROWS:
                # COPY into a scratch table (dropped again below, or with the savepoint on an error),
                # then one upsert from it. Handing the rows over as one array per column (unnest) cost
                # more than the upsert itself: psycopg and the server took ~25 µs a row to dump and
                # read the arrays; COPY takes ~2 µs.
                with transaction.atomic():
                    cursor.execute(f"CREATE TEMP TABLE {DELTAS} (LIKE {table})")
                    with cursor.cursor.copy(f"COPY {DELTAS} ({db.quoted(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute(f"INSERT INTO {table} ({db.quoted(columns)}) SELECT {db.quoted(columns)} "
                                   f"FROM {DELTAS} {conflict}")
                    cursor.execute(f"DROP TABLE {DELTAS}")
            else:
                cursor.executemany(f"INSERT INTO {table} ({db.quoted(columns)}) VALUES "
                                   f"({', '.join(['%s'] * len(columns))}) {conflict}", rows)
        return count


def forget_deleted(column: str):
    """A post_delete receiver moving the rollups of a deleted extension, person or cost center
    (``column``) to none, as on_delete=SET_NULL moves its calls."""

    def receiver(sender, instance, **kwargs):
        rows = CallRollup.objects.filter(**{column: instance.pk})
        found = list(rows.values_list(*KEY, *MEASURES))
        if not found:
            return
        rows.delete()
        tally, at = Tally(), KEY.index(column)
        for values in found:
            key = (*values[:at], 0, *values[at + 1:len(KEY)])
            sums = tally.sums.setdefault(key, [0, 0, 0, 0, 0, ZERO])
            for i, value in enumerate(values[len(KEY):]):
                sums[i] += value
        tally.flush()

    return receiver


def source_of(call: Call) -> tuple:
    return tuple(getattr(call, name) for name in SOURCE)


# A call saved or deleted through the ORM (tests, fixtures, a shell) keeps the rollups as the
# Miner's statements do; bulk_create and QuerySet.update send no signal and are not used on calls.
def call_saving(sender, instance, raw=False, **kwargs):
    if instance.pk is None or raw:
        return
    with connection.cursor() as cursor:
        cursor.execute(source_sql("id = %s"), [instance.pk])
        instance._rollup_before = cursor.fetchall()


def call_saved(sender, instance, raw=False, **kwargs):
    tally = Tally()
    tally.add(getattr(instance, "_rollup_before", ()), -1)
    tally.add([source_of(instance)])
    instance._rollup_before = ()
    tally.flush()


def call_deleted(sender, instance, **kwargs):
    tally = Tally()
    tally.add([source_of(instance)], -1)
    tally.flush()


def source_sql(where: str = "") -> str:
    """A SELECT of the :data:`SOURCE` columns of the calls table (every row; the tally skips legs)."""
    return f"SELECT {db.quoted(SOURCE)} FROM {db.table(Call)}" + (f" WHERE {where}" if where else "")


def month_bounds(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of ``first``'s month and the last day of ``last``'s."""
    return first.replace(day=1), last.replace(day=calendar.monthrange(last.year, last.month)[1])


def rebuild(site: Site, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Recompute a site's rollups from its calls, for the whole months around ``first`` to
    ``last`` (local days; all time when omitted), in one transaction. Returns the calls counted.

    The database groups the calls itself, one INSERT … SELECT per grain: a Python tally reads
    about 50,000 calls a second, the database groups millions. The local day and hour come from
    the site's zone: ``AT TIME ZONE`` on PostgreSQL, a function of ours on SQLite (which has
    no zones), called once per distinct minute."""
    with transaction.atomic():
        rows = CallRollup.objects.filter(site=site)
        where, params = "site_id = %s AND kind <> %s", [site.pk, LEG]
        adapt = db.instant_adapter()
        if first or last:
            lo, hi = month_bounds(first or dt.date(1, 1, 1), last or dt.date(9999, 12, 1))
            rows = rows.filter(day__gte=lo, day__lte=hi)
            if first:
                where += " AND start >= %s"
                params.append(adapt(dt.datetime.combine(lo, dt.time(), tzinfo=site.zone).astimezone(dt.UTC)))
            if last and hi < dt.date(9999, 12, 1):
                where += " AND start < %s"
                params.append(adapt(dt.datetime.combine(hi + dt.timedelta(days=1), dt.time(),
                                                        tzinfo=site.zone).astimezone(dt.UTC)))
        rows.delete()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                local = "(start AT TIME ZONE %s)"
                day, month, hour = f"{local}::date", f"date_trunc('month', {local})::date", \
                    f"extract(hour from {local})::smallint"
                zone_params = 1
            else:
                register_local_time(cursor.connection)
                local = "calltally_local(start, %s)"
                day, month, hour = f"substr({local}, 1, 10)", f"substr({local}, 1, 7) || '-01'", \
                    f"CAST(substr({local}, 12, 2) AS INTEGER)"
                zone_params = 1
            answered_count = "SUM(CASE WHEN answered THEN 1 ELSE 0 END)"
            people = "COALESCE(extension_id, 0), COALESCE(person_id, 0), COALESCE(cost_center_id, 0)"
            trunk = " ".join(f"WHEN '{direction}' THEN {column}" for direction, column in TRUNK_DEVICE.items())
            routes = f"category, destination, account, tariff, CASE direction {trunk} ELSE '' END"
            blank_routes, no_people = "'', '', '', '', ''", "0, 0, 0"
            for grain, period, hour_of, answered, dims in (
                (Grain.HOUR, day, hour, "answered", f"{no_people}, {blank_routes}"),
                (Grain.DAY, day, "0", "answered", f"{people}, {routes}"),
                (Grain.DAY_PEOPLE, day, "0", "answered", f"{people}, {blank_routes}"),
                (Grain.DAY_ROUTES, day, "0", "answered", f"{no_people}, {routes}"),
                (Grain.MONTH, month, "0", "%s", f"{people}, {routes}"),
                (Grain.MONTH_PEOPLE, month, "0", "%s", f"{people}, {blank_routes}"),
                (Grain.MONTH_ROUTES, month, "0", "%s", f"{no_people}, {routes}"),
            ):
                zone = [site.timezone] * zone_params
                head = [int(grain), *zone * (period.count("%s") // zone_params)]
                head += zone * (hour_of.count("%s") // zone_params)
                head += [False] if answered == "%s" else []
                # GROUP BY positions: every selected column but the sums.
                cursor.execute(
                    f"INSERT INTO {db.table(CallRollup)} ({db.quoted(KEY + MEASURES)}) "
                    f"SELECT %s, {period}, site_id, {hour_of}, direction, {answered}, {dims}, currency, COUNT(*), "
                    f"{answered_count}, SUM(talk_seconds), SUM(billed_seconds), SUM(ring_seconds), SUM(cost) "
                    f"FROM {db.table(Call)} WHERE {where} GROUP BY {', '.join(str(n) for n in range(1, len(KEY) + 1))}",
                    [*head, *params])
        return rows.filter(grain=Grain.HOUR).aggregate(n=Sum("calls"))["n"] or 0


def rebuild_in_migration(apps, schema_editor) -> None:
    """A migration's step that makes every site's rollups again from the calls (after the table
    changed shape). Live code on purpose: the rebuild's SQL is CallTally's, and the migrations that
    use it leave the table as this code writes it. A database without calls, as every new one, has
    nothing to do."""
    if not apps.get_model("calls", "Call").objects.exists():
        return
    for site in Site.objects.only("pk", "timezone"):
        rebuild(site)


def register_local_time(sqlite_connection) -> None:
    """``calltally_local(start, zone)`` on a SQLite connection: the stored UTC instant as local
    'YYYY-MM-DD HH' in the zone (cached per minute: zones differ from UTC by whole quarters)."""
    cache: dict[tuple[str, str], str] = {}
    zones: dict[str, ZoneInfo] = {}

    def local(start: str, zone_name: str) -> str:
        key = (start[:16], zone_name)
        found = cache.get(key)
        if found is None:
            zone = zones.get(zone_name) or zones.setdefault(zone_name, ZoneInfo(zone_name))
            moment = dt.datetime.fromisoformat(start[:16]).replace(tzinfo=dt.UTC).astimezone(zone)
            found = cache[key] = moment.strftime("%Y-%m-%d %H")
        return found

    sqlite_connection.create_function("calltally_local", 2, local, deterministic=True)


# --- answering summaries -------------------------------------------------------------------
def fields_of(q: Q) -> set[str]:
    """The field names a Q looks at (lookups stripped: ``person_id__in`` → ``person_id``)."""
    found = set()
    for child in q.children:
        if isinstance(child, Q):
            found |= fields_of(child)
        else:
            found.add(child[0].split("__")[0])
    return found


def dimension_of(field: str) -> str:
    for name, column in FIELD.items():
        if field in (column, name):
            return name
    return field


def grain_for(needed: set[str], grains: Sequence[Grain]) -> Grain | None:
    """The first (smallest) of ``grains`` keeping every dimension in ``needed``."""
    for grain in grains:
        if needed <= DIMENSIONS[grain]:
            return grain
    return None


def whole_months(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first day of the first whole month in [first, last] and the last day of the last one."""
    start = first if first.day == 1 else (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    end_next = (last + dt.timedelta(days=1))
    end = end_next.replace(day=1) - dt.timedelta(days=1)
    return (start, end) if start <= end else None


def summary(group_by: Sequence[str], first_day: dt.date, last_day: dt.date, *, filters: dict | None = None,
            where: Q | None = None) -> list[dict] | None:
    """Sums of the counted calls from ``first_day`` to ``last_day`` (local days of each call's
    site, both included), grouped by ``group_by``, or None when no rollup grain can answer.

    ``group_by``: any of site, direction, answered, currency, extension, person, cost_center,
    category, destination, account, tariff, trunk, plus day or month (a date: the local day, or the
    first of the month) and hour (local hour 0-23). ``filters`` (keyword lookups) and ``where``
    (a Q, e.g. ``scope.calls()`` — its ``site_id__in``, ``cost_center_id__in`` and ``person_id``
    name fields of the rollup) narrow the calls; they may name the same dimensions (``site`` or
    ``site_id``, ``person_id__in``…). Rows are dicts: the group's values (ids for site,
    extension, person and cost center, None for none), always ``currency`` too (costs in
    different currencies are never added), and ``calls``, ``answered_calls``, ``talk_seconds``,
    ``billed_seconds``, ``ring_seconds`` and ``cost`` (Decimal). Groups with no call are left
    out; rows come in no particular order.

    Not answerable (None): a time of day in the period, a remote number, a duration or cost
    threshold — anything a rollup does not keep; read the calls then.
    """
    filters, where = dict(filters or {}), where or Q()
    group_by = list(dict.fromkeys(group_by))
    unknown = set(group_by) - GROUPABLE
    if unknown:
        raise ValueError(f"cannot group rollups by {', '.join(sorted(unknown))}")
    looked_at = {dimension_of(f) for f in fields_of(where) | {k.split("__")[0] for k in filters}}
    needed = (set(group_by) - {"day", "month"}) | looked_at | {"currency"}
    if "hour" in needed:
        parts = [(Grain.HOUR, first_day, last_day)] if needed <= DIMENSIONS[Grain.HOUR] else None
    else:
        daily = grain_for(needed, DAILY)
        if daily is None:
            return None
        months = whole_months(first_day, last_day) if "day" not in group_by else None
        monthly = grain_for(needed, MONTHLY) if months else None
        if monthly is None:
            parts = [(daily, first_day, last_day)]
        else:
            parts = [(monthly, *months)]
            if first_day < months[0]:
                parts.append((daily, first_day, months[0] - dt.timedelta(days=1)))
            if last_day > months[1]:
                parts.append((daily, months[1] + dt.timedelta(days=1), last_day))
    if parts is None:
        return None
    columns = [FIELD.get(name, name) for name in group_by if name not in ("day", "month")]
    if "currency" not in columns:
        columns.append("currency")
    totals: dict[tuple, dict] = {}
    for grain, lo, hi in parts:
        rows = CallRollup.objects.filter(grain=grain, day__gte=lo, day__lte=hi, **filters).filter(where)
        period = [name for name in ("day", "month") if name in group_by]
        keys = columns + (["day"] if period else [])
        for row in (rows.values(*keys).annotate(**{f"sum_{m}": Sum(m) for m in MEASURES}).order_by()):
            if period == ["month"] and "day" in row:
                row["day"] = row["day"].replace(day=1)
            key = tuple(row[k] for k in keys)
            item = totals.get(key)
            if item is None:
                item = totals[key] = {name: row[FIELD.get(name, name)] for name in group_by if name not in
                                      ("day", "month")}
                for name in period:
                    item[name] = row["day"]
                item["currency"] = row["currency"]
                for name in ("site", *PEOPLE):
                    if name in item and not item[name]:
                        item[name] = None
                for m in MEASURES:
                    item[m] = ZERO if m == "cost" else 0
            for m in MEASURES:
                item[m] += row[f"sum_{m}"] or 0
    result = []
    for item in totals.values():
        if item["calls"]:
            item["cost"] = Decimal(item["cost"]).quantize(COST_QUANTUM)
            result.append(item)
    return result
