"""The Miner: raw records from the spool → calls, discarded calls and counts.

One code path serves every way calls are made — the running Miner, ``calltally
import``, reprocessing of discarded calls, recalculation — so a call is always
made the same way. This module only orchestrates; each step lives where its
name says:

1. read a batch from the spool (:mod:`calltally.spool.storage`) and parse it
   with the site's driver (:mod:`calltally.drivers`);
2. sort the outcomes into calls, loose legs, discards and skips
   (:mod:`calltally.miner.classify`, plain Python);
3. make the rows: numbering, rating, account codes, privacy
   (:mod:`calltally.miner.rows`, plain Python);
4. write them, move the checkpoint and merge the legs of calls, in one
   transaction (:mod:`calltally.miner.store` has the SQL, :mod:`calltally.miner.legs`
   the merging rule).

With a large backlog a second process takes every other batch, both working at
once (:mod:`calltally.miner.turns`). There is no SQL per call.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shlex
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calltally.calls.models import DiscardedCall
from calltally.directory.accounts import AccountBook
from calltally.directory.models import Extension, ExtensionAlias
from calltally.drivers import DriverConfigError, get_driver_class
from calltally.drivers.base import CdrRecord
from calltally.drivers.detect import detect, sample_lines
from calltally.numbering import Normalizer, NumberingPlan
from calltally.numbering.normalizer import preload as preload_numbering
from calltally.rating.services import rater_for_site
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool, SpoolRecord, default_spool, parse_instant
from calltally.vocabulary import CALL, DISCARD_REASON_LABELS, INTERNAL, LEG, UNRECOGNISED

from . import legs as leg_rules
from . import turns
from .classify import Classifier
from .report import MineSummary
from .rows import CALL_ROW, KIND_AT, LEG_KEY_AT, RowMaker
from .store import CALL_WIDTHS, DISCARD_WIDTHS, ConcurrentMining, Offsets, Store

log = logging.getLogger("calltally.miner")
UTC = dt.UTC
# Call ids reported as shared by too many records to be one call, per run.
OVERSIZED_LOG_LIMIT = 20
# A run is suspected of reading with the wrong driver from this many records on, when none
# became a call and most were skipped as "not calls" or could not be read.
READING_CHECK_RECORDS = 5
# Raw records of such a run kept to find the driver that reads them.
READING_SAMPLE = 300
# The Miner says it again (log, site) at most this often while the problem lasts.
READING_NOTICE_EVERY = dt.timedelta(minutes=10)

__all__ = ["ConcurrentMining", "MineSummary", "SiteMiner", "mine_sites", "recalculate_sites", "reprocess_sites"]


@dataclass(slots=True)
class Batch:
    """What a batch of records makes, before it is written (by the process whose turn it is)."""

    calls: list[tuple]
    discards: list[tuple]
    loose: list[tuple[int, int]]  # (segment, offset) of the loose legs among ``calls``
    counts: dict[str, int]  # the segment's counters to add
    summary: MineSummary
    end: int = 0  # mining: the checkpoint after the batch
    driver_state: Any = None
    offsets: list[int] = field(default_factory=list)  # replay: the records made again
    sample: list[bytes] = field(default_factory=list)  # raw records of a batch that made no call
    keys: set[str] = field(default_factory=set)  # the leg keys of its rows
    whole: dict[str, list[dict]] = field(default_factory=dict)  # calls it holds whole (prepare_legs)
    tally: Any = None  # the rollup additions of ``calls`` (store.tally_of), gathered while making
    staged: int | None = None  # the token of ``calls`` put in the stage (store.stage), on SQLite
    replaced: list[tuple] | None = None  # replay: what its records made before (store.made_rows)


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
        self.store = Store(site.pk)
        self.numbering_key: tuple | None = None
        self.extensions: dict[str, tuple] = {}
        self.warned_keys: set[str] = set()  # oversized leg keys already reported
        self.refresh(site)

    def refresh(self, site: Site) -> None:
        """Take the site's current settings, extensions, account codes and tariffs.

        The number normalizer (and its cache of numbers already read) is kept
        while the site's country, area code and access codes stay the same.
        """
        self.site = site
        self.load_extensions()
        self.in_plan = site.extension_matcher()
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
        self.classifier = Classifier(
            site_code=site.code, plan_text=site.extension_plan, extensions=self.extensions, in_plan=self.in_plan,
            category_of=lambda number: self.normalize(number).category, import_internal=site.import_internal,
            keep_loose_legs=site.merge_legs,
        )
        self.rows = RowMaker(
            site_id=site.pk, site_code=site.code, currency=site.currency, extensions=self.extensions,
            normalize=self.normalize.lookup, rate=self.rater.rate, lookup_account=self.accounts.lookup,
            adapt_instant=self.store.adapt_instant, widths=CALL_WIDTHS, discard_widths=DISCARD_WIDTHS,
            merging=site.merge_legs, parse_instant=parse_instant,
        )

    def load_extensions(self) -> None:
        """Read the site's extensions into the mapping the classifier and the row maker share."""
        rows = Extension.objects.filter(site=self.site).values_list(
            "number", "pk", "person_id", "cost_center_id", "person__cost_center_id", "billing_enabled",
            "person__masked_digits",
        )
        extensions = self.extensions
        extensions.clear()
        # number -> (extension id, person id, cost center id, billing enabled, digits to mask, number)
        for number, pk, person_id, own_cc, person_cc, billing, masked in rows:
            extensions[number] = (pk, person_id, own_cc or person_cc, billing, masked or 0, number)
        # An alias or DID number stands for its extension: the call is the extension's.
        by_id = {entry[0]: entry for entry in extensions.values()}
        for alias, extension_id in ExtensionAlias.objects.filter(site=self.site).values_list("number", "extension_id"):
            if extension_id in by_id:
                extensions.setdefault(alias, by_id[extension_id])

    def is_extension(self, number: str) -> bool:
        return bool(number) and (number in self.extensions or self.in_plan(number))

    # --- a batch ------------------------------------------------------------
    def process(self, segment_id: int, records: list[SpoolRecord], outcomes: list, replacing: bool = False) -> Batch:
        """The rows of a batch's calls and discarded calls, the segment's counters, a summary;
        ``replacing``: the rows replace what the records made before (a replay)."""
        site = self.site
        summary = MineSummary()
        found = self.classifier.sort(records, outcomes)
        if found.unknown and site.auto_acquire:
            summary.auto_acquired += self.acquire(sorted(n for n in found.unknown if n))
        made = self.rows.make(segment_id, found.calls, found.loose, found.discards)
        summary.records = len(records)
        summary.calls.update(made.by_direction)
        summary.discarded.update({DISCARD_REASON_LABELS[r]: n for r, n in made.discarded.items()})
        summary.skipped_internal = found.skipped_internal
        summary.skipped_other = found.skipped_other
        summary.rejected = found.rejected
        summary.unrated = made.unrated
        summary.unallocated_accounts = made.unallocated
        summary.loose_legs = len(made.loose)
        counts = {
            "records": len(records), "calls": len(made.calls) - len(made.loose),
            "discarded": len(made.discards) - len(made.loose), "skipped_internal": found.skipped_internal,
            "skipped_other": found.skipped_other,
        }
        sample = [r.raw for r in records[:READING_SAMPLE]] if not made.calls else []
        # Done while making, not writing: the writing is the one part the two processes
        # of a backlog take in turn.
        keys, whole = self.prepare_legs(made.calls)
        # A replay's rollup additions are staged once the subtractions of the rows they replace
        # are added to them (ReplayJob.make_batch, SQLite): they mostly cancel out.
        tally = self.store.tally_of(made.calls, stage=not replacing)
        calls = self.store.bindable(made.calls)
        return Batch(calls, made.discards, made.loose, counts, summary, sample=sample, keys=keys, whole=whole,
                     tally=tally, staged=self.store.stage(calls))

    def acquire(self, numbers: list[str]) -> int:
        """Create the unknown extensions (unassigned) of a site with automatic acquisition."""
        valid = [n for n in numbers if len(n) <= CALL_WIDTHS["extension_number"]]
        if not valid:
            return 0
        Extension.objects.bulk_create(
            [Extension(site=self.site, number=n, auto_acquired=True) for n in valid], ignore_conflicts=True
        )
        for number, pk, billing in Extension.objects.filter(site=self.site, number__in=valid).values_list(
            "number", "pk", "billing_enabled"
        ):
            self.extensions.setdefault(number, (pk, None, None, billing, 0, number))
        log.info("site %s: %d extensions acquired automatically: %s", self.site.code, len(valid),
                 ", ".join(valid[:20]) + (" …" if len(valid) > 20 else ""))
        return len(valid)

    def write(self, batch: Batch) -> None:
        """Write a batch's rows and merge the calls its legs belong to (in the caller's transaction)."""
        self.store.write(batch.calls, batch.discards, batch.tally, batch.staged)
        self.merge_legs(batch.keys, batch, batch.whole)

    # --- merging the legs of one call ----------------------------------------------
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
        for key, indexes in positions.items():
            legs = [self.batch_leg(call_rows[index]) for index in indexes]
            if len(leg_rules.clusters(legs)) == 1:
                whole[key] = legs
                for index in indexes:
                    call_rows[index] = (*call_rows[index][:KIND_AT], LEG, *call_rows[index][KIND_AT + 1:])
        return set(counts), whole

    @staticmethod
    def batch_leg(row: tuple) -> dict:
        """A row about to be written, as the dict the leg rule reads."""
        leg = dict(zip(CALL_ROW, row, strict=True))
        start = leg["start"]
        if isinstance(start, str):  # SQLite: the naive UTC text the Miner writes
            leg["start"] = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
        leg["id"], leg["kind"] = None, LEG
        return leg

    def merge_legs(self, keys: set[str], batch: Batch, whole: dict[str, list[dict]] | None = None) -> None:
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
        store, limit = self.store, leg_rules.MAX_ROWS_PER_KEY
        whole = whole or {}
        candidates: list[str] = []
        oversized: list[str] = []
        rows_by_key: dict[str, list[dict]] = {}
        for key, count, kind in store.keys_to_merge(keys):
            if key in whole and count == len(whole[key]) <= limit:
                rows_by_key[key] = whole[key]  # all its rows came in this batch
            elif count <= limit:
                candidates.append(key)
            elif kind != CALL:  # merged while it was small enough: undo
                oversized.append(key)
            else:
                self.warn_oversized(key)
        if oversized:
            store.unmerge(oversized)
            for key in oversized:
                self.warn_oversized(key)
        rows_by_key.update(store.rows_of(candidates))
        plan = leg_rules.plan(rows_by_key, self.rater.rate, self.site.transfer_billing, self.legs_in_sequence)
        batch.summary.merged_calls += plan.merged_calls
        batch.summary.merged_legs += plan.merged_legs
        store.apply(plan)
        self.settle_loose_legs(plan, batch)

    def settle_loose_legs(self, plan: leg_rules.Plan, batch: Batch) -> None:
        """Place the loose legs merging looked at: a leg that has a call is no discarded call
        (its provisional discarded call is removed, and it counts with the calls), one without
        a call is a discarded call (made again if it had been removed when the leg had a call).

        A loose leg of this batch is counted neither way yet; one of an earlier batch was
        counted as discarded while it had a discarded call, as a call otherwise."""
        if not plan.joined and not plan.alone:
            return
        mine = set(batch.loose)
        discarded = self.store.discarded_among([*plan.joined, *plan.alone])
        counts: dict[int, Counter] = {}
        for record in plan.joined:
            if record in discarded:  # it had no call until now
                counted = counts.setdefault(record[0], Counter())
                counted["calls"] += 1
                if record not in mine:
                    counted["discarded"] -= 1
        self.store.drop_discards(r for r in plan.joined if r in discarded)
        lost = [r for r in plan.alone if r not in discarded]  # its call is gone
        for record in plan.alone:
            if record in mine or record in lost:
                counted = counts.setdefault(record[0], Counter())
                counted["discarded"] += 1
                if record in mine:
                    batch.summary.discarded[DISCARD_REASON_LABELS[UNRECOGNISED]] += 1
                else:
                    counted["calls"] -= 1
        if lost:
            self.rediscard(lost)
        for segment_id, counted in counts.items():
            self.store.count(segment_id, counted)

    def rediscard(self, records: list[tuple[int, int]]) -> None:
        """Discarded calls again for loose legs whose call is gone, with their raw text."""
        days = dict(SpoolSegment.objects.filter(pk__in={s for s, _ in records}).values_list("pk", "day"))
        found = []
        for segment_id, offset in records:
            read, _ = self.spool.read(self.site.code, days[segment_id], offset, 1)
            if read:
                found.append((read[0], segment_id))
        now = self.store.adapt_instant(dt.datetime.now(UTC))
        rows = [
            self.rows.discard_row(segment_id, record, UNRECOGNISED,
                                   "a leg of no extension whose call is gone: no extension of the site took part",
                                   None, "", now)
            for record, segment_id in found
        ]
        self.store.write([], rows)

    # --- mining new records ------------------------------------------------------
    def segment(self, day: dt.date) -> SpoolSegment:
        segment, _ = SpoolSegment.objects.get_or_create(site=self.site, day=day)
        return segment

    def mine(self, batch_size: int | None = None, max_batches: int | None = None,
             after_batch: Callable[[], bool | None] | None = None) -> MineSummary:
        """Mine every record appended since the checkpoints; returns what was done.

        ``after_batch`` is called after each batch is committed (the Miner service beats
        its heartbeat there, so a long backlog never looks like a stalled service); when
        it returns true, mining stops after the batches under way (a stop request)."""
        batch_size = batch_size or settings.MINER_BATCH_SIZE
        summary = MineSummary()
        started = time.perf_counter()
        sample: list[bytes] = []
        stop = False

        def committed(report) -> bool:
            nonlocal stop
            batch_summary, batch_sample = report
            summary.add(batch_summary)
            if len(sample) < READING_SAMPLE:
                sample.extend(batch_sample[:READING_SAMPLE - len(sample)])
            if after_batch is not None and after_batch():
                stop = True
            return stop

        for day in self.spool.days(self.site.code):
            segment = self.segment(day)
            if segment.mined_offset >= self.spool.size(self.site.code, day):
                continue
            job = MiningJob(self, day, segment, batch_size)
            state = segment.driver_state if segment.mined_offset else self.state_before(segment)
            try:
                done = turns.run(job, segment.mined_offset, state, committed,
                                 max_batches=max_batches, label=f"site {self.site.code}")
            except ConcurrentMining:
                # Another process (the Miner service, another import) committed these
                # records first; they are its to report, and it goes on with the site.
                log.info("site %s: %s is being mined by another process", self.site.code, segment)
                continue
            if max_batches is not None:
                max_batches -= len(done.reports)
            if stop or (max_batches is not None and max_batches <= 0):
                break
        summary.seconds = time.perf_counter() - started
        self.check_reading(summary, sample)
        return summary

    def state_before(self, segment: SpoolSegment) -> Any:
        """The driver state a day file starts with: where the day file before it ended (a
        header line read yesterday still names today's columns when a stream runs past
        midnight), or nothing."""
        return (SpoolSegment.objects.filter(site=self.site, day__lt=segment.day).order_by("-day")
                .values_list("driver_state", flat=True).first())

    def summary_of(self, ranges: list[tuple[dt.date, int, int]], tags: set[str]) -> MineSummary:
        """What became of some records, whoever mined them: those carrying one of ``tags``
        within the (day, start, end) byte ranges of the site's day files, read back from the
        calls and discarded calls they made. The rest were skipped (internal calls of a site
        that does not keep them, headers, other non-call lines), counted as "not calls"; those
        past the checkpoint are counted as ``pending``."""
        summary = MineSummary()
        label = DISCARD_REASON_LABELS
        for day, start, end in ranges:
            segment = SpoolSegment.objects.filter(site=self.site, day=day).first()
            mined_to = segment.mined_offset if segment is not None else 0
            offset, offsets = start, []
            while offset < end:
                records, offset = self.spool.read(self.site.code, day, offset, 50000)
                if not records:
                    break
                offsets.extend(r.offset for r in records if r.offset < end and r.source in tags)
            summary.records += len(offsets)
            waiting = sum(1 for offset in offsets if offset >= mined_to)
            summary.pending += waiting
            offsets = [offset for offset in offsets if offset < mined_to]
            if not offsets:
                continue
            rows, reasons = self.store.outcomes(segment.pk, offsets)
            made = set(reasons)
            legs: Counter = Counter()
            for offset, direction, kind, extension, key in rows:
                made.add(offset)
                if not extension:  # a loose leg: discarded while it has no call
                    if offset not in reasons:
                        summary.loose_legs += 1
                    continue
                summary.calls[direction] += 1
                if kind == LEG:
                    legs[key] += 1
            summary.discarded.update(label[reason] for reason in reasons.values())
            summary.merged_calls += len(legs)
            summary.merged_legs += sum(legs.values())
            summary.skipped_other += len(offsets) - len(made)
        return summary

    # --- the wrong driver ----------------------------------------------------------
    def check_reading(self, summary: MineSummary, sample: list[bytes]) -> None:
        """Say plainly when a site's records are not being read as calls (most skipped as
        "not calls" or unreadable, none a call), naming the driver that reads them; clear
        the notice once records make calls again."""
        site = self.site
        if summary.total_calls or summary.loose_legs:
            self.reading_fine()
            return
        unread = summary.skipped_other + summary.rejected
        if summary.records < READING_CHECK_RECORDS or unread * 2 <= summary.records:
            return
        now = timezone.now()
        if site.reading_problem and site.reading_problem_at and now - site.reading_problem_at < READING_NOTICE_EVERY:
            summary.reading_problem = site.reading_problem
            return
        problem = reading_problem(site, summary, sample)
        Site.objects.filter(pk=site.pk).update(reading_problem=problem, reading_problem_at=now)
        site.reading_problem, site.reading_problem_at = problem, now
        summary.reading_problem = problem
        log.warning("%s", problem)

    def reading_fine(self) -> None:
        """Records make calls: the site has no reading problem (any more)."""
        site = self.site
        if site.reading_problem:
            Site.objects.filter(pk=site.pk).update(reading_problem="", reading_problem_at=None)
            site.reading_problem, site.reading_problem_at = "", None

    # --- reprocessing discarded calls ----------------------------------------
    def reprocess(self, batch_size: int | None = None) -> MineSummary:
        """Make the site's discarded calls again (after adding extensions, say).

        Those that now make calls become calls; the others are discarded again
        with their current reason.
        """
        segments = SpoolSegment.objects.filter(
            pk__in=DiscardedCall.objects.filter(site=self.site).values("segment_id")).order_by("day")
        return self.replay(segments, lambda segment: (self.store.discard_offsets(segment.pk), None), batch_size)

    def recalculate(
        self, first: dt.date | None = None, last: dt.date | None = None, batch_size: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> MineSummary:
        """Make the calls of a period again from the spool.

        Exactly as a fresh import would make them today: the current driver,
        directory, tariffs and rules apply. The period is local days of the site
        by call start; without one, every call. The calls (and legs) that started
        in the period are made again, and so are the records that made nothing
        (skipped as "not calls", say, under the wrong driver) and would now make a
        call in the period. Calls outside the period, and discarded calls (which
        ``reprocess`` makes again), are not touched.
        """
        zone = self.site.zone
        since = dt.datetime.combine(first, dt.time(), tzinfo=zone) if first else None
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) if last else None
        # A call is received when it ends or later, never a day before it started (a day file is
        # a UTC day of receipt): the day files from the day before the period on can hold its
        # calls, and its records that made nothing — a file imported weeks later too.
        segments = SpoolSegment.objects.filter(site=self.site).order_by("day")
        if since:
            segments = segments.filter(day__gte=(since.astimezone(UTC) - dt.timedelta(days=1)).date())

        def chosen(segment: SpoolSegment):
            # Only a day file that skipped records can hold records that made nothing.
            skipped = segment.skipped_internal + segment.skipped_other
            return self.store.call_offsets(segment.pk, since, until), (since, until) if skipped else None

        return self.replay(segments, chosen, batch_size, progress)

    def replay(
        self, segments, chosen: Callable[[SpoolSegment], tuple], batch_size: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> MineSummary:
        """Run chosen raw records through the pipeline again and replace what they made.

        ``chosen(segment)`` gives, one day file at a time, the offsets of the records
        to make again and a period (UTC instants, either open) or None: with a
        period, the file's records that made nothing are made again too when they
        now make a call that starts in it. Each day file is read again from its
        start, so the driver sees its header lines exactly as the first time; only
        the chosen records go on through the pipeline. Whatever they made before (a
        call or a discarded call) is replaced, batch by batch, in one transaction
        per batch.
        """
        batch_size = batch_size or settings.MINER_BATCH_SIZE
        summary = MineSummary()
        started = time.perf_counter()
        self.load_extensions()
        for segment in segments:
            wanted, period = chosen(segment)
            if not wanted and period is None:
                continue
            job = ReplayJob(self, segment, wanted, batch_size, period)
            turns.run(job, 0, self.state_before(segment),
                      self.replay_reporter(summary, segment, len(wanted), progress),
                      label=f"site {self.site.code}")
        summary.seconds = time.perf_counter() - started
        if summary.total_calls:
            self.reading_fine()
        return summary

    @staticmethod
    def replay_reporter(summary: MineSummary, segment: SpoolSegment, wanted: int, progress) -> Callable:
        """What a replay does with each committed batch's summary: add it up, say how far it is."""
        done = 0

        def committed(batch_summary: MineSummary) -> None:
            nonlocal done
            summary.add(batch_summary)
            done += batch_summary.reprocessed
            if progress:
                progress(f"{segment}: {done}/{max(wanted, done)} records made again")

        return committed

    def commit_replayed(self, segment_id: int, batch: Batch) -> None:
        """Replace what a replayed batch's records made before, in one transaction."""
        with transaction.atomic():
            # The calls these records were legs of are merged again below.
            keys: set[str] = set()
            removed_calls, removed_discards = self.store.remove_made(segment_id, batch.offsets, keys,
                                                                     batch.replaced)
            self.store.write(batch.calls, batch.discards, batch.tally, batch.staged)
            self.merge_legs(keys | batch.keys, batch, batch.whole)
            counts = batch.counts
            self.store.count(segment_id, {
                "calls": counts["calls"] - removed_calls,
                "discarded": counts["discarded"] - removed_discards,
                "skipped_internal": counts["skipped_internal"],
                "skipped_other": counts["skipped_other"],
            })

    @staticmethod
    def now_makes(outcome, since: dt.datetime | None, until: dt.datetime | None) -> bool:
        """Whether a driver outcome is a call record starting in the period."""
        if type(outcome) is not CdrRecord:
            return False
        start = outcome.start
        return (since is None or start >= since) and (until is None or start < until)


class TimedJob:
    """What both jobs share for :func:`calltally.miner.turns.run`: each batch's summary is told how
    long reading, making and writing it took (``MineSummary.phases``). A subclass says what each
    phase does (``read_batch``, ``make_batch``, ``commit_batch``). A process always makes the batch
    it has just read, so the reading time waits on the job for the making."""

    reading = 0.0

    def read(self, offset: int, state: Any):
        started = time.perf_counter()
        read = self.read_batch(offset, state)
        self.reading = time.perf_counter() - started
        return read

    def make(self, parsed) -> Batch:
        started = time.perf_counter()
        batch = self.make_batch(parsed)
        batch.summary.phases.update(reading=self.reading, making=time.perf_counter() - started)
        return batch

    def commit(self, batch: Batch, offset: int, end: int, state: Any):
        started = time.perf_counter()
        report = self.commit_batch(batch, offset, end, state)
        batch.summary.phases["writing"] += time.perf_counter() - started
        return report

    def before_fork(self) -> None:
        # A backlog worth a partner names many destinations: the geocoder's tables took each
        # process half a second to load on its first batch.
        preload_numbering()


class MiningJob(TimedJob):
    """Mining a day file from its checkpoint: read and parse a batch, make its rows, commit them
    with the checkpoint's claim."""

    def __init__(self, miner: SiteMiner, day: dt.date, segment: SpoolSegment, batch_size: int):
        self.miner = miner
        self.day = day
        self.segment_id = segment.pk
        self.batch_size = batch_size
        self.driver = miner.site.make_driver()
        self.state: Any = _UNSET  # the driver state this process's driver holds now

    def read_batch(self, offset: int, state: Any):
        records, end = self.miner.spool.read(self.miner.site.code, self.day, offset, self.batch_size)
        if not records:
            return None
        parse_from(self, state)
        outcomes = parse_records(self.driver, records)
        self.state = self.driver.get_state()
        return (records, outcomes), end, self.state

    def make_batch(self, parsed) -> Batch:
        return self.miner.process(self.segment_id, *parsed)

    def commit_batch(self, batch: Batch, offset: int, end: int, state: Any) -> tuple:
        with transaction.atomic():
            self.miner.store.claim(self.segment_id, offset, end, state, batch.counts)
            self.miner.write(batch)
        return batch.summary, batch.sample

    def backlog(self, offset: int) -> int:
        return self.miner.spool.size(self.miner.site.code, self.day) - offset


class ReplayJob(TimedJob):
    """Making chosen records of a day file again (recalculation, reprocessing). The file is
    read from its start, so the driver sees its header lines exactly as the first time; only
    the chosen records go on.

    A record is chosen when its offset is ``wanted``, or (with a ``period``) when
    it made nothing before and now makes a call that starts in the period. A
    record that made nothing was counted as skipped: it is taken off that count
    (as an internal call when it reads as one, else as "not a call").
    """

    def __init__(self, miner: SiteMiner, segment: SpoolSegment, wanted: Offsets, batch_size: int,
                 period: tuple | None):
        self.miner = miner
        self.segment_id = segment.pk
        self.day = segment.day
        self.end = segment.mined_offset
        self.wanted = wanted
        self.batch_size = batch_size
        self.made = miner.store.made_offsets(segment.pk) if period is not None else None
        self.since, self.until = period if period is not None else (None, None)
        # Without a scan for records that made nothing, reading stops after the last wanted one.
        self.last = wanted.last() if self.made is None else self.end
        self.driver = miner.site.make_driver()
        self.state: Any = _UNSET

    def read_batch(self, offset: int, state: Any):
        miner = self.miner
        parse_from(self, state)
        while offset < self.end and offset <= self.last:
            records, next_offset = miner.spool.read(miner.site.code, self.day, offset, self.batch_size)
            if not records:
                return None
            # Parse everything so the driver's state follows the file; keep only the chosen ones.
            outcomes = parse_records(self.driver, records)
            self.state = self.driver.get_state()
            chosen, chosen_outcomes = [], []
            skipped = Counter()
            for record, outcome in zip(records, outcomes, strict=True):
                if record.offset in self.wanted:
                    pass
                elif (self.made is None or record.offset in self.made
                      or not SiteMiner.now_makes(outcome, self.since, self.until)):
                    continue
                else:
                    verdict = miner.classifier.classify(outcome) if type(outcome) is CdrRecord else None
                    internal = type(verdict) is tuple and verdict[0] == INTERNAL
                    skipped["skipped_internal" if internal else "skipped_other"] += 1
                chosen.append(record)
                chosen_outcomes.append(outcome)
            if chosen:
                return (chosen, chosen_outcomes, skipped), next_offset, self.state
            offset = next_offset
        return None

    def make_batch(self, parsed) -> Batch:
        chosen, outcomes, skipped = parsed
        batch = self.miner.process(self.segment_id, chosen, outcomes, replacing=True)
        for name, value in skipped.items():
            batch.counts[name] -= value
        batch.offsets = [record.offset for record in chosen]
        batch.summary.reprocessed = len(batch.offsets)
        batch.sample = []
        # What the records made before, read now rather than in the writers' turn: their
        # subtraction joins the batch's additions here, so the turn adds up only what changed.
        # Not on PostgreSQL: its turn fetches the rows again as it deletes them, and fetching
        # them twice cost more (5 s per 200,000 calls) than the turn saved (1 s).
        store = self.miner.store
        if store.sqlite:
            batch.replaced = store.made_rows(self.segment_id, batch.offsets)
            batch.tally.add((row[1:] for row in batch.replaced), -1)
            batch.tally.stage()
        return batch

    def commit_batch(self, batch: Batch, offset: int, end: int, state: Any) -> MineSummary:
        self.miner.commit_replayed(self.segment_id, batch)
        return batch.summary

    def backlog(self, offset: int) -> int:
        return self.end - offset


_UNSET = object()


def parse_from(job, state: Any) -> None:
    """Give the job's driver the state parsing must go on from, unless it holds it already
    (in one process the state it handed on comes back; from the partner, a copy)."""
    if state is not job.state:
        job.driver.set_state(state)
        job.state = state


def reading_problem(site: Site, summary: MineSummary, sample: list[bytes]) -> str:
    """What to tell an administrator whose site's records make no calls, naming the
    driver that reads them (``calltally drivers detect`` on the same records)."""
    told = (f"site {site.code}: none of {summary.records} records became a call with the {site.driver} driver "
            f"({summary.skipped_other} skipped as not calls, {summary.rejected} unreadable).")
    candidates = [c for c in detect(b"\n".join(sample_lines(b"\n".join(sample)))) if c.confidence >= 0.5]
    best = next((c for c in candidates if c.driver != site.driver or c.options), None)
    if best is None:
        return told + " No driver reads them as calls: check what the PBX sends (calltally spool show " \
                      f"--site {site.code})."
    options = "".join(f" --driver-option {key}={option_text(value)}" for key, value in best.options.items())
    return (told + f" They read as {best.driver} records ({best.confidence:.0%} of a sample): "
            f"calltally site set {site.code} --driver {best.driver}{options}, then calltally recalc "
            f"--site {site.code} makes their calls.")


def option_text(value) -> str:
    return shlex.quote(value if isinstance(value, str) else json.dumps(value))


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

