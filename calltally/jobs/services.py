"""Background jobs: asking for a recalculation or a reprocess run, and running the queue.

Anyone may *submit* (the web pages, after checking the account's scope); a
*worker* runs the queue: the Scheduler service in its own thread, or
``calltally job run`` in the foreground. The run itself is the Miner's — the
same :class:`~calltally.miner.pipeline.SiteMiner` replay that ``calltally
recalc`` and ``calltally reprocess`` use — so a job makes exactly the calls the
CLI would.

How a queue shared by several workers stays safe:

* **claim by update.** A worker takes a job with ``UPDATE … SET state='running'
  WHERE id = … AND state = 'queued'``; the database lets one such statement
  succeed, so two Schedulers (two hosts on one PostgreSQL) never run one job.
  Every later write of the worker says ``AND claimed_by = me``, so a worker that
  lost its job (see next) cannot overwrite what another does with it.
* **heartbeat.** While a job runs, a thread of its worker beats the job's
  ``heartbeat`` every few seconds, whatever the run is doing (a long scan of a
  day file commits nothing for a while). A running job whose heartbeat is older
  than :data:`STALE_SECONDS`, or whose worker's process is gone (same host), was
  abandoned: it is queued again, up to :data:`MAX_ATTEMPTS` runs, then failed
  with a message. Running it again is safe: recalculation and reprocessing
  replace what they made.
* **one job per site at a time.** A job waits while another runs on its site
  (or on every site): two replays of one day file at once would each replace the
  other's rows. The claim checks it in its own statement (on PostgreSQL two
  workers claiming two jobs of one site in the same instant could still both
  start; a call is unique by its raw record, so the worst case is one of them failing
  with that error, to be submitted again).
* **progress** is written once per committed batch of the Miner (10,000 records),
  at most once a second — never per record.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import Exists, F, Q

from calltally import claims
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.models import Call, DiscardedCall
from calltally.claims import worker_name
from calltally.miner.pipeline import SiteMiner
from calltally.miner.report import MineSummary
from calltally.miner.store import Offsets
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment

from .models import ACTIVE, Job, Kind, State

log = logging.getLogger("calltally.jobs")
UTC = dt.UTC
# A running job's worker beats this often…
BEAT_SECONDS = 5
# …and a job not beaten for this long was abandoned (several missed beats, not one slow one).
STALE_SECONDS = 60
# Runs of one job before an abandoned one is failed instead of queued again (a job that kills
# its worker every time must not loop for ever).
MAX_ATTEMPTS = 3
# Progress is written at most this often (and after the last batch).
PROGRESS_SECONDS = 1.0

ACTIONS = {Kind.RECALCULATE: Action.RECALCULATE, Kind.REPROCESS: Action.REPROCESS}


class JobRefused(ValueError):
    """A job that cannot be submitted or cancelled, with the reason in words."""


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


# --- submitting and cancelling --------------------------------------------------------------
def submit(kind: str, site: Site | None = None, *, first: dt.date | None = None, last: dt.date | None = None,
           reason: str = "", user=None, request=None) -> Job:
    """Queue a job and audit it; refuses (:class:`JobRefused`) a job identical to one queued or
    running, and a period that ends before it starts.

    The caller has checked that the account may operate ``site`` (every site: an administrator).
    """
    if kind not in Kind.values:
        raise JobRefused(f"{kind!r} is not a kind of job ({', '.join(Kind.values)}).")
    if kind == Kind.REPROCESS and (first or last):
        raise JobRefused("A reprocess run takes no period: it makes every discarded call again.")
    if kind == Kind.RECALCULATE and reason:
        raise JobRefused("A recalculation takes no discard reason.")
    if first and last and last < first:
        raise JobRefused("The period ends before it starts.")
    same = Job.objects.filter(kind=kind, site=site, first=first, last=last, reason=reason or "",
                              state__in=ACTIVE).first()
    if same is not None:
        raise JobRefused(f"The same job is already {same.get_state_display().lower()}: job #{same.pk}.")
    job = Job.objects.create(kind=kind, site=site, first=first, last=last, reason=reason or "",
                             created_by=user if user is not None and user.pk is not None else None)
    audit.record(request, ACTIONS[kind], obj=job, user=user if request is None else None, stage="submitted",
                 job=job.pk, site=site.code if site else None, first=first, last=last, reason=reason or None)
    return job


def cancel(job: Job, user=None, request=None) -> Job:
    """Cancel a queued job at once; a running one stops after the batch under way."""
    if Job.objects.filter(pk=job.pk, state=State.QUEUED).update(
            state=State.CANCELLED, finished=now(), message=f"Cancelled by {_name(user, request)} before it ran."):
        job.refresh_from_db()
        return job
    if Job.objects.filter(pk=job.pk, state=State.RUNNING).update(cancel_requested=True):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    raise JobRefused(f"Job #{job.pk} has {job.get_state_display().lower()} already: there is nothing to cancel.")


def _name(user, request) -> str:
    user = user or getattr(request, "user", None)
    return user.get_username() if user is not None and getattr(user, "is_authenticated", False) else "a command"


# --- abandoned jobs ----------------------------------------------------------------------------
def abandoned(job: Job, at: dt.datetime) -> bool:
    """Whether a running job's worker has stopped working on it."""
    if claims.holder_gone(job.claimed_by):
        return True  # killed without a word (kill -9, power cut): no need to wait for the beat to age
    return job.heartbeat is None or (at - job.heartbeat).total_seconds() > STALE_SECONDS


