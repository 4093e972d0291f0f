"""`calltally recorder`: the Recorder service, receiving every enabled connection's records."""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from calltally.collectors.runtime import Recorder
from calltally.services.heartbeat import Heartbeat


class Command(BaseCommand):
    help = ("Run the Recorder: one collector per enabled connection, each appending what it receives "
            "to the spool; connection changes take effect within a few seconds.")

    def add_arguments(self, parser):
        parser.add_argument("--once-for", type=float, default=None, metavar="SECONDS",
                            help="stop by itself after SECONDS (for tests)")

    def handle(self, *args, once_for=None, **options):
        if once_for is not None and once_for <= 0:
            raise CommandError("--once-for must be a positive number of seconds.")
        heartbeat = Heartbeat("recorder")
        heartbeat.start()
        self.stdout.write("CallTally recorder started")
        self.stdout.flush()
        try:
            asyncio.run(self.main(heartbeat, once_for))
        finally:
            try:
                heartbeat.stop()
            except Exception as exc:  # the database may be gone; the heartbeat goes stale instead
                self.stderr.write(f"recorder: could not record the stop: {exc}")
        self.stdout.write("CallTally recorder stopped")

    async def main(self, heartbeat: Heartbeat, once_for: float | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await Recorder(heartbeat=heartbeat).run(stop, once_for=once_for)
