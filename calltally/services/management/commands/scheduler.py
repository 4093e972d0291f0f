"""`calltally scheduler`: the periodic jobs of CallTally.

Today's jobs: the silent-site alarm (a site that received nothing for its
configured business hours is logged once when it falls silent, and once when
it speaks again) and, when LDAP is configured, the directory sync. Report
e-mails and other alerts join this loop as their features land. Beside the
loop, a thread runs the queued background jobs (``calltally.jobs``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from calltally import conf
from calltally.services.heartbeat import BEAT_SECONDS, Heartbeat
from calltally.services.status import silent_sites

log = logging.getLogger("calltally.scheduler")
UTC = dt.UTC


@dataclass
class Job:
    """A function run every ``every`` seconds (first run: at start)."""

    name: str
    every: float
    run: Callable[[], None]
    next_run: float = 0.0


class SilentSiteAlarm:
    """Logs a site's change between speaking and silent, not every check."""

    def __init__(self) -> None:
        self.silent: set[str] = set()

    def __call__(self) -> None:
        now = dt.datetime.now(UTC)
        current = {item["site"]: item for item in silent_sites(now)}
        for code in sorted(current.keys() - self.silent):
            item = current[code]
            last = item["last_received"].isoformat() if item["last_received"] else "never"
            log.warning("site %s is silent: nothing received for %s business hours (threshold %s h, last record %s)",
                        code, item["hours"], item["threshold"], last)
        for code in sorted(self.silent - current.keys()):
            log.info("site %s receives records again", code)
        self.silent = set(current)


def ldap_sync() -> None:
    from calltally.directory.ldap.config import LdapConfig
    from calltally.directory.ldap.sync import sync_directory

    report = sync_directory(LdapConfig.from_env())
    for line in report.lines():
        log.info("ldap sync: %s", line)


def background_jobs(stop: threading.Event, heartbeat: Heartbeat) -> threading.Thread:
    """Run the queued background jobs (recalculations, reprocess runs from the web) in a thread of
    their own, so a long one never holds up the periodic jobs nor the Scheduler's heartbeat."""
    from calltally.jobs import services as job_queue

    def loop() -> None:
        try:
            while not stop.is_set():
                try:
                    job_queue.run_queued(stop=stop)
                except Exception as exc:  # the database may be briefly unreachable: try again later
                    log.exception("background jobs failed")
                    heartbeat.error(exc)
                stop.wait(BEAT_SECONDS)
                close_old_connections()
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=loop, name="background-jobs", daemon=True)
    thread.start()
    return thread


def build_jobs() -> list[Job]:
    jobs = [Job("silent-sites", 60 * conf.env_int("CALLTALLY_SILENT_CHECK_MINUTES", 5, minimum=1), SilentSiteAlarm())]
    hours = conf.env_int("CALLTALLY_LDAP_SYNC_HOURS", 24, minimum=0)
    if os.environ.get("CALLTALLY_LDAP_URL") and hours:
        jobs.append(Job("ldap-sync", 3600 * hours, ldap_sync))
    return jobs


class Command(BaseCommand):
    help = "Run the Scheduler: the silent-site alarm and, when LDAP is configured, the periodic directory sync."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once, then exit")

    def handle(self, *args, **options):
        try:
            jobs = build_jobs()
        except SystemExit as exc:  # a wrong CALLTALLY_* value
            raise CommandError(str(exc.code)) from None
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        heartbeat = Heartbeat("scheduler")
        heartbeat.start()
        self.stdout.write("CallTally scheduler started: " + ", ".join(job.name for job in jobs))
        worker = None if options["once"] else background_jobs(stop, heartbeat)
        try:
            while not stop.is_set():
                for job in jobs:
                    if time.monotonic() >= job.next_run:
                        job.next_run = time.monotonic() + job.every
                        try:
                            job.run()
                        except Exception as exc:  # one failing job must not stop the others
                            log.exception("scheduler job %s failed", job.name)
                            heartbeat.error(exc)
                heartbeat.beat()
                if options["once"]:
                    from calltally.jobs import services as job_queue

                    job_queue.run_queued(stop=stop)
                    break
                stop.wait(BEAT_SECONDS)
                close_old_connections()  # a long-lived service must not keep a broken connection
        finally:
            stop.set()
            if worker is not None:
                worker.join()  # a job under way stops after its batch and is queued again
            heartbeat.stop()
        self.stdout.write("CallTally scheduler stopped")