def recover_abandoned(at: dt.datetime | None = None) -> list[Job]:
    """Queue again (or fail, after :data:`MAX_ATTEMPTS` runs) the running jobs whose worker stopped."""
    at = at or now()
    recovered = []
    for job in Job.objects.filter(state=State.RUNNING):
        if not abandoned(job, at):
            continue
        since = f"since {job.heartbeat:%Y-%m-%d %H:%M:%S} UTC" if job.heartbeat else "ever"
        lost = f"Its worker {job.claimed_by} stopped working on it (no heartbeat {since})"
        if job.attempts >= MAX_ATTEMPTS:
            values = {"state": State.FAILED, "finished": at,
                      "message": f"{lost}, after {job.attempts} runs: failed. Look in the log of that worker "
                                 "(logs/calltally.log) for why it stopped, then submit the job again."}
        else:
            values = {"state": State.QUEUED, "claimed_by": "", "heartbeat": None,
                      "message": f"{lost}; queued again (run {job.attempts} of at most {MAX_ATTEMPTS})."}
        # Only if nobody touched it meanwhile: two workers recovering one job do it once.
        if Job.objects.filter(pk=job.pk, state=State.RUNNING, claimed_by=job.claimed_by,
                              heartbeat=job.heartbeat).update(**values):
            log.warning("job #%s: %s", job.pk, values["message"])
            job.refresh_from_db()
            recovered.append(job)
    return recovered


# --- running the queue -------------------------------------------------------------------------
def next_candidates() -> list[Job]:
    """The queued jobs that may start now, oldest first: none on a site another job is working on."""
    running = list(Job.objects.filter(state=State.RUNNING).values_list("site_id", flat=True))
    queued = Job.objects.filter(state=State.QUEUED).order_by("created", "id")
    if None in running:
        return []  # a job on every site is running: everything else waits
    if running:
        queued = queued.exclude(site_id__in=running).filter(site__isnull=False)
    return list(queued[:20])


def claim(job: Job, worker: str) -> bool:
    """Take a queued job for ``worker``: true for exactly one of any number of workers trying,
    and false while another job runs on its site (checked in the same statement)."""
    at = now()
    busy = Job.objects.filter(state=State.RUNNING)
    if job.site_id is not None:
        busy = busy.filter(Q(site_id=job.site_id) | Q(site__isnull=True))
    return bool(Job.objects.filter(pk=job.pk, state=State.QUEUED).exclude(Exists(busy)).update(
        state=State.RUNNING, claimed_by=worker, started=at, heartbeat=at, finished=None, done=0,
        attempts=F("attempts") + 1))


