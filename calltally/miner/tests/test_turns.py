"""A backlog mined by two processes in turn (calltally.miner.turns), end to end."""

from __future__ import annotations

import os

import pytest

from calltally import forking
from calltally.calls.models import Call
from calltally.directory.models import Extension
from calltally.drivers.asterisk_csv.synth import synthesize
from calltally.miner import turns
from calltally.miner.pipeline import SiteMiner
from calltally.spool.models import SpoolSegment
from calltally.spool.services import spool_file

COMPARED = ("raw_offset", "kind", "leg_key", "start", "direction", "disposition", "talk_seconds", "ring_seconds",
            "extension_number", "remote_number", "e164", "cost", "account_code")


@pytest.fixture
def backlog(make_site, spool, tmp_path, settings):
    """Two identical sites with the same 3,000 records (ring groups included) spooled."""
    path = tmp_path / "Master.csv"
    path.write_bytes(b"\n".join(synthesize(3000, seed=5, ring_groups=0.3, extensions=range(1000, 1050))) + b"\n")
    sites = []
    for code in ("ONE", "TWO"):
        site = make_site(code, timezone="UTC", internal_digits_min=4, internal_digits_max=4)
        Extension.objects.bulk_create([Extension(site=site, number=str(n)) for n in range(1000, 1050)])
        spool_file(site, path)
        sites.append(site)
    return sites


@pytest.fixture
def single_threaded(monkeypatch):
    """Earlier tests in this process may leave idle threads behind (servers of the collector
    tests); the partner is only forked from a single-threaded process, which these tests stand for."""
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)


@pytest.fixture
def forks(monkeypatch):
    """Counts the partner processes started (and lets every backlog fork one)."""
    monkeypatch.setattr(turns, "MIN_BACKLOG_BYTES", 0)
    started = []
    real = turns._Partner.start
    monkeypatch.setattr(turns._Partner, "start", classmethod(lambda cls, *args: started.append(1) or real(*args)))
    return started


def made_calls(site):
    return sorted(Call.rows.filter(site=site).values_list(*COMPARED), key=repr)


@pytest.mark.django_db(transaction=True)
def test_a_backlog_mined_in_turn_by_two_processes_gives_exactly_the_calls_of_one_process(
    backlog, settings, forks, single_threaded
):
    one, two = backlog
    settings.PROCESSES = 1
    single = SiteMiner(one).mine(batch_size=700)
    assert not forks
    settings.PROCESSES = 2
    shared = SiteMiner(two).mine(batch_size=700)
    assert forks, "the partner process was not used"
    timings = {"seconds": 0, "seconds_by_phase": {}}
    assert shared.as_dict() | timings == single.as_dict() | timings
    assert shared.merged_calls > 0
    assert made_calls(one) == made_calls(two)
    segment = SpoolSegment.objects.get(site=two)
    assert segment.mined_offset == SpoolSegment.objects.get(site=one).mined_offset > 0
    assert (segment.records, segment.calls, segment.discarded) == (
        SpoolSegment.objects.filter(site=one).values_list("records", "calls", "discarded").get())

    # Recalculation takes turns too, and makes the same calls again.
    forks.clear()
    Extension.objects.filter(site__in=[one, two], number="1001").delete()  # so that something changes
    settings.PROCESSES = 1
    SiteMiner(one).recalculate(batch_size=700)
    settings.PROCESSES = 2
    SiteMiner(two).recalculate(batch_size=700)
    assert forks, "recalculation did not use the partner process"
    assert made_calls(one) == made_calls(two)
    assert not Call.rows.filter(site=two, extension_number="1001").exists()
    segments = SpoolSegment.objects.filter(site__in=[one, two]).order_by("site__code")
    assert [(s.calls, s.discarded) for s in segments][0] == [(s.calls, s.discarded) for s in segments][1]


@pytest.mark.django_db(transaction=True)
def test_a_partner_that_fails_leaves_only_whole_batches_and_the_next_run_finishes(
    backlog, settings, forks, monkeypatch, single_threaded
):
    _, site = backlog
    settings.PROCESSES = 2
    real_process = SiteMiner.process
    made = []
    miner = os.getpid()

    def process_then_fail(self, *args):
        made.append(1)
        if os.getpid() != miner and len(made) == 2:  # in the partner: its second batch fails
            raise ValueError("simulated failure")
        return real_process(self, *args)

    monkeypatch.setattr(SiteMiner, "process", process_then_fail)
    with pytest.raises(RuntimeError, match="helper process for site TWO failed:(.|\n)*simulated failure"):
        SiteMiner(site).mine(batch_size=700)
    segment = SpoolSegment.objects.get(site=site)
    assert Call.rows.filter(site=site, segment__isnull=False).count() == segment.calls > 0
    # Whole batches only: the records counted are a multiple of the batch size.
    counted = segment.calls + segment.discarded + segment.skipped_internal + segment.skipped_other
    assert counted == segment.records and counted % 700 == 0 and 0 < counted < 3000
    monkeypatch.setattr(SiteMiner, "process", real_process)
    SiteMiner(site).mine(batch_size=700)
    segment.refresh_from_db()
    assert segment.records == 3000
    assert Call.rows.filter(site=site, segment__isnull=False).count() == segment.calls


@pytest.mark.django_db(transaction=True)
def test_a_stop_request_ends_both_processes_after_the_batches_under_way(backlog, settings, forks, single_threaded):
    _, site = backlog
    settings.PROCESSES = 2
    summary = SiteMiner(site).mine(batch_size=300, after_batch=lambda: True)
    segment = SpoolSegment.objects.get(site=site)
    assert 0 < summary.records == segment.records < 3000
    assert summary.records <= 2 * 300  # this process's batch and the partner's, no more
    assert SiteMiner(site).mine(batch_size=300).records == 3000 - segment.records


@pytest.mark.django_db
def test_inside_a_transaction_the_miner_mines_alone(settings, monkeypatch):
    settings.PROCESSES = 2
    monkeypatch.setattr(turns, "MIN_BACKLOG_BYTES", 0)
    assert not turns.worth_it(10**9)  # a test's transaction: the partner could not see its data
    settings.PROCESSES = 1
    assert not turns.worth_it(10**9)


def test_a_process_with_other_threads_is_never_forked(settings, monkeypatch):
    import threading
    from types import SimpleNamespace

    settings.PROCESSES = 2
    monkeypatch.setattr(turns, "MIN_BACKLOG_BYTES", 0)
    monkeypatch.setattr(forking, "connection", SimpleNamespace(in_atomic_block=False))
    count = threading.active_count
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    assert turns.worth_it(10**9)
    monkeypatch.setattr(forking.threading, "active_count", count)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not turns.worth_it(10**9)  # a lock that thread holds would stay locked in the partner
    finally:
        release.set()
        other.join()
