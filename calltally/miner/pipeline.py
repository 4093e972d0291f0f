"""The Miner: raw records from the spool → calls, discarded calls and counts.

One code path serves every way calls are made — the running Miner, ``calltally
import``, reprocessing of discarded calls — so a call is always made the same
way. Work is done in batches: the driver reads a batch, every record is
classified in memory against a cached copy of the site's extensions, and the
calls, the discarded calls and the new checkpoint are written in one
transaction with one multi-row statement per table. There is no SQL per call.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from calltally.calls.choices import CallKind, DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.accounts import AccountBook
from calltally.directory.models import Extension, ExtensionAlias
from calltally.directory.privacy import mask
from calltally.drivers import DriverConfigError, get_driver_class
from calltally.drivers.base import INBOUND, INTERNAL, OUTBOUND, CdrRecord, Reject, Skip, decode
from calltally.numbering import Normalizer, NumberingPlan
from calltally.rating.services import rater_for_site
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool, SpoolRecord, default_spool, parse_instant

from . import ahead
from . import legs as leg_rules

log = logging.getLogger("calltally.miner")
UTC = dt.UTC
# Warnings per batch about unknown account codes; the rest are counted in one line.
UNALLOCATED_LOG_LIMIT = 20
# Call ids reported as shared by too many records to be one call, per run.
OVERSIZED_LOG_LIMIT = 20
# Discarded calls show this much of the raw record; the spool keeps all of it.
RAW_TEXT_LIMIT = 20000

# Columns written for each call, in order; kept next to the row builder below.
CALL_COLUMNS = (
    "site_id", "segment_id", "raw_offset", "start", "direction", "disposition", "answered",
    "ring_seconds", "talk_seconds", "extension_number", "extension_id", "person_id", "cost_center_id",
    "billing_enabled", "remote_number", "dialled_number", "calling_number", "called_number",
    "original_called", "final_called", "redirecting", "orig_device", "dest_device", "account_code",
    "pbx_call_id", "cost", "currency", "e164", "category", "destination", "tariff", "rated_prefix", "band",
    "billed_seconds", "unrated", "account", "account_unallocated", "leg_key", "kind",
)
LEG_KEY_AT = CALL_COLUMNS.index("leg_key")
KIND_AT = CALL_COLUMNS.index("kind")
# What a merged call's row gets on each update: everything but its identity.
MERGED_UPDATE_COLUMNS = tuple(
    c for c in CALL_COLUMNS if c not in ("site_id", "segment_id", "raw_offset", "leg_key", "kind")
)
# Keys per statement when looking legs up (well under SQLite's parameter limit).
KEY_CHUNK = 500
LEG_ROW_FIELDS = ("leg_key", *leg_rules.LEG_FIELDS)
COST_QUANTUM = Decimal(1).scaleb(-Call._meta.get_field("cost").decimal_places)
DISCARD_COLUMNS = (
    "site_id", "segment_id", "raw_offset", "reason", "detail", "raw_text", "received", "start",
    "extension_number", "created",
)


@dataclass
class MineSummary:
    """What a mining run did; printed by ``calltally import`` and the Miner's log."""

    records: int = 0
    calls: Counter = field(default_factory=Counter)  # by direction
    discarded: Counter = field(default_factory=Counter)  # by reason label
    skipped_internal: int = 0
    skipped_other: int = 0
    reprocessed: int = 0
    auto_acquired: int = 0
    unrated: int = 0  # outbound calls no tariff rate matched
    unallocated_accounts: int = 0  # outbound calls whose account code matches no account
    merged_calls: int = 0  # merged calls made or brought up to date
    merged_legs: int = 0  # the legs those merged calls are made of
    seconds: float = 0.0

    def add(self, other: MineSummary) -> None:
        self.records += other.records
        self.calls.update(other.calls)
        self.discarded.update(other.discarded)
        self.skipped_internal += other.skipped_internal
        self.skipped_other += other.skipped_other
        self.reprocessed += other.reprocessed
        self.auto_acquired += other.auto_acquired
        self.unrated += other.unrated
        self.unallocated_accounts += other.unallocated_accounts
        self.merged_calls += other.merged_calls
        self.merged_legs += other.merged_legs

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_discarded(self) -> int:
        return sum(self.discarded.values())

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "calls": self.total_calls,
            "calls_by_direction": {d: self.calls.get(d, 0) for d in (INBOUND, OUTBOUND, INTERNAL)},
            "discarded": self.total_discarded,
            "discarded_by_reason": dict(sorted(self.discarded.items())),
            "skipped_internal": self.skipped_internal,
            "skipped_not_calls": self.skipped_other,
            "auto_acquired_extensions": self.auto_acquired,
            "unrated": self.unrated,
            "unallocated_account_codes": self.unallocated_accounts,
            "merged_calls": self.merged_calls,
            "merged_legs": self.merged_legs,
            "seconds": round(self.seconds, 3),
        }


