"""`calltally job list [--json] | run | cancel ID`: the background jobs the web pages queue."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.jobs import services
from calltally.jobs.models import Job


def as_dict(job: Job) -> dict:
    return {
        "id": job.pk, "kind": job.kind, "site": job.site.code if job.site_id else None,
        "from": job.first.isoformat() if job.first else None, "to": job.last.isoformat() if job.last else None,
        "reason": job.reason or None, "state": job.state, "done": job.done, "total": job.total,
        "created_by": job.created_by.get_username() if job.created_by_id else None,
        "created": job.created.isoformat(), "started": job.started.isoformat() if job.started else None,
        "finished": job.finished.isoformat() if job.finished else None, "claimed_by": job.claimed_by or None,
        "message": job.message, "result": job.result,
    }


class Command(BaseCommand):
    help = ("Background jobs (recalculations and reprocess runs asked for on the web): list them, run the queued "
            "ones now in the foreground (an installation without `calltally up`), cancel one.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|run|cancel")
        listing = sub.add_parser("list", help="the jobs, newest first")
        listing.add_argument("--json", action="store_true")
        listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50, 0: all)")
        run = sub.add_parser("run", help="run the queued jobs now, one after another, then exit")
        run.add_argument("--json", action="store_true")
        cancel = sub.add_parser("cancel", help="cancel a queued job, or stop a running one after its current batch")
        cancel.add_argument("id", type=int)

    def handle(self, *args, **options):
        return getattr(self, options["action"])(options)

    def list(self, options):
        jobs = Job.objects.select_related("site", "created_by")
        if options["limit"]:
            jobs = jobs[: options["limit"]]
        jobs = list(jobs)
        if options["json"]:
            print_json([as_dict(job) for job in jobs], self.stdout)
            return
        if not jobs:
            self.stdout.write("no jobs: recalculations and reprocess runs asked for on the web are listed here")
            return
        self.stdout.write(f"{'ID':>5}  {'KIND':<11}  {'STATE':<9}  {'PROGRESS':>15}  {'CREATED (UTC)':<16}  WHAT")
        for job in jobs:
            progress = f"{job.done}/{job.total}"
            self.stdout.write(f"{job.pk:>5}  {job.kind:<11}  {job.state:<9}  {progress:>15}  "
                              f"{job.created:%Y-%m-%d %H:%M}  {job.scope_text()}"
                              + (f"  ({job.message})" if job.message else ""))

    def run(self, options):
        stop = threading.Event()
        # Ctrl-C or SIGTERM: the job under way stops after its batch and is queued again.
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            ran = services.run_queued(stop=stop)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if options["json"]:
            print_json([as_dict(job) for job in ran], self.stdout)
            return
        if not ran:
            self.stdout.write("no queued job")
        for job in ran:
            self.stdout.write(f"job #{job.pk} {job.kind} ({job.scope_text()}): {job.state}, {job.done} records"
                              + (f" — {job.message}" if job.message else ""))
        if any(job.state == "failed" for job in ran):
            raise CommandError("a job failed (its message above; details in logs/calltally.log)")

    def cancel(self, options):
        job = Job.objects.filter(pk=options["id"]).first()
        if job is None:
            raise CommandError(f"there is no job {options['id']}; `calltally job list` shows them")
        try:
            job = services.cancel(job)
        except services.JobRefused as exc:
            raise CommandError(str(exc)) from None
        if job.state == "cancelled":
            self.stdout.write(f"job #{job.pk} cancelled")
        else:
            self.stdout.write(f"job #{job.pk} is running: it stops after the batch under way")