def run_next(worker: str | None = None, stop: threading.Event | None = None) -> Job | None:
    """Run the oldest queued job that may start (after recovering abandoned ones); the job run, or None."""
    worker = worker or worker_name()
    recover_abandoned()
    for candidate in next_candidates():
        if claim(candidate, worker):
            job = Job.objects.select_related("site", "created_by").get(pk=candidate.pk)
            execute(job, worker, stop)
            job.refresh_from_db()
            return job
    return None


def run_queued(worker: str | None = None, stop: threading.Event | None = None) -> list[Job]:
    """Run queued jobs one after another until none is left (or ``stop`` is set)."""
    ran = []
    while stop is None or not stop.is_set():
        job = run_next(worker, stop)
        if job is None:
            break
        ran.append(job)
    return ran


class Beater:
    """Beats a running job's heartbeat from a thread, every :data:`BEAT_SECONDS`, until stopped."""

    def __init__(self, job_id: int, worker: str):
        self.job_id, self.worker = job_id, worker
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, name=f"job-{job_id}-heartbeat", daemon=True)

    def loop(self) -> None:
        try:
            while not self.done.wait(BEAT_SECONDS):
                try:
                    Job.objects.filter(pk=self.job_id, claimed_by=self.worker).update(heartbeat=now())
                except Exception as exc:  # the database may be briefly busy: beat again next time
                    log.warning("job #%s: heartbeat failed: %s", self.job_id, exc)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Beater:
        # Inside the caller's transaction (a test's) no other connection sees the job, and on
        # SQLite the beat would wait for the caller's write lock: the run is its own proof of life.
        if not connection.in_atomic_block:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()


class Progress:
    """Counts the records a job has made again and writes the count (batched, see the module's
    doc); says when the run must stop: the job was cancelled, or the worker is stopping."""

    def __init__(self, job: Job, worker: str, stop: threading.Event | None):
        self.job, self.worker, self.stop = job, worker, stop
        self.done = 0
        self.written = 0.0
        self.cancelled = False

    @property
    def stopping(self) -> bool:
        return self.cancelled or (self.stop is not None and self.stop.is_set())

    def batch(self, summary: MineSummary) -> bool:
        """One committed batch: count it; true when the run must stop after it."""
        self.done += summary.reprocessed
        if time.monotonic() - self.written >= PROGRESS_SECONDS:
            self.write()
        return self.stopping

    def write(self) -> None:
        self.written = time.monotonic()
        mine = Job.objects.filter(pk=self.job.pk, claimed_by=self.worker)
        mine.update(done=self.done, heartbeat=now())
        if mine.filter(cancel_requested=True).exists():
            self.cancelled = True

    def until_stopped(self, items: Iterable) -> Iterable:
        """The items (day files) one by one, none once the run must stop."""
        for item in items:
            if self.stopping:
                return
            yield item


class JobMiner(SiteMiner):
    """The Miner's replay, reporting each committed batch to a job's :class:`Progress` and ending
    when the job must stop (after the batch under way: nothing is left half made)."""

    def __init__(self, site: Site, progress: Progress):
        self.progress = progress
        super().__init__(site)

    def replay(self, segments, chosen, batch_size=None, progress=None):
        return super().replay(self.progress.until_stopped(segments), chosen, batch_size, progress)

    def replay_reporter(self, summary, segment, wanted, progress) -> Callable:
        committed = SiteMiner.replay_reporter(summary, segment, wanted, progress)

        def reported(batch_summary: MineSummary) -> bool:
            committed(batch_summary)
            return self.progress.batch(batch_summary)

        return reported

    def reprocess_reason(self, reason: str) -> MineSummary:
        """Make again the site's discarded calls of one reason (all: :meth:`reprocess`)."""
        if not reason:
            return self.reprocess()
        discards = DiscardedCall.objects.filter(site=self.site, reason=reason)
        segments = SpoolSegment.objects.filter(pk__in=discards.values("segment_id")).order_by("day")

        def chosen(segment: SpoolSegment):
            offsets = discards.filter(segment_id=segment.pk).order_by("raw_offset").values_list(
                "raw_offset", flat=True)
            return Offsets(offsets.iterator(chunk_size=50000)), None

        return self.replay(segments, chosen)


