"""Batches made ahead in a forked helper process (calltally.miner.ahead), end to end."""

from __future__ import annotations

import pytest

from calltally import forking
from calltally.calls.models import Call
from calltally.directory.models import Extension
from calltally.drivers.asterisk_csv.synth import synthesize
from calltally.miner import ahead
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
    tests); the helper is only forked from a single-threaded process, which these tests stand for."""
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)


def made_calls(site):
    return sorted(Call.rows.filter(site=site).values_list(*COMPARED), key=repr)


@pytest.mark.django_db(transaction=True)
def test_a_backlog_made_by_a_helper_process_gives_exactly_the_calls_of_one_process(
    backlog, settings, monkeypatch, single_threaded
):
    one, two = backlog
    settings.PROCESSES = 1
    single = SiteMiner(one).mine(batch_size=700)
    settings.PROCESSES = 2
    monkeypatch.setattr(ahead, "MIN_BACKLOG_BYTES", 0)
    forks = []
    real = ahead.batches_ahead
    monkeypatch.setattr(ahead, "batches_ahead", lambda *args: forks.append(1) or real(*args))
    helped = SiteMiner(two).mine(batch_size=700)
    assert forks, "the helper process was not used"
    assert helped.as_dict() | {"seconds": 0} == single.as_dict() | {"seconds": 0}
    assert helped.merged_calls > 0
    assert made_calls(one) == made_calls(two)
    segment = SpoolSegment.objects.get(site=two)
    assert segment.mined_offset == SpoolSegment.objects.get(site=one).mined_offset > 0

    # Recalculation makes its batches in the helper too, and makes the same calls again.
    forks.clear()
    Extension.objects.filter(site__in=[one, two], number="1001").delete()  # so that something changes
    settings.PROCESSES = 1
    SiteMiner(one).recalculate(batch_size=700)
    settings.PROCESSES = 2
    SiteMiner(two).recalculate(batch_size=700)
    assert forks, "recalculation did not use the helper process"
    assert made_calls(one) == made_calls(two)
    assert not Call.rows.filter(site=two, extension_number="1001").exists()
    segments = SpoolSegment.objects.filter(site__in=[one, two]).order_by("site__code")
    assert [(s.calls, s.discarded) for s in segments][0] == [(s.calls, s.discarded) for s in segments][1]


@pytest.mark.django_db(transaction=True)
def test_a_helper_that_fails_leaves_only_whole_batches_and_the_next_run_finishes(
    backlog, settings, monkeypatch, single_threaded
):
    _, site = backlog
    settings.PROCESSES = 2
    monkeypatch.setattr(ahead, "MIN_BACKLOG_BYTES", 0)
    real_process = SiteMiner.process
    made = []

    def process_then_fail(self, *args):
        made.append(1)
        if len(made) == 3:  # in the helper: the third batch cannot be made
            raise ValueError("simulated failure")
        return real_process(self, *args)

    monkeypatch.setattr(SiteMiner, "process", process_then_fail)
    with pytest.raises(RuntimeError, match="helper process for site TWO failed:(.|\n)*simulated failure"):
        SiteMiner(site).mine(batch_size=700)
    segment = SpoolSegment.objects.get(site=site)
    assert Call.rows.filter(site=site, segment__isnull=False).count() == segment.calls > 0
    assert segment.calls + segment.discarded + segment.skipped_internal == 1400  # two whole batches
    monkeypatch.setattr(SiteMiner, "process", real_process)
    SiteMiner(site).mine(batch_size=700)
    segment.refresh_from_db()
    assert segment.records == 3000
    assert Call.rows.filter(site=site, segment__isnull=False).count() == segment.calls


@pytest.mark.django_db
def test_inside_a_transaction_the_miner_makes_its_batches_itself(settings, monkeypatch):
    settings.PROCESSES = 2
    monkeypatch.setattr(ahead, "MIN_BACKLOG_BYTES", 0)
    assert not ahead.worth_it(10**9)  # a test's transaction: the helper could not see its data
    settings.PROCESSES = 1
    assert not ahead.worth_it(10**9)


def test_a_process_with_other_threads_is_never_forked(settings, monkeypatch):
    import threading
    from types import SimpleNamespace

    settings.PROCESSES = 2
    monkeypatch.setattr(ahead, "MIN_BACKLOG_BYTES", 0)
    monkeypatch.setattr(forking, "connection", SimpleNamespace(in_atomic_block=False))
    count = threading.active_count
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    assert ahead.worth_it(10**9)
    monkeypatch.setattr(forking.threading, "active_count", count)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not ahead.worth_it(10**9)  # a lock that thread holds would stay locked in the helper
    finally:
        release.set()
        other.join()
