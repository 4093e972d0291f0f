"""calltally/claims.py, on the rows scheduled reports claim: one holder at a time, a lease that
lapses, a killed holder's claim taken over at once, and a release that only the holder can make."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading

import pytest
from django.db import connection

from calltally import claims
from calltally.schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db
UTC = dt.UTC
HOST = socket.gethostname()


@pytest.fixture
def run() -> ScheduleRun:
    schedule = Schedule.objects.create(name="s", report="call-list", addresses=["a@example.org"])
    return ScheduleRun.objects.create(schedule=schedule, due=dt.datetime(2026, 4, 1, tzinfo=UTC))


def rows():
    return ScheduleRun.objects.filter(state__in=("queued", "running"))


def test_a_row_is_claimed_by_one_worker_only(run):
    assert claims.claim(rows(), run.pk, "host-a:1")
    assert not claims.claim(rows(), run.pk, "host-b:2")
    assert not claims.claim(rows(), run.pk, "host-a:1")  # not twice either: it is held
    run.refresh_from_db()
    assert run.claimed_by == "host-a:1" and run.lease_until is not None


def test_a_claim_whose_filters_no_longer_hold_is_refused(run):
    ScheduleRun.objects.filter(pk=run.pk).update(state="succeeded")
    assert not claims.claim(rows(), run.pk, "host-a:1")


def test_a_lease_that_ran_out_lets_another_worker_take_the_row(run):
    start = claims.now()
    assert claims.claim(rows(), run.pk, "elsewhere:1", lease=dt.timedelta(minutes=5), at=start)
    assert not claims.claim(rows(), run.pk, "elsewhere:2", at=start + dt.timedelta(minutes=4))
    assert claims.claim(rows(), run.pk, "elsewhere:2", at=start + dt.timedelta(minutes=6))
    assert ScheduleRun.objects.get(pk=run.pk).claimed_by == "elsewhere:2"


def test_renewing_keeps_the_row_and_only_the_holder_renews(run):
    assert claims.claim(rows(), run.pk, "host-a:1", lease=dt.timedelta(seconds=1))
    assert claims.renew(ScheduleRun.objects.all(), run.pk, "host-a:1", lease=dt.timedelta(minutes=5))
    assert not claims.renew(ScheduleRun.objects.all(), run.pk, "host-b:2")
    later = claims.now() + dt.timedelta(minutes=4)
    assert not claims.claim(rows(), run.pk, "host-b:2", at=later)


def test_a_killed_holder_on_this_host_loses_its_claim_at_once(run):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert claims.claim(rows(), run.pk, f"{HOST}:{dead.pid}", lease=dt.timedelta(hours=1))
    assert claims.claim(rows(), run.pk, f"{HOST}:{os.getpid()}")
    assert ScheduleRun.objects.get(pk=run.pk).claimed_by == f"{HOST}:{os.getpid()}"


def test_a_live_holder_on_this_host_keeps_its_claim(run):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert claims.claim(rows(), run.pk, f"{HOST}:{alive.pid}", lease=dt.timedelta(hours=1))
        assert not claims.claim(rows(), run.pk, f"{HOST}:{os.getpid()}")
    finally:
        alive.kill()
        alive.wait()


def test_only_the_holder_releases_and_writes_its_result_with_the_release(run):
    assert claims.claim(rows(), run.pk, "host-a:1")
    assert not claims.release(ScheduleRun.objects.all(), run.pk, "host-b:2", state="failed")
    assert ScheduleRun.objects.get(pk=run.pk).state == "queued"
    assert claims.release(ScheduleRun.objects.all(), run.pk, "host-a:1", state="succeeded")
    run.refresh_from_db()
    assert (run.state, run.claimed_by, run.lease_until) == ("succeeded", "", None)


@pytest.mark.django_db(transaction=True)
def test_of_many_threads_claiming_at_once_exactly_one_wins():
    if connection.vendor != "sqlite":
        pytest.skip("threads share one SQLite file here")
    schedule = Schedule.objects.create(name="race", report="call-list", addresses=["a@example.org"])
    target = ScheduleRun.objects.create(schedule=schedule, due=dt.datetime(2026, 4, 1, tzinfo=UTC))
    won, barrier = [], threading.Barrier(6)

    def worker(n: int) -> None:
        barrier.wait()
        try:
            if claims.claim(rows(), target.pk, f"racer:{n}"):
                won.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_a_claim_through_a_relation_is_refused_since_postgresql_would_let_two_racing_workers_win(run):
    with pytest.raises(ValueError, match="own columns only"):
        claims.claim(rows().filter(schedule__enabled=True), run.pk, "host-a:1")
    run.refresh_from_db()
    assert run.claimed_by == ""