def sites_of(job: Job) -> list[Site]:
    return [job.site] if job.site_id else list(Site.objects.order_by("code"))


def work_of(job: Job, sites: list[Site]) -> int:
    """The records the job will make again, counted before it starts (the progress bar's 100%).

    A recalculation may also turn records that made nothing into calls; those are found
    while it runs, so its count can pass this one (the bar stops at 100%)."""
    if job.kind == Kind.REPROCESS:
        discards = DiscardedCall.objects.filter(site__in=sites)
        return (discards.filter(reason=job.reason) if job.reason else discards).count()
    where = Q(pk__in=[])
    for site in sites:
        period = Q(site=site, segment__isnull=False)
        if job.first:
            period &= Q(start__gte=dt.datetime.combine(job.first, dt.time(), tzinfo=site.zone))
        if job.last:
            period &= Q(start__lt=dt.datetime.combine(job.last + dt.timedelta(days=1), dt.time(), tzinfo=site.zone))
        where |= period
    return Call.rows.filter(where).count()


def perform(job: Job, progress: Progress) -> MineSummary:
    """The job's run, site by site; what it made."""
    started = time.perf_counter()
    sites = sites_of(job)
    Job.objects.filter(pk=job.pk, claimed_by=progress.worker).update(total=work_of(job, sites))
    summary = MineSummary()
    for site in sites:
        if progress.stopping:
            break
        miner = JobMiner(site, progress)
        if job.kind == Kind.RECALCULATE:
            summary.add(miner.recalculate(job.first, job.last))
        else:
            summary.add(miner.reprocess_reason(job.reason))
    summary.seconds = time.perf_counter() - started
    return summary


def execute(job: Job, worker: str, stop: threading.Event | None = None) -> None:
    """Run a job this worker has claimed, and record how it ended."""
    log.info("job #%s (%s, %s) started by %s", job.pk, job.kind, job.scope_text(), worker)
    progress = Progress(job, worker, stop)
    values: dict = {}
    summary = None
    try:
        with Beater(job.pk, worker):
            summary = perform(job, progress)
            progress.write()
    except Exception as exc:  # a failed job is recorded, and the worker goes on with the next one
        log.exception("job #%s failed", job.pk)
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        values = {"state": State.FAILED, "message": f"Failed after {progress.done} records: {text}"[:4000]}
    else:
        result = {"recalculated" if job.kind == Kind.RECALCULATE else "reprocessed": summary.reprocessed,
                  **summary.as_dict(), "unreadable": summary.rejected}
        if progress.cancelled:
            values = {"state": State.CANCELLED, "result": result,
                      "message": f"Cancelled after {progress.done} records; what they made is kept."}
        elif progress.stopping:
            # The worker is stopping (the Scheduler was stopped): the next worker starts it over.
            values = {"state": State.QUEUED, "claimed_by": "", "heartbeat": None, "result": None,
                      "message": f"Its worker {worker} stopped after {progress.done} records; queued again."}
        else:
            values = {"state": State.SUCCEEDED, "result": result, "message": ""}
    finished = values["state"] != State.QUEUED
    if finished:
        values["finished"] = now()
    values["done"] = progress.done
    Job.objects.filter(pk=job.pk, claimed_by=worker).update(**values)
    log.info("job #%s %s: %s records", job.pk, values["state"], progress.done)
    if finished:
        audit.record(None, ACTIONS[job.kind], obj=job, user=job.created_by, stage=str(values["state"]),
                     job=job.pk, site=job.site.code if job.site_id else None, message=values.get("message", ""),
                     result=values.get("result"))
