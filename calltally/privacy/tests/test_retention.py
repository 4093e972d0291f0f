"""The daily retention run: calls, discarded calls and raw day files older than their limit go,
numbers older than theirs are masked, the rollups stay the sums of the calls left, and a run is
recorded in the audit log."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call, CallRollup, DiscardedCall
from calltally.jobs.models import Periodic
from calltally.jobs.periodic import run_if_due
from calltally.privacy import services
from calltally.spool.models import SpoolSegment
from calltally.system.models import RetentionSettings

from .conftest import ALICE_FRIEND, NOW, UTC
from .helpers import rollups_equal_sums_over_calls

pytestmark = pytest.mark.django_db


def limits(**values):
    row = RetentionSettings.load()
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def test_every_limit_at_zero_keeps_everything(three_days):
    before = Call.rows.count()
    assert services.run_retention(now=NOW, spool=three_days.spool) == "retention: every limit is 0, everything is kept"
    assert Call.rows.count() == before == 15


def test_retention_deletes_exactly_the_calls_older_than_the_limit_and_keeps_the_rollups_exact(three_days):
    limits(calls_days=60)  # 2 April 12:00 UTC
    cutoff = NOW - dt.timedelta(days=60)
    young = set(Call.rows.filter(start__gte=cutoff).values_list("id", flat=True))
    summary = services.run_retention(now=NOW, spool=three_days.spool, batch=2)  # batches of two rows
    assert "deleted 5 call rows, 1 discarded calls" in summary
    assert set(Call.rows.values_list("id", flat=True)) == young
    assert not Call.rows.filter(start__lt=cutoff).exists()
    # The rollup rows of March are gone, not left at zero, and the others equal the sums of the calls.
    assert not CallRollup.objects.filter(day__lt=dt.date(2026, 4, 1)).exists()
    assert rollups_equal_sums_over_calls()


def test_a_second_run_finds_nothing_more_to_do(three_days):
    limits(calls_days=60, raw_days=60, mask_after_days=30)
    services.run_retention(now=NOW, spool=three_days.spool)
    again = services.retention(now=NOW, spool=three_days.spool)
    assert (again.calls, again.discarded, again.raw_days, again.masked_calls) == (0, 0, 0, 0)


def test_raw_day_files_older_than_the_limit_go_once_mined_and_a_day_not_fully_mined_stays(three_days, caplog):
    world = three_days
    # A record received on 5 March that the Miner has not read yet (its day file was never mined).
    world.append(dt.datetime(2026, 3, 5, 8, 0, tzinfo=UTC), b"late record")
    limits(raw_days=60, calls_days=0)
    summary = services.run_retention(now=NOW, spool=world.spool)
    assert world.spool.days("HQ") == [dt.date(2026, 3, 5), dt.date(2026, 4, 20), dt.date(2026, 5, 30)]
    assert "kept 1 raw day files not fully mined yet (HQ/2026-03-05.cdr)" in summary
    assert "HQ/2026-03-05.cdr" in caplog.text and "not fully mined" in caplog.text
    # The calls of the deleted day stay (calls are kept for ever); so does their checkpoint row,
    # which they point into. The discarded call of that day went with its raw record.
    assert Call.rows.filter(start__lt=dt.datetime(2026, 3, 3, tzinfo=UTC)).count() == 5
    assert SpoolSegment.objects.filter(day=dt.date(2026, 3, 2)).exists()
    assert not DiscardedCall.objects.exists()
    # Mining again reads nothing twice and the unmined day is mined now.
    world.mine()
    assert Call.rows.count() == 15


def test_a_deleted_day_file_whose_calls_went_too_leaves_no_checkpoint(three_days):
    limits(calls_days=60, raw_days=60)
    services.run_retention(now=NOW, spool=three_days.spool)
    assert not SpoolSegment.objects.filter(day=dt.date(2026, 3, 2)).exists()
    assert three_days.spool.days("HQ") == [dt.date(2026, 4, 20), dt.date(2026, 5, 30)]


def test_masking_hides_the_last_digits_of_older_numbers_only(three_days):
    limits(mask_after_days=30, mask_digits=4)  # before 2 May
    services.run_retention(now=NOW, spool=three_days.spool)
    old = Call.rows.filter(start__lt=dt.datetime(2026, 5, 2, tzinfo=UTC))
    assert set(old.values_list("remote_number", flat=True)) == {"022345****", "061234****", "069876****"}
    inbound = old.filter(direction="inbound", extension_number="201").first()
    assert inbound.calling_number == "061234****" and inbound.called_number == "201"  # the extension stays
    recent = Call.rows.filter(start__gte=dt.datetime(2026, 5, 2, tzinfo=UTC))
    assert ALICE_FRIEND in set(recent.values_list("remote_number", flat=True))
    # The raw text of an old discarded call is masked too.
    assert DiscardedCall.objects.get().raw_text == "not a call record at all 061234****"
    assert rollups_equal_sums_over_calls()


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(three_days):
    limits(calls_days=60, raw_days=60, mask_after_days=30)
    result = services.retention(now=NOW, spool=three_days.spool, dry_run=True)
    assert (result.calls, result.raw_days, result.masked_calls) == (5, 1, 5)
    assert "would delete 5 call rows" in result.summary()
    assert Call.rows.count() == 15 and len(three_days.spool.days("HQ")) == 3
    assert not AuditEvent.objects.filter(details__task="retention").exists()


def test_each_run_is_recorded_in_the_audit_log_with_its_counts(three_days):
    limits(calls_days=60, raw_days=60, mask_after_days=30)
    services.run_retention(now=NOW, spool=three_days.spool)
    run = services.last_runs().get()
    assert run.details["calls_deleted"] == 5
    assert run.details["raw_days_deleted"] == 1
    assert run.details["calls_masked"] == 5
    assert run.details["limits"]["calls_days"] == 60


def test_the_scheduler_runs_retention_once_a_day(three_days, settings):
    settings.SPOOL_DIR = three_days.spool.root
    limits(calls_days=60)
    every = dt.timedelta(days=1)
    task = functools.partial(services.run_retention, now=NOW)
    assert run_if_due("retention", every, task, at=NOW) is True
    assert run_if_due("retention", every, task, at=NOW + dt.timedelta(hours=2)) is None
    assert Periodic.objects.get(name="retention").last_message.startswith("retention: deleted 5 call rows")
    assert services.last_runs().count() == 1
