"""`calltally scheduler`: the periodic work of CallTally.

Its tasks, each in a thread of its own so that a long one (a large report being rendered) never
holds up another (an alert that must go out within minutes):

* **scheduled reports** (:mod:`calltally.schedules`): the occurrences that fell due are run and
  their e-mails delivered;
* **alerts** (:mod:`calltally.alerts`): the rules are checked against the calls that arrived since
  the last check, and against the sites that fell silent;
* **budgets** (:mod:`calltally.budgets`): spending is compared with each budget's thresholds;
* **retention** (:mod:`calltally.privacy`): once a day, what is older than its limit is deleted or
  masked;
* **LDAP sync**, when LDAP is configured;
* the queued **background jobs** (:mod:`calltally.jobs`).

Several Schedulers may run at once (on several hosts sharing a PostgreSQL) and any may be killed:
every piece of work is taken by one of them with one ``UPDATE`` (:mod:`calltally.claims`), so none
is done twice and none is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from calltally import conf
from calltally.services.heartbeat import BEAT_SECONDS, Heartbeat

log = logging.getLogger("calltally.scheduler")
UTC = dt.UTC


@dataclass
class Task:
    """A function the Scheduler calls every ``every`` seconds (first: at start), in its own thread."""

    name: str
    every: float
    run: Callable[[], object]

    def loop(self, stop: threading.Event, heartbeat: Heartbeat) -> threading.Thread:
        def body() -> None:
            try:
                while not stop.is_set():
                    self.once(heartbeat)
                    stop.wait(self.every)
                    close_old_connections()  # a long-lived thread must not keep a broken connection
            finally:
                connection.close()  # this thread's own

        thread = threading.Thread(target=body, name=f"scheduler-{self.name}", daemon=True)
        thread.start()
        return thread

    def once(self, heartbeat: Heartbeat) -> None:
        try:
            self.run()
        except Exception as exc:  # one failing task must not stop the others
            log.exception("scheduler task %s failed", self.name)
            heartbeat.error(exc)


def scheduled_reports() -> None:
    from calltally.schedules.services import run_due

    run_due()


def alerts() -> None:
    from calltally.alerts.services import run_due

    run_due()


def budgets() -> None:
    from calltally.budgets.services import run_due

    run_due()


def retention() -> None:
    from calltally.jobs.periodic import run_if_due
    from calltally.privacy.services import run_retention

    run_if_due("retention", dt.timedelta(days=1), run_retention)


def ldap_sync(every: dt.timedelta) -> Callable[[], None]:
    def task() -> None:
        from calltally.directory.ldap.config import LdapConfig
        from calltally.directory.ldap.sync import sync_directory
        from calltally.jobs.periodic import run_if_due

        def sync() -> str:
            report = sync_directory(LdapConfig.from_env())
            for line in report.lines():
                log.info("ldap sync: %s", line)
            return "; ".join(report.lines())[:2000]

        run_if_due("ldap-sync", every, sync)

    return task


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


def build_tasks() -> list[Task]:
    tasks = [
        Task("scheduled-reports", conf.env_int("CALLTALLY_SCHEDULE_CHECK_SECONDS", 30, minimum=1), scheduled_reports),
        Task("alerts", conf.env_int("CALLTALLY_ALERT_CHECK_SECONDS", 60, minimum=1), alerts),
        Task("budgets", conf.env_int("CALLTALLY_BUDGET_CHECK_SECONDS", 300, minimum=1), budgets),
        Task("retention", 3600, retention),
    ]
    hours = conf.env_int("CALLTALLY_LDAP_SYNC_HOURS", 24, minimum=0)
    if os.environ.get("CALLTALLY_LDAP_URL") and hours:
        tasks.append(Task("ldap-sync", 60, ldap_sync(dt.timedelta(hours=hours))))
    return tasks


class Command(BaseCommand):
    help = ("Run the Scheduler: scheduled reports, alerts, budgets, retention, the periodic LDAP sync and the "
            "queued background jobs.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every task once, then exit")

    def handle(self, *args, **options):
        try:
            tasks = build_tasks()
        except SystemExit as exc:  # a wrong CALLTALLY_* value
            raise CommandError(str(exc.code)) from None
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        heartbeat = Heartbeat("scheduler")
        heartbeat.start()
        self.stdout.write("CallTally scheduler started: " + ", ".join(task.name for task in tasks))
        threads = []
        try:
            if options["once"]:
                for task in tasks:
                    task.once(heartbeat)
                from calltally.jobs import services as job_queue

                job_queue.run_queued(stop=stop)
                heartbeat.beat()
            else:
                threads = [task.loop(stop, heartbeat) for task in tasks]
                threads.append(background_jobs(stop, heartbeat))
                while not stop.wait(BEAT_SECONDS):
                    heartbeat.beat()
                    close_old_connections()
        finally:
            stop.set()
            for thread in threads:
                thread.join()  # a task under way finishes its step; a job stops after its batch
            heartbeat.stop()
        self.stdout.write("CallTally scheduler stopped")
