"""The Scheduler runs the queued jobs: in a thread beside its loop, and once with --once."""

from __future__ import annotations

import threading
import time

import pytest

from calltally.jobs import services
from calltally.jobs.models import Job, Kind, State
from calltally.services.heartbeat import Heartbeat
from calltally.services.management.commands import scheduler


@pytest.mark.django_db
def test_scheduler_once_runs_the_queued_jobs(priced, cli):
    job = services.submit(Kind.REPROCESS, priced)
    assert "scheduler stopped" in cli("scheduler", "--once")
    job.refresh_from_db()
    assert job.state == State.SUCCEEDED and job.claimed_by == services.worker_name()


@pytest.mark.django_db(transaction=True)
def test_the_schedulers_job_thread_runs_a_job_submitted_while_it_waits(priced):
    stop = threading.Event()
    thread = scheduler.background_jobs(stop, Heartbeat("scheduler"))
    try:
        job = services.submit(Kind.RECALCULATE, priced)
        deadline = time.monotonic() + 30
        while Job.objects.get(pk=job.pk).state != State.SUCCEEDED and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert Job.objects.get(pk=job.pk).state == State.SUCCEEDED
