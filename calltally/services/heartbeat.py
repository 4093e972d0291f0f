"""Heartbeats: each service says, every few seconds, that it is alive."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback

from django.db import close_old_connections

from .locks import ServiceLock
from .models import ServiceHeartbeat

log = logging.getLogger("calltally.services")
UTC = dt.UTC
BEAT_SECONDS = 5


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


class Heartbeat:
    """Records a service's start, its beats, its last error and its stop.

    A service has one heartbeat row, so it may run once per data dir: :meth:`start`
    first takes the service's lock (``locks.py``) and refuses, naming the process
    that holds it, when another copy runs; :meth:`stop` lets it go.
    """

    def __init__(self, name: str):
        self.name = name
        self.lock = ServiceLock(name)
        self.started = False

    def claim(self) -> None:
        """Take the service's lock, or raise ``locks.AlreadyRunning`` (a CommandError) naming the holder."""
        self.lock.acquire()

    def start(self) -> None:
        self.claim()
        ServiceHeartbeat.objects.update_or_create(
            name=self.name,
            defaults={"pid": os.getpid(), "host": socket.gethostname(), "started": now(), "beat": now(),
                      "stopped": None},
        )
        self.started = True

    def beat(self) -> None:
        ServiceHeartbeat.objects.filter(name=self.name).update(beat=now(), pid=os.getpid())

    def error(self, exc: BaseException) -> None:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.error("%s: %s", self.name, text)
        ServiceHeartbeat.objects.filter(name=self.name).update(last_error=text[:2000], last_error_at=now())

    def stop(self) -> None:
        try:
            if self.started:  # a refused start leaves the running copy's row alone
                self.started = False
                ServiceHeartbeat.objects.filter(name=self.name, pid=os.getpid()).update(stopped=now())
        finally:
            self.lock.release()

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