class ConcurrentMining(Exception):
    """Another process committed this batch first; ours is rolled back."""


def plan_matcher(site: Site) -> Callable[[str], bool]:
    """The site's internal extension plan as a fast predicate on a number."""
    if site.internal_pattern:
        return re.compile(site.internal_pattern).fullmatch  # type: ignore[return-value]
    low, high = site.internal_digits_min, site.internal_digits_max

    def by_length(number: str) -> bool:
        return low <= len(number) <= high and number.isdigit()

    return by_length


def parse_records(driver, records: list[SpoolRecord]) -> list:
    """The driver's outcomes for spool records, with their receive instants for
    a driver whose records carry no date."""
    raws = [r.raw for r in records]
    if driver.needs_received:
        return driver.parse_received(raws, [r.received for r in records])
    return driver.parse_many(raws)


class SiteMiner:
    """Turns one site's raw records into rows. Holds the site's extensions in
    memory for the duration of a run."""

    def __init__(self, site: Site, spool: Spool | None = None):
        self.spool = spool or default_spool()
        self.numbering_key: tuple | None = None
        self.refresh(site)
        vendor = connection.vendor
        if vendor == "sqlite":
            self.adapt_instant = _sqlite_instant
        else:
            self.adapt_instant = _identity
        self.call_sql = _insert_sql(Call._meta.db_table, CALL_COLUMNS)
        self.warned_keys: set[str] = set()  # oversized leg keys already reported
        self.discard_sql = _insert_sql(DiscardedCall._meta.db_table, DISCARD_COLUMNS)

    def refresh(self, site: Site) -> None:
        """Take the site's current settings, extensions, account codes and tariffs.

        The number normalizer (and its cache of numbers already read) is kept
        while the site's country, area code and access codes stay the same.
        """
        self.site = site
        self.in_plan = plan_matcher(site)
        self.load_extensions()
        key = (site.country, site.area_code, tuple(site.access_codes or ()))
        if key != self.numbering_key:
            self.normalize = Normalizer(
                NumberingPlan(country=key[0], area_code=key[1], access_codes=key[2], internal=self.is_extension)
            )
            self.numbering_key = key
        self.rater = rater_for_site(site)
        self.accounts = AccountBook.for_site(site)
        try:
            self.legs_in_sequence = get_driver_class(site.driver).legs_in_sequence
        except DriverConfigError:  # an unknown driver is reported where the driver is made
            self.legs_in_sequence = False

    def load_extensions(self) -> None:
        rows = Extension.objects.filter(site=self.site).values_list(
            "number", "pk", "person_id", "cost_center_id", "person__cost_center_id", "billing_enabled",
            "person__masked_digits",
        )
        # number -> (extension id, person id, cost center id, billing enabled, digits to mask, number)
        self.extensions = {
            number: (pk, person_id, own_cc or person_cc, billing, masked or 0, number)
            for number, pk, person_id, own_cc, person_cc, billing, masked in rows
        }
        # An alias or DID number stands for its extension: the call is the extension's.
        by_id = {entry[0]: entry for entry in self.extensions.values()}
        for alias, extension_id in ExtensionAlias.objects.filter(site=self.site).values_list("number", "extension_id"):
            if extension_id in by_id:
                self.extensions.setdefault(alias, by_id[extension_id])

    def is_extension(self, number: str) -> bool:
        return bool(number) and (number in self.extensions or self.in_plan(number))

    # --- classification --------------------------------------------------
    def classify(self, rec: CdrRecord) -> tuple[str, str, str] | str:
        """(direction, extension number, remote number), or the reason it cannot be told."""
        calling = rec.calling
        target = rec.final_called or rec.called or rec.original_called
        hint = rec.direction_hint
        if hint is None:
            calling_is_ext = self.is_extension(calling)
            target_is_ext = self.is_extension(target)
            if calling_is_ext and target_is_ext:
                # An emergency number may look like an extension (112, 911); it is never internal.
                hint = OUTBOUND if self.normalize(target).category == "emergency" else INTERNAL
            elif calling_is_ext:
                hint = OUTBOUND
            elif target_is_ext:
                hint = INBOUND
            else:
                return (
                    f"neither the calling number {calling!r} nor the called number {target!r} "
                    f"is an extension of site {self.site.code} ({self.site.extension_plan})"
                )
        if hint == OUTBOUND:
            extension = calling
            # A call forwarded out of the PBX is charged to the extension that forwarded it.
            if not self.is_extension(calling) and self.is_extension(rec.redirecting):
                extension = rec.redirecting
            return OUTBOUND, extension, rec.called or target
        if hint == INBOUND:
            # The extension that took the call — unless it went on to something that is
            # no extension of ours (a voicemail pilot, a hunt group): then the one called.
            if target not in self.extensions:
                for number in (rec.called, rec.original_called):
                    if number in self.extensions:
                        return INBOUND, number, calling
            return INBOUND, target, calling
        return INTERNAL, calling, target

    # --- a batch ------------------------------------------------------------
    def process(
        self, segment_id: int, records: list[SpoolRecord], outcomes: list
    ) -> tuple[list[tuple], list[tuple], dict, MineSummary]:
        """Rows for the calls and discarded calls of a batch, the segment's counters, a summary."""
        site = self.site
        summary = MineSummary()
        counts = {"records": len(records), "calls": 0, "discarded": 0, "skipped_internal": 0, "skipped_other": 0}
        classified: list[tuple[SpoolRecord, CdrRecord, str, str, str]] = []
        discards: list[tuple[SpoolRecord, str, str, dt.datetime | None, str]] = []
        unknown: set[str] = set()
        unrecognised = DiscardReason.UNRECOGNISED.value
        classify, extensions = self.classify, self.extensions
        for record, outcome in zip(records, outcomes, strict=True):
            if type(outcome) is CdrRecord:
                verdict = classify(outcome)
                if type(verdict) is str:
                    discards.append((record, unrecognised, verdict, outcome.start, ""))
                    continue
                direction, extension, remote = verdict
                if direction == INTERNAL and not site.import_internal:
                    counts["skipped_internal"] += 1
                    continue
                if extension not in extensions:
                    unknown.add(extension)
                classified.append((record, outcome, direction, extension, remote))
            elif type(outcome) is Skip:
                counts["skipped_other"] += 1
            elif type(outcome) is Reject:
                discards.append((record, unrecognised, outcome.detail, None, ""))
            else:  # a driver returned something outside its contract
                discards.append((record, unrecognised, f"driver returned {type(outcome).__name__}", None, ""))

        if unknown and site.auto_acquire:
            summary.auto_acquired += self.acquire(sorted(n for n in unknown if n))

        call_rows: list[tuple] = []
        adapt = self.adapt_instant
        extensions = self.extensions
        not_configured = DiscardReason.EXTENSION_NOT_CONFIGURED.value
        site_id = site.pk
        by_direction = summary.calls
        normalize, rate, lookup = self.normalize, self.rater.rate, self.accounts.lookup
        merging = site.merge_legs
        kind_call = CallKind.CALL.value
        unallocated_seen: list[tuple[str, str, dt.datetime]] = []
        for record, rec, direction, extension, remote in classified:
            known = extensions.get(extension)
            if known is None:
                discards.append(
                    (record, not_configured, f"extension {extension!r} is not configured on site {site.code}",
                     rec.start, extension)
                )
                continue
            ext_id, person_id, cc_id, billing, privacy, extension = known
            by_direction[direction] += 1
            dialled, calling, called = rec.called, rec.calling, rec.called
            original_called, final_called = rec.original_called, rec.final_called
            outbound = direction == OUTBOUND
            if direction == INTERNAL:
                e164, category, destination = "", "internal", ""
            else:
                number = normalize(remote, outbound=outbound)
                # The remote number without the outside-line access code the PBX recorded.
                remote = number.digits or remote
                e164, category, destination = number.e164, number.category, number.destination
            rating = rate(
                e164=e164, direction=direction, start=rec.start, talk_seconds=rec.talk_seconds,
                answered=rec.answered, device=rec.dest_device if outbound else rec.orig_device,
            )
            if rating.unrated:
                summary.unrated += 1
            account, unallocated, code = "", False, rec.account_code
            if code:
                rule = lookup(code) if outbound else None
                if rule is not None:
                    account = rule.display
                    cc_id = rule.cost_center_id or cc_id
                    privacy = max(privacy, rule.privacy_digits)
                else:
                    account = code
                    # Only outbound calls are charged to accounts; an unknown code there is a warning.
                    unallocated = outbound
                    if outbound:
                        summary.unallocated_accounts += 1
                        unallocated_seen.append((code, rec.pbx_call_id, rec.start))
            if privacy and direction != INTERNAL:
                # Privacy at the source: the hidden digits never reach the database.
                remote, e164 = mask(remote, privacy), mask(e164, privacy)
                if outbound:
                    dialled = called = mask(called, privacy)
                    original_called, final_called = mask(original_called, privacy), mask(final_called, privacy)
                else:
                    calling = mask(calling, privacy)
            call_rows.append((
                site_id, segment_id, record.offset, adapt(rec.start), direction, rec.disposition, rec.answered,
                rec.ring_seconds, rec.talk_seconds, extension[:32], ext_id, person_id, cc_id, billing,
                remote[:64], dialled[:64], calling[:64], called[:64], original_called[:64],
                final_called[:64], rec.redirecting[:64], rec.orig_device[:128], rec.dest_device[:128],
                code[:64], rec.pbx_call_id[:128], rating.cost, rating.currency, e164, rating.category or category,
                (rating.destination or destination)[:100], rating.tariff[:120], rating.prefix[:20], rating.band[:32],
                rating.billed_seconds, rating.unrated, account[:200], unallocated,
                (rec.leg_key[:128] or None) if merging else None, kind_call,
            ))
        for code, call_id, start in unallocated_seen[:UNALLOCATED_LOG_LIMIT]:
            log.warning("site %s: account code %r matches no account (call %s at %s)",
                        site.code, code, call_id or "?", start.isoformat())
        if len(unallocated_seen) > UNALLOCATED_LOG_LIMIT:
            log.warning("site %s: %d more calls with unallocated account codes in this batch",
                        site.code, len(unallocated_seen) - UNALLOCATED_LOG_LIMIT)
        now = adapt(dt.datetime.now(UTC))
        discard_rows = []
        labels = dict(DiscardReason.choices)
        for record, reason, detail, start, extension in discards:
            summary.discarded[labels[reason]] += 1
            discard_rows.append((
                site_id, segment_id, record.offset, reason, detail[:500], _raw_text(record.raw[:RAW_TEXT_LIMIT]),
                adapt(parse_instant(record.received)) if record.received else None,
                adapt(start) if start else None, extension[:32], now,
            ))
        counts["calls"] = len(call_rows)
        counts["discarded"] = len(discard_rows)
        summary.records += counts["records"]
        summary.skipped_internal += counts["skipped_internal"]
        summary.skipped_other += counts["skipped_other"]
        return call_rows, discard_rows, counts, summary

    def acquire(self, numbers: list[str]) -> int:
        """Create the unknown extensions (unassigned) of a site with automatic acquisition."""
        valid = [n for n in numbers if len(n) <= 32]
        if not valid:
            return 0
        Extension.objects.bulk_create(
            [Extension(site=self.site, number=n, auto_acquired=True) for n in valid], ignore_conflicts=True
        )
        for number, pk, billing in Extension.objects.filter(site=self.site, number__in=valid).values_list(
            "number", "pk", "billing_enabled"
        ):
            self.extensions.setdefault(number, (pk, None, None, billing, 0, number))
        for number in valid:
            log.info("site %s: extension %s acquired automatically", self.site.code, number)
        return len(valid)

    def write(self, call_rows: list[tuple], discard_rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            self.insert(cursor, Call, CALL_COLUMNS, self.call_sql, call_rows)
            self.insert(cursor, DiscardedCall, DISCARD_COLUMNS, self.discard_sql, discard_rows)

    @staticmethod
    def insert(cursor, model, columns: tuple[str, ...], sql: str, rows: list[tuple]) -> None:
        """Many rows in one go: COPY on PostgreSQL (an INSERT per row costs a round trip
        there: 5,000 calls a second), one prepared INSERT run over every row on SQLite."""
        if not rows:
            return
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)

    # --- merging the legs of one call ----------------------------------------------
    def leg_row(self, values: tuple) -> dict:
        """A fetched row (leg_key, *LEG_FIELDS) as the dict the leg rule reads, typed as the ORM would."""
        row = dict(zip(LEG_ROW_FIELDS, values, strict=True))
        if self.adapt_instant is _sqlite_instant:  # SQLite: naive UTC instants, 0/1, numbers
            start = row["start"]
            if isinstance(start, str):
                start = dt.datetime.fromisoformat(start)
            row["start"] = start.replace(tzinfo=UTC)
            cost = row["cost"]
            row["cost"] = (cost if isinstance(cost, Decimal) else Decimal(str(cost))).quantize(COST_QUANTUM)
            for name in ("answered", "billing_enabled", "unrated", "account_unallocated"):
                row[name] = bool(row[name])
        return row

    def unmerge(self, cursor, keys: list[str]) -> None:
        """Make every row of these keys a call of its own again.

        A key with more rows than any real call has is no call id (a PBX, or a
        site's generic mapping, that writes one value for every call): merging on
        it would fold a day of calls into one.
        """
        table = connection.ops.quote_name(Call._meta.db_table)
        for among, part in _in_lists("leg_key", keys):
            cursor.execute(f"DELETE FROM {table} WHERE site_id = %s AND {among} AND kind = %s",
                           [self.site.pk, *part, CallKind.MERGED.value])
            cursor.execute(f"UPDATE {table} SET kind = %s WHERE site_id = %s AND {among} AND kind = %s",
                           [CallKind.CALL.value, self.site.pk, *part, CallKind.LEG.value])
        for key in keys:
            self.warn_oversized(key)

    def warn_oversized(self, key: str) -> None:
        if key not in self.warned_keys and len(self.warned_keys) < OVERSIZED_LOG_LIMIT:
            log.warning("site %s: more than %d records share the call id %r, too many for one call: "
                        "they are not merged", self.site.code, leg_rules.MAX_ROWS_PER_KEY, key)
            self.warned_keys.add(key)

    def prepare_legs(self, call_rows: list[tuple]) -> tuple[set[str], dict[str, list[dict]]]:
        """The leg keys of a batch's rows, and the calls the batch holds whole.

        Rows whose key repeats within the batch and that make one call are marked
        as legs before they are written, and returned as the rows the leg rule
        reads: when they turn out to be all of their key's rows, merging needs
        neither to read them back nor to update them (see :meth:`merge_legs`).
        """
        counts = Counter(row[LEG_KEY_AT] for row in call_rows if row[LEG_KEY_AT])
        repeated = {key for key, count in counts.items() if count > 1}
        if not repeated:
            return set(counts), {}
        positions: dict[str, list[int]] = {}
        for index, row in enumerate(call_rows):
            if row[LEG_KEY_AT] in repeated:
                positions.setdefault(row[LEG_KEY_AT], []).append(index)
        whole: dict[str, list[dict]] = {}
        leg = CallKind.LEG.value
        for key, indexes in positions.items():
            legs = [self.batch_leg(call_rows[index]) for index in indexes]
            if len(leg_rules.clusters(legs)) == 1:
                whole[key] = legs
                for index in indexes:
                    call_rows[index] = (*call_rows[index][:KIND_AT], leg, *call_rows[index][KIND_AT + 1:])
        return set(counts), whole

    @staticmethod
    def batch_leg(row: tuple) -> dict:
        """A row about to be written, as the dict the leg rule reads."""
        leg = dict(zip(CALL_COLUMNS, row, strict=True))
        start = leg["start"]
        if isinstance(start, str):  # SQLite: the naive UTC text the Miner writes
            leg["start"] = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
        leg["id"], leg["kind"] = None, CallKind.LEG.value
        return leg

    def merge_legs(self, keys: set[str], summary: MineSummary, whole: dict[str, list[dict]] | None = None) -> None:
        """Bring the merged calls of these leg keys up to date with the rows stored now.

        Runs in the caller's transaction, right after a batch's rows are written,
        with a handful of statements per batch: one lookup of the keys that have
        more than one row (or a leg or merged row, which may need undoing), one
        fetch of those rows, then set-based updates and one multi-row insert.
        Calls the batch holds whole (``whole``, from :meth:`prepare_legs`) are
        merged from memory. See :mod:`calltally.miner.legs` for the rule.
        """
        if not keys:
            return
        table = connection.ops.quote_name(Call._meta.db_table)
        site_id = self.site.pk
        candidates: list[str] = []
        oversized: list[str] = []
        rows_by_key: dict[str, list[dict]] = {}
        whole = whole or {}
        ordered = sorted(keys)
        with connection.cursor() as cursor:
            for among, part in _in_lists("leg_key", ordered):
                cursor.execute(
                    f"SELECT leg_key, COUNT(*), MAX(kind) FROM {table} WHERE site_id = %s "
                    f"AND {among} GROUP BY leg_key HAVING COUNT(*) > 1 OR MAX(kind) <> %s",
                    [site_id, *part, CallKind.CALL.value],
                )
                for key, count, kind in cursor.fetchall():
                    if key in whole and count == len(whole[key]) <= leg_rules.MAX_ROWS_PER_KEY:
                        rows_by_key[key] = whole[key]  # all its rows came in this batch
                    elif count <= leg_rules.MAX_ROWS_PER_KEY:
                        candidates.append(key)
                    elif kind != CallKind.CALL:  # merged while it was small enough: undo
                        oversized.append(key)
                    else:
                        self.warn_oversized(key)
            if oversized:
                self.unmerge(cursor, oversized)
        # Plain SQL: the ORM's per-value converters cost more than the merge itself. (And no
        # ORDER BY: with one, SQLite would walk the (site, start) index instead of the leg index.)
        columns = ", ".join(connection.ops.quote_name(c) for c in ("leg_key", *leg_rules.LEG_FIELDS))
        to_leg_row = self.leg_row
        with connection.cursor() as cursor:
            for among, part in _in_lists("leg_key", candidates):
                cursor.execute(f"SELECT {columns} FROM {table} WHERE site_id = %s AND {among}", [site_id, *part])
                for values in cursor.fetchall():
                    rows_by_key.setdefault(values[0], []).append(to_leg_row(values))

        to_leg, to_call, stale = [], [], []
        updates, inserts = [], []
        adapt, rate = self.adapt_instant, self.rater.rate
        billing, in_sequence = self.site.transfer_billing, self.legs_in_sequence
        for key, rows in rows_by_key.items():
            existing = sorted((r for r in rows if r["kind"] == CallKind.MERGED), key=lambda r: r["start"])
            for cluster in leg_rules.clusters(r for r in rows if r["kind"] != CallKind.MERGED):
                if len(cluster) == 1:
                    if cluster[0]["kind"] != CallKind.CALL:
                        to_call.append(cluster[0]["id"])
                    continue
                to_leg.extend(leg["id"] for leg in cluster if leg["kind"] != CallKind.LEG)
                values = leg_rules.merge(cluster, rate, billing, in_sequence)
                values["start"] = adapt(values["start"])
                summary.merged_calls += 1
                summary.merged_legs += len(cluster)
                # Keep the merged call's id (links to it stay valid) when it is still the same call.
                first, last = cluster[0]["start"], max(leg_rules.end_of(leg) for leg in cluster)
                match = next((r for r in existing if first - leg_rules.MERGE_GAP <= r["start"] <= last), None)
                if match is not None:
                    existing.remove(match)
                    updates.append((*(values[c] for c in MERGED_UPDATE_COLUMNS), match["id"]))
                else:
                    values.update(site_id=site_id, segment_id=None, raw_offset=None, leg_key=key,
                                  kind=CallKind.MERGED.value)
                    inserts.append(tuple(values[c] for c in CALL_COLUMNS))
            stale.extend(r["id"] for r in existing)

        with connection.cursor() as cursor:
            for ids, sql, extra in (
                (to_leg, f"UPDATE {table} SET kind = %s WHERE ", [CallKind.LEG.value]),
                (to_call, f"UPDATE {table} SET kind = %s WHERE ", [CallKind.CALL.value]),
                (stale, f"DELETE FROM {table} WHERE ", []),
            ):
                for among, part in _in_lists("id", ids):
                    cursor.execute(sql + among, [*extra, *part])
            if updates:
                quote = connection.ops.quote_name
                assignments = ", ".join(f"{quote(c)} = %s" for c in MERGED_UPDATE_COLUMNS)
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", updates)
            self.insert(cursor, Call, CALL_COLUMNS, self.call_sql, inserts)

    # --- mining new records ------------------------------------------------------
    def segment(self, day: dt.date) -> SpoolSegment:
        segment, _ = SpoolSegment.objects.get_or_create(site=self.site, day=day)
        return segment

    def mine(self, batch_size: int | None = None, max_batches: int | None = None) -> MineSummary:
        """Mine every record appended since the checkpoints; returns what was done."""
        batch_size = batch_size or settings.MINER_BATCH_SIZE
        summary = MineSummary()
        started = time.perf_counter()
        batches = 0
        for day in self.spool.days(self.site.code):
            size = self.spool.size(self.site.code, day)
            segment = self.segment(day)
            if segment.mined_offset >= size:
                continue
            driver = self.site.make_driver()
            driver.set_state(segment.driver_state)
            offset = segment.mined_offset
            if max_batches is None and ahead.worth_it(size - offset):
                made = ahead.batches_ahead(self, "made_batches", day, offset, segment.pk, driver, batch_size)
            else:
                made = self.made_batches(day, offset, segment.pk, driver, batch_size)
            try:
                for end, driver_state, call_rows, discard_rows, counts, batch in made:
                    keys, whole = self.prepare_legs(call_rows)
                    try:
                        with transaction.atomic():
                            claimed = SpoolSegment.objects.filter(pk=segment.pk, mined_offset=offset).update(
                                mined_offset=end,
                                driver_state=driver_state,
                                **{name: F(name) + value for name, value in counts.items()},
                            )
                            if not claimed:
                                raise ConcurrentMining
                            self.write(call_rows, discard_rows)
                            self.merge_legs(keys, batch, whole)
                    except ConcurrentMining:
                        # Another process (the Miner service, another import) committed these
                        # records first; they are its to report, and it goes on with the site.
                        log.info("site %s: %s is being mined by another process", self.site.code, segment)
                        break
                    summary.add(batch)
                    offset = end
                    batches += 1
                    if max_batches is not None and batches >= max_batches:
                        summary.seconds = time.perf_counter() - started
                        return summary
            finally:
                made.close()
        summary.seconds = time.perf_counter() - started
        return summary

    def made_batches(self, day: dt.date, offset: int, segment_id: int, driver, batch_size: int):
        """(end offset, driver state, call rows, discard rows, counts, summary) of each batch
        from ``offset``, in order: everything but the writing."""
        for records, end, outcomes, driver_state in self._parsed_batches(day, offset, driver, batch_size):
            yield (end, driver_state, *self.process(segment_id, records, outcomes))

    def _parsed_batches(self, day: dt.date, offset: int, driver, batch_size: int):
        """(records, end offset, outcomes, driver state after them) for each batch, in order."""
        while True:
            records, end = self.spool.read(self.site.code, day, offset, batch_size)
            if not records:
                return
            outcomes = parse_records(driver, records)
            yield records, end, outcomes, driver.get_state()
            offset = end

    # --- reprocessing discarded calls ----------------------------------------
    def reprocess(self, batch_size: int | None = None) -> MineSummary:
        """Make the site's discarded calls again (after adding extensions, say).

        Those that now make calls become calls; the others are discarded again
        with their current reason.
        """
        targets: dict[int, set[int]] = {}
        for segment_id, offset in DiscardedCall.objects.filter(site=self.site).values_list("segment_id", "raw_offset"):
            targets.setdefault(segment_id, set()).add(offset)
        summary = self.replay(targets, batch_size)
        summary.reprocessed = sum(len(offsets) for offsets in targets.values())
        return summary

    def recalculate(
        self, first: dt.date | None = None, last: dt.date | None = None, batch_size: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> MineSummary:
        """Make the calls that started between two local days again, from the spool.

        Exactly as a fresh import would make them today: the current directory,
        tariffs and rules apply. Calls outside the period are not touched.
        """
        calls = Call.rows.filter(site=self.site, segment__isnull=False)
        if first:
            calls = calls.filter(start__gte=dt.datetime.combine(first, dt.time(), tzinfo=self.site.zone))
        if last:
            calls = calls.filter(
                start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=self.site.zone)
            )
        targets: dict[int, set[int]] = {}
        for segment_id, offset in calls.values_list("segment_id", "raw_offset").iterator(chunk_size=20000):
            targets.setdefault(segment_id, set()).add(offset)
        summary = self.replay(targets, batch_size, progress)
        summary.reprocessed = sum(len(offsets) for offsets in targets.values())
        return summary

    def replay(
        self, targets: dict[int, set[int]], batch_size: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> MineSummary:
        """Run chosen raw records through the pipeline again and replace what they made.

        ``targets`` maps segment ids to record offsets. Each segment is read again
        from its start, so the driver sees its header lines exactly as the first
        time; only the chosen records go on through the pipeline. Whatever they
        made before (a call or a discarded call) is replaced, batch by batch, in
        one transaction per batch.
        """
        batch_size = batch_size or settings.MINER_BATCH_SIZE
        summary = MineSummary()
        started = time.perf_counter()
        self.load_extensions()
        for segment in SpoolSegment.objects.filter(pk__in=list(targets)).order_by("day"):
            wanted = targets[segment.pk]
            done = 0
            args = (segment.pk, segment.day, segment.mined_offset, wanted, batch_size)
            if ahead.worth_it(segment.mined_offset):
                remade = ahead.batches_ahead(self, "remade_batches", *args)
            else:
                remade = self.remade_batches(*args)
            try:
                for offsets, call_rows, discard_rows, counts, batch in remade:
                    keys, whole = self.prepare_legs(call_rows)
                    with transaction.atomic():
                        # The calls these records were legs of are merged again below.
                        removed_calls, removed_discards = self.remove_made(segment.pk, offsets, keys)
                        self.write(call_rows, discard_rows)
                        self.merge_legs(keys, batch, whole)
                        SpoolSegment.objects.filter(pk=segment.pk).update(
                            calls=F("calls") - removed_calls + counts["calls"],
                            discarded=F("discarded") - removed_discards + counts["discarded"],
                            skipped_internal=F("skipped_internal") + counts["skipped_internal"],
                        )
                    done += len(offsets)
                    summary.add(batch)
                    if progress:
                        progress(f"{segment}: {done}/{len(wanted)} records made again")
            finally:
                remade.close()
        summary.seconds = time.perf_counter() - started
        return summary

    def remove_made(self, segment_id: int, offsets: list[int], keys: set[str]) -> tuple[int, int]:
        """Delete what these records of a segment made (calls, discarded calls), adding the
        leg keys of the calls to ``keys``; returns how many of each were deleted."""
        calls = connection.ops.quote_name(Call._meta.db_table)
        discards = connection.ops.quote_name(DiscardedCall._meta.db_table)
        removed_calls = removed_discards = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Joined with the offsets as a set: a long ``= ANY(array)`` would be searched
                # element by element for every row the plan visits.
                using = "USING unnest(%s::bigint[]) AS chosen(raw_offset) WHERE t.segment_id = %s " \
                        "AND t.raw_offset = chosen.raw_offset"
                cursor.execute(f"DELETE FROM {calls} t {using} RETURNING t.leg_key", [offsets, segment_id])
                found = cursor.fetchall()
                keys.update(key for (key,) in found if key)
                cursor.execute(f"DELETE FROM {discards} t {using}", [offsets, segment_id])
                return len(found), cursor.rowcount
            for among, part in _in_lists("raw_offset", offsets):
                where = f"segment_id = %s AND {among}"
                cursor.execute(f"SELECT leg_key FROM {calls} WHERE {where} AND leg_key IS NOT NULL",
                               [segment_id, *part])
                keys.update(key for (key,) in cursor.fetchall())
                cursor.execute(f"DELETE FROM {calls} WHERE {where}", [segment_id, *part])
                removed_calls += cursor.rowcount
                cursor.execute(f"DELETE FROM {discards} WHERE {where}", [segment_id, *part])
                removed_discards += cursor.rowcount
        return removed_calls, removed_discards

    def remade_batches(self, segment_id: int, day: dt.date, end: int, wanted: set[int], batch_size: int):
        """(offsets, call rows, discard rows, counts, summary) for the chosen records of a
        segment, batch by batch: everything :meth:`replay` does but the writing."""
        remaining = set(wanted)
        driver = self.site.make_driver()
        offset = 0
        while remaining and offset < end:
            records, offset = self.spool.read(self.site.code, day, offset, batch_size)
            if not records:
                return
            # Parse everything so the driver's state follows the file, keep only the chosen ones.
            outcomes = parse_records(driver, records)
            chosen = [(r, o) for r, o in zip(records, outcomes, strict=True) if r.offset in remaining]
            if not chosen:
                continue
            offsets = [r.offset for r, _ in chosen]
            remaining.difference_update(offsets)
            yield (offsets, *self.process(segment_id, [r for r, _ in chosen], [o for _, o in chosen]))


def mine_sites(sites: Iterable[Site], spool: Spool | None = None, **kwargs) -> MineSummary:
    total = MineSummary()
    started = time.perf_counter()
    for site in sites:
        total.add(SiteMiner(site, spool).mine(**kwargs))
    total.seconds = time.perf_counter() - started
    return total


def recalculate_sites(sites: Iterable[Site], first=None, last=None, progress=None) -> MineSummary:
    total = MineSummary()
    started = time.perf_counter()
    for site in sites:
        total.add(SiteMiner(site).recalculate(first, last, progress=progress))
    total.seconds = time.perf_counter() - started
    return total


def reprocess_sites(sites: Iterable[Site], spool: Spool | None = None) -> MineSummary:
    total = MineSummary()
    started = time.perf_counter()
    for site in sites:
        total.add(SiteMiner(site, spool).reprocess())
    total.seconds = time.perf_counter() - started
    return total


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )


def _in_lists(column: str, values: list) -> Iterator[tuple[str, list]]:
    """(condition, its parameters) pairs that together cover ``values``: one array
    parameter on PostgreSQL, ``IN`` lists of :data:`KEY_CHUNK` placeholders on SQLite
    (whose statements take a bounded number of parameters)."""
    if connection.vendor == "postgresql":
        if values:
            yield f"{column} = ANY(%s)", [list(values)]
        return
    for start in range(0, len(values), KEY_CHUNK):
        part = values[start:start + KEY_CHUNK]
        yield f"{column} IN ({', '.join(['%s'] * len(part))})", part


def _sqlite_instant(value: dt.datetime) -> str:
    # What Django's SQLite backend stores for an aware datetime: naive UTC text.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ")


def _identity(value):
    return value


def _raw_text(raw: bytes) -> str:
    text = decode(raw)
    # PostgreSQL text cannot hold NUL; show it the way editors do.
    return text.replace("\x00", "\\x00")
