"""Heartbeats: each service says, every few seconds, that it is alive."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback

from django.db import close_old_connections

from .models import ServiceHeartbeat

log = logging.getLogger("calltally.services")
UTC = dt.UTC
BEAT_SECONDS = 5


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


class Heartbeat:
    """Records a service's start, its beats, its last error and its stop."""

    def __init__(self, name: str):
        self.name = name

    def start(self) -> None:
        ServiceHeartbeat.objects.update_or_create(
            name=self.name,
            defaults={"pid": os.getpid(), "host": socket.gethostname(), "started": now(), "beat": now(),
                      "stopped": None},
        )

    def beat(self) -> None:
        ServiceHeartbeat.objects.filter(name=self.name).update(beat=now(), pid=os.getpid())

    def error(self, exc: BaseException) -> None:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.error("%s: %s", self.name, text)
        ServiceHeartbeat.objects.filter(name=self.name).update(last_error=text[:2000], last_error_at=now())

    def stop(self) -> None:
        ServiceHeartbeat.objects.filter(name=self.name, pid=os.getpid()).update(stopped=now())

    def run_in_thread(self, stop: threading.Event) -> threading.Thread:
        """Beat from a background thread until ``stop`` is set (for the web server)."""

        def loop() -> None:
            while not stop.wait(BEAT_SECONDS):
                try:
                    close_old_connections()
                    self.beat()
                except Exception as exc:  # the database may be briefly busy; try again next beat
                    log.warning("%s: heartbeat failed: %s", self.name, exc)

        thread = threading.Thread(target=loop, name=f"{self.name}-heartbeat", daemon=True)
        thread.start()
        return thread
