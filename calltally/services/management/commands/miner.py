"""`calltally miner`: the Miner service, mining every enabled site's spool."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from calltally.miner.pipeline import SiteMiner
from calltally.services.heartbeat import Heartbeat
from calltally.sites.models import Site

log = logging.getLogger("calltally.miner")


class Command(BaseCommand):
    help = "Run the Miner: turn new raw records of every enabled site into calls, continuously."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="mine what is there, then exit")
        parser.add_argument("--batch", type=int, default=None, help="records per transaction")

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        heartbeat = Heartbeat("miner")
        heartbeat.start()
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
                    if stop.is_set():
                        break
                    try:
                        if site.pk in miners:
                            miners[site.pk].refresh(site)
                        else:
                            miners[site.pk] = SiteMiner(site)
                        summary = miners[site.pk].mine(batch_size=options["batch"])
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
                if options["once"]:
                    break
                if not mined:
                    stop.wait(idle)
        finally:
            heartbeat.stop()
        self.stdout.write("CallTally miner stopped")
