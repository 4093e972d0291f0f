"""Every SQL statement of the Miner, for SQLite and PostgreSQL.

The Miner writes a batch in one transaction with a handful of statements,
never one per call: the checkpoint claim, one bulk insert per table (COPY on
PostgreSQL; on SQLite one ``INSERT … SELECT`` from the rows staged while the
batch was made, see :class:`calltally.db.Stage`), and for leg merging one
grouped key lookup, one fetch and set-based updates. Reading calls back for
merging uses plain SQL rather than the ORM, whose per-value converters would
cost more than the merging.

The calls table's columns come from the model: a row is the row maker's
:data:`~calltally.miner.rows.CALL_ROW` columns followed by every other column
of the model at its default, so a new column with a default is written
without a change here.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from operator import itemgetter

from django.db import connection
from django.db.models import F

from calltally import db
from calltally.calls import rollups
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import CostCenter, Extension, Person
from calltally.spool.models import SpoolSegment
from calltally.vocabulary import CALL, LEG, MERGED

from . import legs as leg_rules
from . import turns
from .rows import CALL_ROW, DISCARD_ROW

log = logging.getLogger("calltally.miner")

# Columns of the calls table the row maker does not write, with the model's defaults.
CALL_FILL = db.defaults_of(Call, [c for c in db.columns_of(Call) if c not in CALL_ROW])
CALL_COLUMNS = CALL_ROW + tuple(CALL_FILL)
CALL_WIDTHS = db.widths_of(Call)
DISCARD_WIDTHS = db.widths_of(DiscardedCall)
# What a merged call's row gets on each update: everything but its identity.
MERGED_UPDATE_COLUMNS = tuple(c for c in CALL_ROW if c not in leg_rules.IDENTITY)
# A row read back for merging: its id, then the row maker's columns.
FETCHED = ("id", *CALL_ROW)
COST_QUANTUM = Decimal(1).scaleb(-Call._meta.get_field("cost").decimal_places)
BOOLEANS = tuple(f.attname for f in Call._meta.concrete_fields if f.get_internal_type() == "BooleanField")
# What the rollups read of a written row (rollups.SOURCE, by position in CALL_COLUMNS).
ROLLUP_OF_ROW = itemgetter(*(CALL_COLUMNS.index(c) for c in rollups.SOURCE))
COST_AT = CALL_ROW.index("cost")
# Where a batch's call rows wait for the writers' turn on SQLite (Store.stage).
CALL_STAGE = db.Stage("calltally_staged_calls", CALL_COLUMNS)


# The directory rows a call row refers to: (position in the row, model). The calls table has
# no row-by-row constraint on them; Store.referenced checks each batch's in one statement each.
REFERENCES = tuple((CALL_ROW.index(f"{name}_id"), model)
                   for name, model in (("extension", Extension), ("person", Person), ("cost_center", CostCenter)))


class Offsets:
    """A set of record offsets in a day file, in little memory: 8 bytes each, sorted, looked
    up by bisection (a Python set of ten million offsets takes over half a gigabyte)."""

    __slots__ = ("values",)

    def __init__(self, *ascending: Iterable[int]):
        """The offsets of one or more ascending sequences (duplicates are kept once)."""
        values = array("q")
        last = None
        for offset in heapq.merge(*ascending):
            if offset != last:
                values.append(offset)
                last = offset
        self.values = values

    def __contains__(self, offset: int) -> bool:
        values = self.values
        at = bisect_left(values, offset)
        return at < len(values) and values[at] == offset

    def __len__(self) -> int:
        return len(self.values)

    def last(self) -> int:
        return self.values[-1] if self.values else -1


class ConcurrentMining(turns.Stop):
    """Another process committed this batch first; ours is rolled back."""


class Store:
    """Reads and writes one site's calls, discarded calls and checkpoints."""

    def __init__(self, site_id: int):
        self.site_id = site_id
        self.sqlite = connection.vendor == "sqlite"
        self.adapt_instant = db.instant_adapter()
        self.table = db.table(Call)
        self.discard_table = db.table(DiscardedCall)
        self.call_sql = db.insert_sql(Call, CALL_COLUMNS)
        self.discard_sql = db.insert_sql(DiscardedCall, DISCARD_ROW)
        self.fill = tuple(CALL_FILL.values())
        # Every change to the calls is told to the rollups, flushed in the same transaction.
        self.tally = rollups.Tally()

    # --- a batch ----------------------------------------------------------------
    def claim(self, segment_id: int, offset: int, end: int, driver_state, counts: dict[str, int]) -> None:
        """Move the checkpoint from ``offset`` to ``end``: the first statement of a batch's
        transaction. Raises :class:`ConcurrentMining` when another process moved it first."""
        claimed = SpoolSegment.objects.filter(pk=segment_id, mined_offset=offset).update(
            mined_offset=end, driver_state=driver_state,
            **{name: F(name) + value for name, value in counts.items()},
        )
        if not claimed:
            raise ConcurrentMining

    def count(self, segment_id: int, counts: dict[str, int]) -> None:
        """Add to a segment's counters (replays, loose legs that found their call)."""
        changes = {name: F(name) + value for name, value in counts.items() if value}
        if changes:
            SpoolSegment.objects.filter(pk=segment_id).update(**changes)

    def tally_of(self, call_rows: list[tuple], stage: bool = True) -> rollups.Tally:
        """The rollup additions of rows about to be written, gathered before their writer's turn
        (the two processes of a backlog write in turn; this part they can do at once), and
        staged unless ``stage`` is false."""
        tally = rollups.Tally()
        tally.zones, tally.moments = self.tally.zones, self.tally.moments
        tally.add(map(ROLLUP_OF_ROW, call_rows))
        if stage:
            tally.stage()
        return tally

    def bindable(self, call_rows: list[tuple]) -> list[tuple]:
        """Rows about to be written, with their costs as the text SQLite stores: the sqlite3
        module's adapter for Decimal is a Python call per row in the writers' turn; this is the
        same work done while the batch is made (two processes at once). Last thing before writing:
        the rollups and leg merging read the rows' costs as numbers."""
        if not self.sqlite:
            return call_rows
        at = COST_AT
        return [(*row[:at], str(row[at]), *row[at + 1:]) for row in call_rows]

    def stage(self, call_rows: list[tuple]) -> int | None:
        """Put a batch's :meth:`bindable` rows in the stage, outside the writers' turn (SQLite: see
        :class:`calltally.db.Stage`); the token :meth:`write` takes, or None."""
        if not self.sqlite or not call_rows:
            return None
        return CALL_STAGE.put(self.filled(call_rows))

    def filled(self, call_rows: list[tuple]) -> list[tuple]:
        """Rows of the row maker's columns, with the other columns at their defaults (CALL_COLUMNS)."""
        fill = self.fill
        return [row + fill for row in call_rows] if fill else call_rows

    def write(self, call_rows: list[tuple], discard_rows: list[tuple], tally: rollups.Tally | None = None,
              staged: int | None = None) -> None:
        """Insert a batch's rows and its rollups; ``tally``: :meth:`tally_of` these rows, if made;
        ``staged``: the token of :meth:`stage` of these rows, if staged."""
        checked = self.referenced(call_rows)
        if checked is not call_rows:  # a reference taken out: the rows staged are not these
            staged = None
            if tally is not None:  # it holds the rows' additions (and a replay's subtractions): put right
                tally.add(map(ROLLUP_OF_ROW, call_rows), -1)
                tally.add(map(ROLLUP_OF_ROW, checked))
        with connection.cursor() as cursor:
            if CALL_STAGE.holds(staged):
                CALL_STAGE.copy_into(cursor, self.table, len(checked))
            else:
                db.insert_rows(cursor, Call, CALL_COLUMNS, self.filled(checked), self.call_sql)
            db.insert_rows(cursor, DiscardedCall, DISCARD_ROW, discard_rows, self.discard_sql)
        if tally is None:
            self.tally.add(map(ROLLUP_OF_ROW, checked))
        else:
            self.tally.absorb(tally)
        self.tally.flush()

    def referenced(self, rows: list[tuple]) -> list[tuple]:
        """The rows, with a reference to an extension, person or cost center that no longer
        exists (deleted since the Miner read the directory) taken out, as the deletion's
        on_delete=SET_NULL would have done. One statement per table for the batch, in its
        transaction: on SQLite no deletion can come between it and the commit; on
        PostgreSQL the rows found are locked against deletion until the batch commits
        (FOR KEY SHARE), as a foreign key constraint would lock them row by row."""
        if not rows:
            return rows
        lock = "" if self.sqlite else " FOR KEY SHARE"
        with connection.cursor() as cursor:
            for at, model in REFERENCES:
                ids = set(map(itemgetter(at), rows))
                ids.discard(None)
                if not ids:
                    continue
                found: set[int] = set()
                for among, part in db.in_lists("id", sorted(ids)):
                    cursor.execute(f"SELECT id FROM {db.table(model)} WHERE {among}{lock}", part)
                    found.update(pk for (pk,) in cursor.fetchall())
                gone = ids - found
                if gone:
                    log.warning("%d %s deleted while their calls were being mined: those calls keep none",
                                len(gone), model._meta.verbose_name_plural)
                    rows = [row[:at] + (None,) + row[at + 1:] if row[at] in gone else row for row in rows]
        return rows

    def made_rows(self, segment_id: int, offsets: list[int]) -> list[tuple]:
        """(leg key, the rollups' columns) of the calls these records of a segment made, as
        :meth:`remove_made` will find them unless something changes them in between (SQLite's
        ``IN`` lists: on PostgreSQL a long list would want the join remove_made makes)."""
        found = []
        with connection.cursor() as cursor:
            for among, part in db.in_lists("raw_offset", offsets):
                cursor.execute(f"SELECT leg_key, {db.quoted(rollups.SOURCE)} FROM {self.table} "
                               f"WHERE segment_id = %s AND {among}", [segment_id, *part])
                found.extend(cursor.fetchall())
        return found

    def remove_made(self, segment_id: int, offsets: list[int], keys: set[str],
                    subtracted: list[tuple] | None = None) -> tuple[int, int]:
        """Delete what these records of a segment made (calls, discarded calls), adding the
        leg keys of the calls to ``keys``; returns how many of each were deleted.

        The rollups' subtractions stay in the tally for the caller's :meth:`write` of what the
        records make now: a recalculation mostly makes the same calls again, so most sums cancel
        out and are never written (half of a recalculation's time was these two upserts).
        ``subtracted``: the :meth:`made_rows` whose subtraction the batch's own tally already
        holds (made before the writers' turn); when the rows deleted are those, the tally is
        right as it is, else it is put right here."""
        calls, discards = self.table, self.discard_table
        removed_discards = 0
        found: list[tuple] = []
        with connection.cursor() as cursor:
            if not self.sqlite:
                # Joined with the offsets as a set: a long ``= ANY(array)`` would be searched
                # element by element for every row the plan visits.
                using = "USING unnest(%s::bigint[]) AS chosen(raw_offset) WHERE t.segment_id = %s " \
                        "AND t.raw_offset = chosen.raw_offset"
                returning = ", ".join(f"t.{c}" for c in db.quoted(rollups.SOURCE).split(", "))
                cursor.execute(f"DELETE FROM {calls} t {using} RETURNING t.leg_key, {returning}",
                               [offsets, segment_id])
                found = cursor.fetchall()
                cursor.execute(f"DELETE FROM {discards} t {using}", [offsets, segment_id])
                removed_discards = cursor.rowcount
            else:
                for among, part in db.in_lists("raw_offset", offsets):
                    where = f"segment_id = %s AND {among}"
                    # What the rollups subtract, handed back by the DELETE itself (one pass over the
                    # rows instead of a SELECT and a DELETE; SQLite 3.35+, as Django 5.2's features say).
                    if connection.features.can_return_rows_from_bulk_insert:
                        cursor.execute(f"DELETE FROM {calls} WHERE {where} RETURNING leg_key, "
                                       f"{db.quoted(rollups.SOURCE)}", [segment_id, *part])
                        found.extend(cursor.fetchall())
                    else:
                        cursor.execute(f"SELECT leg_key, {db.quoted(rollups.SOURCE)} FROM {calls} WHERE {where}",
                                       [segment_id, *part])
                        found.extend(cursor.fetchall())
                        cursor.execute(f"DELETE FROM {calls} WHERE {where}", [segment_id, *part])
                    cursor.execute(f"DELETE FROM {discards} WHERE {where}", [segment_id, *part])
                    removed_discards += cursor.rowcount
        keys.update(row[0] for row in found if row[0])
        if subtracted is None or Counter(found) != Counter(subtracted):
            # Changed since they were read (a merge by the other process turned a call into a leg):
            # subtract what was deleted instead of what was read.
            if subtracted:
                self.tally.add((row[1:] for row in subtracted), 1)
            self.tally.add((row[1:] for row in found), -1)
        return len(found), removed_discards

    def made_offsets(self, segment_id: int) -> Offsets:
        """The offsets of a segment's records that made a call, a leg or a discarded call."""
        return Offsets(self._offsets(self.table, segment_id, ""), self._offsets(self.discard_table, segment_id, ""))

    def call_offsets(self, segment_id: int, since: dt.datetime | None, until: dt.datetime | None) -> Offsets:
        """The offsets of a segment's records whose calls (or legs) start in the period."""
        where, params = "", []
        if since is not None:
            where += " AND start >= %s"
            params.append(self.adapt_instant(since))
        if until is not None:
            where += " AND start < %s"
            params.append(self.adapt_instant(until))
        return Offsets(self._offsets(self.table, segment_id, where, params))

    def discard_offsets(self, segment_id: int) -> Offsets:
        return Offsets(self._offsets(self.discard_table, segment_id, ""))

    @staticmethod
    def _offsets(table: str, segment_id: int, where: str, params: list | None = None) -> array:
        found = array("q")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT raw_offset FROM {table} WHERE segment_id = %s{where} ORDER BY raw_offset",
                           [segment_id, *(params or [])])
            while rows := cursor.fetchmany(50000):
                found.extend(offset for (offset,) in rows)
        return found

    def outcomes(self, segment_id: int, offsets: list[int]) -> tuple[list[tuple], dict[int, str]]:
        """What these records of a segment made: their call rows (offset, direction, kind,
        extension number, leg key) and their discarded calls' reasons by offset."""
        rows, reasons = [], {}
        with connection.cursor() as cursor:
            for among, part in db.in_lists("raw_offset", offsets):
                cursor.execute(f"SELECT raw_offset, direction, kind, extension_number, leg_key FROM {self.table} "
                               f"WHERE segment_id = %s AND {among}", [segment_id, *part])
                rows.extend(cursor.fetchall())
                cursor.execute(f"SELECT raw_offset, reason FROM {self.discard_table} WHERE segment_id = %s AND "
                               f"{among}", [segment_id, *part])
                reasons.update(cursor.fetchall())
        return rows, reasons

    # --- leg merging --------------------------------------------------------------
    def keys_to_merge(self, keys: Iterable[str]) -> list[tuple[str, int, str]]:
        """(key, rows, highest kind) of the keys with more than one row, or with a leg or a
        merged call (which may need undoing). The partial leg index answers it alone."""
        found = []
        with connection.cursor() as cursor:
            for among, part in db.in_lists("leg_key", sorted(keys)):
                cursor.execute(
                    f"SELECT leg_key, COUNT(*), MAX(kind) FROM {self.table} WHERE site_id = %s "
                    f"AND {among} GROUP BY leg_key HAVING COUNT(*) > 1 OR MAX(kind) <> %s",
                    [self.site_id, *part, CALL],
                )
                found.extend(cursor.fetchall())
        return found

    def rows_of(self, keys: list[str]) -> dict[str, list[dict]]:
        """Every row stored under these keys, as the dicts the leg rule reads."""
        # No ORDER BY: with one, SQLite would walk the (site, start) index instead of the leg index.
        columns = db.quoted(FETCHED)
        found: dict[str, list[dict]] = {}
        key_at = FETCHED.index("leg_key")
        with connection.cursor() as cursor:
            for among, part in db.in_lists("leg_key", keys):
                cursor.execute(f"SELECT {columns} FROM {self.table} WHERE site_id = %s AND {among}",
                               [self.site_id, *part])
                for values in cursor.fetchall():
                    found.setdefault(values[key_at], []).append(self.fetched(values))
        return found

    def fetched(self, values: tuple) -> dict:
        """A row read back, typed as the ORM would type it."""
        row = dict(zip(FETCHED, values, strict=True))
        if self.sqlite:  # SQLite: naive UTC instants as text, 0/1, numbers
            start = row["start"]
            if isinstance(start, str):
                start = dt.datetime.fromisoformat(start)
            row["start"] = start.replace(tzinfo=dt.UTC)
            cost = row["cost"]
            row["cost"] = (cost if isinstance(cost, Decimal) else Decimal(str(cost))).quantize(COST_QUANTUM)
            for name in BOOLEANS:
                if name in row:
                    row[name] = bool(row[name])
        return row

    def rollup_rows(self, column: str, values: list, extra: str = "", params: tuple = ()) -> list[tuple]:
        """The rollups' columns (rollups.SOURCE) of the rows whose ``column`` is among ``values``."""
        found = []
        with connection.cursor() as cursor:
            for among, part in db.in_lists(column, values):
                cursor.execute(rollups.source_sql(f"{among}{extra}"), [*part, *params])
                found.extend(cursor.fetchall())
        return found

    def apply(self, plan: leg_rules.Plan) -> None:
        """Write what merging decided (see :func:`calltally.miner.legs.plan`)."""
        table, adapt = self.table, self.adapt_instant
        # The rollups lose what the changed rows counted before and gain what they count after.
        changed = sorted({*plan.to_leg, *plan.to_call, *(pk for pk, _ in plan.updates)})
        self.tally.add(self.rollup_rows("id", sorted({*changed, *plan.stale})), -1)
        with connection.cursor() as cursor:
            for ids, sql, extra in (
                (plan.to_leg, f"UPDATE {table} SET kind = %s WHERE ", [LEG]),
                (plan.to_call, f"UPDATE {table} SET kind = %s WHERE ", [CALL]),
                (plan.stale, f"DELETE FROM {table} WHERE ", []),
            ):
                for among, part in db.in_lists("id", ids):
                    cursor.execute(sql + among, [*extra, *part])
            if plan.updates:
                rows = []
                for pk, values in plan.updates:
                    values = dict(values, start=adapt(values["start"]))
                    rows.append((*(values[c] for c in MERGED_UPDATE_COLUMNS), pk))
                assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in MERGED_UPDATE_COLUMNS)
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
            if plan.inserts:
                rows = []
                for key, values in plan.inserts:
                    values = dict(values, site_id=self.site_id, segment_id=None, raw_offset=None, leg_key=key,
                                  kind=MERGED, start=adapt(values["start"]))
                    rows.append(tuple(values[c] for c in CALL_ROW) + self.fill)
                db.insert_rows(cursor, Call, CALL_COLUMNS, rows, self.call_sql)
                self.tally.add(map(ROLLUP_OF_ROW, rows))
        self.tally.add(self.rollup_rows("id", changed))
        self.tally.flush()

    def discarded_among(self, records: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (segment, offset) records have a discarded call."""
        return set(self._each_discard("SELECT segment_id, raw_offset FROM {table} WHERE segment_id = %s AND {among}",
                                      records, fetch=True))

    def drop_discards(self, records: Iterable[tuple[int, int]]) -> None:
        """Delete the discarded calls of these (segment, offset) records: loose legs that found their call."""
        self._each_discard("DELETE FROM {table} WHERE segment_id = %s AND {among}", records, fetch=False)

    def _each_discard(self, sql: str, records: Iterable[tuple[int, int]], fetch: bool) -> list:
        by_segment: dict[int, set[int]] = {}
        for segment_id, offset in records:
            by_segment.setdefault(segment_id, set()).add(offset)
        found = []
        with connection.cursor() as cursor:
            for segment_id, offsets in by_segment.items():
                for among, part in db.in_lists("raw_offset", sorted(offsets)):
                    cursor.execute(sql.format(table=self.discard_table, among=among), [segment_id, *part])
                    if fetch:
                        found.extend(cursor.fetchall())
        return found

    def unmerge(self, keys: list[str]) -> None:
        """Make every row of these keys a call of its own again.

        A key with more rows than any real call has is no call id (a PBX, or a
        site's generic mapping, that writes one value for every call): merging on
        it would fold a day of calls into one.
        """
        of_keys = (" AND site_id = %s", (self.site_id,))
        self.tally.add(self.rollup_rows("leg_key", keys, *of_keys), -1)
        with connection.cursor() as cursor:
            for among, part in db.in_lists("leg_key", keys):
                cursor.execute(f"DELETE FROM {self.table} WHERE site_id = %s AND {among} AND kind = %s",
                               [self.site_id, *part, MERGED])
                # A loose leg (no extension) is no call on its own: it stays a hidden leg.
                cursor.execute(f"UPDATE {self.table} SET kind = %s WHERE site_id = %s AND {among} AND kind = %s "
                               "AND extension_number <> ''", [CALL, self.site_id, *part, LEG])
        self.tally.add(self.rollup_rows("leg_key", keys, *of_keys))
        self.tally.flush()
