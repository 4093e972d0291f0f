"""`calltally miner`: the Miner service, mining every enabled site's spool."""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from calltally.miner.pipeline import SiteMiner
from calltally.services.heartbeat import Heartbeat
from calltally.sites.models import Site

log = logging.getLogger("calltally.miner")
# The most often the Miner beats while it works through a backlog: a beat is a write.
BEAT_EVERY = 1.0


def stop_handler(stop: threading.Event):
    """The Miner's SIGTERM and SIGINT handler: stop after the batches under way.

    (The partner process the Miner forks for a backlog, ``calltally.miner.turns``,
    puts the default handlers back: the Miner ends it, or it ends with the Miner.)
    """

    def handler(signum, frame) -> None:
        stop.set()

    return handler


class Pulse:
    """Called after every committed batch: beats (at most every ``BEAT_EVERY`` seconds) and
    says whether to stop there.

    A backlog can take the Miner many minutes in one pass; beating only between passes
    showed it as degraded all along, and a stop request waited for the whole pass.
    """

    def __init__(self, heartbeat: Heartbeat, stop: threading.Event):
        self.heartbeat = heartbeat
        self.stop = stop
        self.last = time.monotonic()

    def __call__(self) -> bool:
        moment = time.monotonic()
        if moment - self.last >= BEAT_EVERY:
            self.last = moment
            try:
                self.heartbeat.beat()
            except Exception as exc:  # the database may be briefly busy: mining goes on, the next beat retries
                log.warning("miner: heartbeat failed: %s", exc)
        return self.stop.is_set()


class Command(BaseCommand):
    help = "Run the Miner: turn new raw records of every enabled site into calls, continuously."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="mine what is there, then exit")
        parser.add_argument("--batch", type=int, default=None, help="records per transaction")

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop_handler(stop))
        heartbeat = Heartbeat("miner")
        heartbeat.start()
        pulse = Pulse(heartbeat, stop)
        from django.conf import settings

        idle = settings.MINER_IDLE_SECONDS
        self.stdout.write("CallTally miner started")
        # One SiteMiner per site for the life of the service, so that its caches (numbers
        # already normalized) survive from one pass to the next; refreshed every pass.
        miners: dict[int, SiteMiner] = {}
        try:
            while not stop.is_set():
                close_old_connections()
                mined = 0
                for site in Site.objects.filter(enabled=True):
                    if pulse():  # many sites with a little each are a long pass too
                        break
                    try:
                        if site.pk in miners:
                            miners[site.pk].refresh(site)
                        else:
                            miners[site.pk] = SiteMiner(site)
                        summary = miners[site.pk].mine(batch_size=options["batch"], after_batch=pulse)
                    except Exception as exc:  # one broken site must not stop the others
                        heartbeat.error(exc)
                        log.exception("site %s: mining failed", site.code)
                        continue
                    if summary.records:
                        mined += summary.records
                        log.info(
                            "site %s: %d records, %d calls, %d discarded, %d internal skipped in %.2fs",
                            site.code, summary.records, summary.total_calls, summary.total_discarded,
                            summary.skipped_internal, summary.seconds,
                        )
                heartbeat.beat()
                pulse.last = time.monotonic()
                if options["once"]:
                    break
                if not mined:
                    stop.wait(idle)
        finally:
            heartbeat.stop()
        self.stdout.write("CallTally miner stopped")
