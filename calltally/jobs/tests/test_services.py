"""The job queue: submitting, claiming by update, abandoned jobs, progress, cancelling, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.jobs import services
from calltally.jobs.models import Job, Kind, State

pytestmark = pytest.mark.django_db
MARCH_2 = dt.date(2026, 3, 2)


def test_a_second_identical_job_is_refused_while_the_first_waits(priced):
    first = services.submit(Kind.RECALCULATE, priced, first=MARCH_2, last=MARCH_2)
    with pytest.raises(services.JobRefused, match=f"#{first.pk}"):
        services.submit(Kind.RECALCULATE, priced, first=MARCH_2, last=MARCH_2)
    # Another period is another job.
    services.submit(Kind.RECALCULATE, priced, first=MARCH_2)


def test_a_period_that_ends_before_it_starts_is_refused(priced):
    with pytest.raises(services.JobRefused, match="ends before it starts"):
        services.submit(Kind.RECALCULATE, priced, first=MARCH_2, last=MARCH_2 - dt.timedelta(days=1))


def test_submitting_is_audited_with_the_jobs_action(priced, django_user_model):
    user = django_user_model.objects.create_user("ops")
    job = services.submit(Kind.REPROCESS, priced, user=user)
    event = AuditEvent.objects.get(action="reprocess")
    assert (event.username, event.object_id, event.details["stage"], event.details["site"]) == (
        "ops", str(job.pk), "submitted", "HQ")


def test_a_recalculation_job_prices_the_period_again_after_a_rate_change(priced, cli):
    priced.plan_file.write_text(priced.plan_file.read_text().replace('"0.0300"', '"0.0600"'))
    cli("tariff", "load", str(priced.plan_file))
    job = services.submit(Kind.RECALCULATE, priced, first=MARCH_2, last=MARCH_2)
    assert services.run_next("test:1") == job
    job.refresh_from_db()
    assert job.state == State.SUCCEEDED and job.finished is not None
    assert Call.objects.get(direction="outbound").cost == Decimal("0.1700")
    # The result keeps the run's figures, as `calltally recalc --json` prints them.
    assert job.result["recalculated"] == job.done == job.total == 4
    assert job.result["calls"] == 4 and job.percent == 100


def test_progress_is_recorded_batch_by_batch(priced, settings):
    settings.MINER_BATCH_SIZE = 1  # one record a batch: the count moves between batches
    seen = []
    real = services.Progress.write

    def spying(progress):
        real(progress)
        seen.append(Job.objects.get(pk=progress.job.pk).done)

    job = services.submit(Kind.RECALCULATE, priced)
    services.Progress.write = spying
    try:
        services.run_next("test:1")
    finally:
        services.Progress.write = real
    assert seen[:4] == [1, 2, 3, 4]
    job.refresh_from_db()
    assert (job.done, job.total, job.state) == (4, 4, State.SUCCEEDED)


def test_a_reprocess_job_of_one_reason_leaves_the_other_discards_alone(priced):
    Extension.objects.create(site=priced, number="203")
    others = set(DiscardedCall.objects.exclude(reason="extension_not_configured").values_list("pk", "created"))
    assert others  # the fixture's unreadable lines
    job = services.submit(Kind.REPROCESS, priced, reason="extension_not_configured")
    services.run_next("test:1")
    job.refresh_from_db()
    assert job.state == State.SUCCEEDED and job.result["reprocessed"] == 1
    assert Call.objects.filter(extension_number="203").count() == 1
    # Made again, they would be new rows: the same rows are still there.
    assert set(DiscardedCall.objects.values_list("pk", "created")) == others


def test_a_queued_job_is_cancelled_at_once_and_never_runs(priced):
    job = services.submit(Kind.REPROCESS, priced)
    assert services.cancel(job).state == State.CANCELLED
    assert services.run_next("test:1") is None
    with pytest.raises(services.JobRefused, match="nothing to cancel"):
        services.cancel(job)


def test_a_running_job_asked_to_cancel_stops_after_its_batch(priced, settings):
    settings.MINER_BATCH_SIZE = 1
    job = services.submit(Kind.RECALCULATE, priced)
    real = services.Progress.batch

    def cancel_after_first(progress, summary):
        if progress.done == 0:
            Job.objects.filter(pk=progress.job.pk).update(cancel_requested=True)
        return real(progress, summary)

    services.Progress.batch = cancel_after_first
    try:
        services.run_next("test:1")
    finally:
        services.Progress.batch = real
    job.refresh_from_db()
    assert job.state == State.CANCELLED and job.done == 1
    assert "Cancelled after 1 records" in job.message


def test_a_job_whose_worker_stopped_beating_is_queued_again_then_run_by_another(priced):
    job = services.submit(Kind.REPROCESS, priced)
    assert services.claim(job, "elsewhere:1")
    stale = services.now() - dt.timedelta(seconds=services.STALE_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(heartbeat=stale)
    ran = services.run_next("here:2")
    assert ran == job
    job.refresh_from_db()
    assert (job.state, job.claimed_by, job.attempts) == (State.SUCCEEDED, "here:2", 2)


def test_a_job_that_keeps_losing_its_worker_is_failed_with_a_message(priced):
    job = services.submit(Kind.REPROCESS, priced)
    assert services.claim(job, "elsewhere:1")
    Job.objects.filter(pk=job.pk).update(attempts=services.MAX_ATTEMPTS, heartbeat=None)
    assert services.run_next("here:2") is None
    job.refresh_from_db()
    assert job.state == State.FAILED
    assert "elsewhere:1 stopped working on it" in job.message and "submit the job again" in job.message


def test_a_beating_job_on_another_worker_is_left_alone(priced):
    job = services.submit(Kind.REPROCESS, priced)
    assert services.claim(job, "elsewhere:1")
    assert services.recover_abandoned() == []
    assert services.run_next("here:2") is None  # and its site is busy, so nothing else starts either
    job.refresh_from_db()
    assert (job.state, job.claimed_by) == (State.RUNNING, "elsewhere:1")


def test_a_job_of_a_dead_process_on_this_host_is_recovered_without_waiting(priced):
    job = services.submit(Kind.REPROCESS, priced)
    host = services.worker_name().rpartition(":")[0]
    assert services.claim(job, f"{host}:{2**22 + 12345}")  # above the kernel's pid limit: no such process
    assert [j.pk for j in services.recover_abandoned()] == [job.pk]


def test_a_failing_job_is_recorded_as_failed_and_the_worker_goes_on(priced, monkeypatch):
    def broken(job, progress):
        raise RuntimeError("the spool folder is gone")

    monkeypatch.setattr(services, "perform", broken)
    failing = services.submit(Kind.REPROCESS, priced)
    second = services.submit(Kind.RECALCULATE, priced)
    ran = services.run_queued("test:1")
    assert [job.state for job in ran] == [State.FAILED, State.FAILED]
    failing.refresh_from_db()
    assert "RuntimeError: the spool folder is gone" in failing.message
    assert second.pk in [job.pk for job in ran]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_run_it_once(priced):
    job = services.submit(Kind.REPROCESS, priced)
    start = threading.Barrier(4)
    ran: list = []
    errors: list = []

    def worker(name: str) -> None:
        try:
            start.wait()
            ran.append(services.run_next(name))
        except Exception as exc:  # a failure in a thread must fail the test, not vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"racer:{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert [r.pk for r in ran if r is not None] == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.attempts) == (State.SUCCEEDED, 1)
    finished = AuditEvent.objects.filter(action="reprocess", details__stage="succeeded")
    assert finished.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_the_job_runs(priced, monkeypatch):
    job = services.submit(Kind.REPROCESS, priced)
    assert services.claim(job, "here:1")
    Job.objects.filter(pk=job.pk).update(heartbeat=None)
    with services.Beater(job.pk, "here:1"):
        threading.Event().wait(0.5)
    job.refresh_from_db()
    assert job.heartbeat is not None


def test_job_run_runs_the_queue_and_job_list_shows_it(priced, cli):
    job = services.submit(Kind.REPROCESS, priced)
    assert f"job #{job.pk} reprocess (HQ, every reason): succeeded" in cli("job", "run")
    [listed] = json.loads(cli("job", "list", "--json"))
    assert (listed["id"], listed["state"], listed["result"]["reprocessed"]) == (job.pk, "succeeded", 3)
    assert "reprocess" in cli("job", "list")
    assert cli("job", "run") == "no queued job\n"


def test_job_cancel_names_a_missing_job(priced, cli):
    job = services.submit(Kind.REPROCESS, priced)
    assert cli("job", "cancel", str(job.pk)) == f"job #{job.pk} cancelled\n"
    with pytest.raises(CommandError, match="there is no job 999"):
        cli("job", "cancel", "999")
    with pytest.raises(CommandError, match="nothing to cancel"):
        cli("job", "cancel", str(job.pk))


def test_the_result_counts_the_records_the_driver_could_not_read(priced):
    job = services.submit(Kind.REPROCESS, priced)
    services.run_next("test:1")
    job.refresh_from_db()
    # The fixture's prose line and its truncated last line cannot be read; 203's call can.
    assert (job.result["unreadable"], job.result["discarded"]) == (2, 3)


def test_a_job_is_not_claimed_while_another_runs_on_its_site(priced, make_site):
    running = services.submit(Kind.REPROCESS, priced)
    waiting = services.submit(Kind.RECALCULATE, priced)
    elsewhere = services.submit(Kind.RECALCULATE, make_site("ROME"))
    everywhere = services.submit(Kind.RECALCULATE, None)
    assert services.claim(running, "a:1")
    assert not services.claim(waiting, "b:2")
    assert not services.claim(everywhere, "b:2")
    assert services.claim(elsewhere, "b:2")
