"""Retention: what is older than its limit is deleted or masked, once a day.

:func:`run_retention` is the Scheduler's daily task (``run_if_due("retention", 1 day, …)`` runs it
on one Scheduler only). It applies :class:`calltally.system.models.RetentionSettings`:

* **calls** (``calls_days``): every call row — calls, legs, merged calls — that started before the
  limit is deleted, in batches of one transaction each, and its contribution taken off the
  rollups in the same transaction (:class:`calltally.calls.rollups.Tally`, the Miner's own
  subtraction), so the rollups stay the sums of the calls there are. Discarded calls older than
  the limit go too.
* **raw records** (``raw_days``): a day file of the spool older than the limit is deleted once the
  Miner has mined it to its end; one it has not is kept, and the run says so (and logs a warning).
  The discarded calls of a deleted day file go with it: their raw text *is* the raw record.
* **masking** (``mask_after_days``): the last ``mask_digits`` digits of the numbers of calls older
  than the limit become ``*`` (the call's own extension stays), and so do the last digits of every
  run of seven digits or more in the raw text of old discarded calls.

Every limit at 0 keeps everything. A run is idempotent: a second run the same day finds nothing
left to do. Each run is recorded in the audit log with its counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from calltally import db
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls import rollups
from calltally.calls.models import Call, CallRollup, DiscardedCall
from calltally.directory.privacy import MASK, mask
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool, default_spool
from calltally.system.models import RetentionSettings

from . import rawspool

log = logging.getLogger("calltally.privacy")

# Calls deleted per transaction: short transactions, so the Miner's batches are never held up long.
BATCH = 5000
# The numbers of a call that masking hides (the one equal to the call's own extension stays).
NUMBER_FIELDS = ("remote_number", "dialled_number", "e164", "calling_number", "called_number", "original_called",
                 "final_called", "redirecting")
# In a discarded call's raw text, what looks like a phone number: seven digits or more.
NUMBER_RUN = re.compile(r"\d{7,}")
# The audit events of retention runs are recorded on the settings row, with this task name.
TASK = "retention"
# No narrowing (a dry run narrows each step to what the earlier ones would leave).
EVERYTHING = Q()


@dataclass
class RetentionResult:
    """What a retention run did (or, dry, would do)."""

    dry_run: bool = False
    calls: int = 0
    discarded: int = 0
    raw_days: int = 0
    raw_bytes: int = 0
    kept_unmined: list[str] = field(default_factory=list)
    masked_calls: int = 0
    masked_discarded: int = 0
    limits: dict = field(default_factory=dict)

    def counts(self) -> dict:
        return {"calls_deleted": self.calls, "discarded_deleted": self.discarded, "raw_days_deleted": self.raw_days,
                "raw_bytes_deleted": self.raw_bytes, "raw_days_kept_unmined": self.kept_unmined,
                "calls_masked": self.masked_calls, "discarded_masked": self.masked_discarded}

    def summary(self) -> str:
        if not any(self.limits.get(name) for name in ("calls_days", "raw_days", "mask_after_days")):
            return "retention: every limit is 0, everything is kept"
        verb = "would delete" if self.dry_run else "deleted"
        parts = [f"{self.calls} call rows", f"{self.discarded} discarded calls",
                 f"{self.raw_days} raw day files ({self.raw_bytes} bytes)"]
        text = f"retention: {verb} {', '.join(parts)}; {'would mask' if self.dry_run else 'masked'} " \
               f"{self.masked_calls} calls and {self.masked_discarded} discarded calls"
        if self.kept_unmined:
            text += (f"; kept {len(self.kept_unmined)} raw day files not fully mined yet "
                     f"({', '.join(self.kept_unmined[:5])}{'…' if len(self.kept_unmined) > 5 else ''})")
        return text


def run_retention(*, now: dt.datetime | None = None, dry_run: bool = False, spool: Spool | None = None,
                  batch: int = BATCH, request=None) -> str:
    """Apply the retention limits once (the Scheduler's daily task); returns a one-line summary."""
    return retention(now=now, dry_run=dry_run, spool=spool, batch=batch, request=request).summary()


def retention(*, now: dt.datetime | None = None, dry_run: bool = False, spool: Spool | None = None,
              batch: int = BATCH, request=None) -> RetentionResult:
    """:func:`run_retention` with the whole result (the command prints it)."""
    limits = RetentionSettings.load()
    now = now or timezone.now()
    spool = spool or default_spool()
    result = RetentionResult(dry_run=dry_run, limits={
        "calls_days": limits.calls_days, "raw_days": limits.raw_days,
        "mask_after_days": limits.mask_after_days, "mask_digits": limits.mask_digits})
    # A dry run deletes nothing, so what the later steps would find is narrowed to what is left.
    calls_cutoff = now - dt.timedelta(days=limits.calls_days) if limits.calls_days else None
    if calls_cutoff:
        result.calls = expire_calls(calls_cutoff, batch=batch, dry_run=dry_run)
        result.discarded = expire_discarded(calls_cutoff, dry_run=dry_run)
    if limits.raw_days:
        expire_raw((now - dt.timedelta(days=limits.raw_days)).date(), spool, result, dry_run=dry_run,
                   left=~older_discards(calls_cutoff) if dry_run and calls_cutoff else Q())
    if limits.mask_after_days:
        cutoff = now - dt.timedelta(days=limits.mask_after_days)
        left = Q(start__gte=calls_cutoff) if dry_run and calls_cutoff else Q()
        result.masked_calls = mask_calls(cutoff, limits.mask_digits, batch=batch, dry_run=dry_run, left=left)
        result.masked_discarded = mask_discarded(
            cutoff, limits.mask_digits, dry_run=dry_run,
            left=~older_discards(calls_cutoff) if dry_run and calls_cutoff else Q())
    if not dry_run:
        audit.record(request, Action.DELETE, obj=limits, task=TASK, at=now, limits=result.limits, **result.counts())
    log.info("%s", result.summary())
    return result


# --- calls -----------------------------------------------------------------------------------
def delete_call_rows(ids: list[int]) -> int:
    """Delete these call rows (calls, legs, merged calls) and take them off the rollups, in one
    transaction; returns how many rows went.

    Plain SQL, not ``QuerySet.delete()``: that would send a signal per call and update the
    rollups once per call; here one tally subtracts the whole batch in one statement."""
    if not ids:
        return 0
    removed = 0
    calls = db.table(Call)
    with transaction.atomic(), connection.cursor() as cursor:
        tally = rollups.Tally()
        for among, part in db.in_lists("id", ids):
            if connection.vendor == "postgresql":
                # Only what this statement deleted is subtracted: a second run (the command while
                # the Scheduler runs) deleting the same rows at once subtracts nothing twice.
                cursor.execute(f"DELETE FROM {calls} WHERE {among} RETURNING {db.quoted(rollups.SOURCE)}", part)
                found = cursor.fetchall()
            else:
                # SQLite writes one transaction at a time: the rows read here are the rows deleted.
                cursor.execute(rollups.source_sql(among), part)
                found = cursor.fetchall()
                cursor.execute(f"DELETE FROM {calls} WHERE {among}", part)
            tally.add(found, -1)
            removed += len(found)
        tally.flush()
    return removed


def expire_calls(cutoff: dt.datetime, *, batch: int = BATCH, dry_run: bool = False) -> int:
    """Delete every call row that started before ``cutoff``, batch by batch."""
    old = Call.rows.filter(start__lt=cutoff).order_by()
    if dry_run:
        return old.count()
    total = 0
    while ids := list(old.values_list("id", flat=True)[:batch]):
        total += delete_call_rows(ids)
    if total:
        # A local day runs at most 14 hours past the UTC one: the rows of the deleted calls' days.
        drop_empty_rollups(until=(cutoff + dt.timedelta(days=1)).date())
    return total


def drop_empty_rollups(until: dt.date | None = None) -> int:
    """Remove the rollup rows whose calls all went (of days up to ``until``): they add nothing,
    and a summary would read them."""
    rows = CallRollup.objects.filter(calls=0, answered_calls=0, talk_seconds=0, billed_seconds=0, ring_seconds=0,
                                     cost=0)
    if until is not None:
        rows = rows.filter(day__lte=until)
    deleted, _ = rows.delete()
    return deleted


def older_discards(cutoff: dt.datetime) -> Q:
    """Discarded calls older than ``cutoff``: by the call's start, else when it was received,
    else when it was discarded."""
    return (Q(start__lt=cutoff) | Q(start__isnull=True, received__lt=cutoff)
            | Q(start__isnull=True, received__isnull=True, created__lt=cutoff))


def expire_discarded(cutoff: dt.datetime, *, dry_run: bool = False) -> int:
    old = DiscardedCall.objects.filter(older_discards(cutoff))
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    return deleted


# --- raw records -----------------------------------------------------------------------------
def expire_raw(before: dt.date, spool: Spool, result: RetentionResult, *, dry_run: bool = False,
               left: Q = EVERYTHING) -> None:
    """Delete the day files received before ``before`` that are mined to their end."""
    for site in Site.objects.order_by("code"):
        for day in spool.days(site.code):
            if day >= before:
                break
            size = spool.size(site.code, day)
            segment = SpoolSegment.objects.filter(site=site, day=day).first()
            if segment is None or segment.mined_offset < size:
                # Its records have not all become calls yet: deleting it would lose them.
                name = f"{site.code}/{day.isoformat()}.cdr"
                result.kept_unmined.append(name)
                log.warning("retention: raw day file %s is older than the limit but not fully mined "
                            "(%s of %d bytes): kept until the Miner has read it", name,
                            segment.mined_offset if segment else 0, size)
                continue
            result.raw_days += 1
            result.raw_bytes += size
            if dry_run:
                result.discarded += DiscardedCall.objects.filter(left, segment=segment).count()
                continue
            # The file first: a run killed before the rows are tidied tidies them next time (below),
            # whereas a checkpoint gone before its file would make the Miner mine the file again.
            rawspool.delete_day(spool, site.code, day)
        if not dry_run:
            for segment in SpoolSegment.objects.filter(site=site, day__lt=before).order_by("day"):
                if not spool.path(site.code, segment.day).exists():
                    result.discarded += forget_segment(segment)


def forget_segment(segment: SpoolSegment) -> int:
    """What remains of a deleted day file: its discarded calls go (their raw text is the raw
    record); the checkpoint row stays while calls point into the file (they keep their record's
    address), and goes without them. Returns the discarded calls deleted."""
    with transaction.atomic():
        deleted, _ = DiscardedCall.objects.filter(segment=segment).delete()
        if not Call.rows.filter(segment_id=segment.pk).exists():
            segment.delete()
    return deleted


# --- masking ---------------------------------------------------------------------------------
def masked_values(values: tuple, extension_number: str, digits: int) -> list:
    return [value if not value or value == extension_number else mask(value, digits) for value in values]


def mask_calls(cutoff: dt.datetime, digits: int, *, batch: int = BATCH, dry_run: bool = False,
               left: Q = EVERYTHING) -> int:
    """Mask the numbers of the calls that started before ``cutoff``; returns how many changed.
    A masked number ends with the mask, so calls masked by an earlier run are not read again."""
    pending = (Call.rows.filter(left, start__lt=cutoff).exclude(remote_number="")
               .exclude(remote_number__endswith=MASK).order_by("id"))
    if dry_run:
        return pending.count()
    changed, last = 0, 0
    while rows := list(pending.filter(id__gt=last).values_list("id", "extension_number", *NUMBER_FIELDS)[:batch]):
        last = rows[-1][0]
        updated = []
        for pk, extension_number, *values in rows:
            new = masked_values(values, extension_number, digits)
            if new != values:
                updated.append(Call(pk=pk, **dict(zip(NUMBER_FIELDS, new, strict=True))))
        if updated:
            # Numbers are no part of any rollup: a plain update keeps the rollups as they are.
            with transaction.atomic():
                Call.rows.bulk_update(updated, NUMBER_FIELDS, batch_size=500)
        changed += len(updated)
    return changed


def mask_text(text: str, digits: int) -> str:
    return NUMBER_RUN.sub(lambda found: mask(found.group(0), digits), text)


def mask_discarded(cutoff: dt.datetime, digits: int, *, dry_run: bool = False,
                   left: Q = EVERYTHING) -> int:
    """Mask what looks like a number in the raw text of discarded calls older than ``cutoff``
    (reprocessing reads the spool, never this text, so nothing is lost for it)."""
    changed = []
    for pk, text in DiscardedCall.objects.filter(left, older_discards(cutoff)).values_list("id", "raw_text").iterator():
        new = mask_text(text, digits)
        if new != text:
            changed.append(DiscardedCall(pk=pk, raw_text=new))
    if changed and not dry_run:
        with transaction.atomic():
            DiscardedCall.objects.bulk_update(changed, ["raw_text"], batch_size=500)
    return len(changed)


def last_runs(limit: int = 10):
    """The latest retention runs, newest first, from the audit log."""
    from calltally.audit.models import AuditEvent

    return AuditEvent.objects.filter(object_type=RetentionSettings._meta.label_lower, action=Action.DELETE,
                                     details__task=TASK)[:limit]
