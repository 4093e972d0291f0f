"""The Recorder: one asyncio task per enabled connection, each feeding the spool.

:class:`SpoolSink` and :class:`BufferedStatus` implement the collectors'
``Sink`` and ``Status`` (see ``base.py``). Status never writes the database per
record: counts are buffered and the Recorder's main loop flushes them every
few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from django.db import close_old_connections
from django.db.models import F

from calltally.spool.storage import Spool, default_spool

from . import collector_class, schema
from .base import ConfigError, ConnectionConfig

log = logging.getLogger("calltally.recorder")
UTC = dt.UTC
POLL_SECONDS = 2.0
FLUSH_SECONDS = 3.0
BEAT_SECONDS = 5.0
STABLE_RUN_SECONDS = 60.0  # a collector that ran this long starts its back-off over


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


class SpoolSink:
    """Appends a connection's records to its site's spool (fsync'd before returning)."""

    def __init__(self, site_code: str, spool: Spool | None = None):
        self.site_code = site_code
        self.spool = spool or default_spool()

    def append(self, records: list[bytes], source: str) -> int:
        if not records:
            return 0
        return self.spool.append(self.site_code, records, source).count

    def append_file(self, path: Path, name: str, source: str, complete: bool = True):
        from calltally.sites.models import Site
        from calltally.spool.services import spool_file

        close_old_connections()
        try:
            site = Site.objects.get(code=self.site_code)
            return spool_file(site, Path(path), self.spool, source=source, complete=complete, name=name)
        finally:
            close_old_connections()


class BufferedStatus:
    """A connection's state, kept in memory and written by :meth:`flush` (a few times a minute)."""

    def __init__(self, connection_id: int):
        self.connection_id = connection_id
        self.lock = threading.Lock()
        self.state = "starting"
        self.detail = ""
        self.error = ""
        self.error_at: dt.datetime | None = None
        self.pending = 0
        self.last_record_at: dt.datetime | None = None
        self.dirty = True

    def set(self, state: str, detail: str = "") -> None:
        with self.lock:
            if (state, detail) != (self.state, self.detail):
                self.state, self.detail = state, detail[:500]
                self.dirty = True
                if state == "error":
                    self.error, self.error_at = detail, now()
            if state != "error":
                log.debug("connection %s: %s %s", self.connection_id, state, detail)

    def warn(self, text: str) -> None:
        with self.lock:
            self.error, self.error_at = f"warning: {text}", now()
            self.dirty = True

    def fail(self, text: str) -> None:
        with self.lock:
            self.state, self.detail = "error", text.splitlines()[-1][:500] if text else ""
            self.error, self.error_at = text, now()
            self.dirty = True

    def received(self, count: int) -> None:
        if count:
            with self.lock:
                self.pending += count
                self.last_record_at = now()
                self.dirty = True

    def flush(self) -> None:
        """Write the state to ConnectionState (called from a thread, never per record)."""
        from .models import Connection, ConnectionState

        with self.lock:
            if not self.dirty:
                return
            state, detail, error, error_at = self.state, self.detail, self.error, self.error_at
            pending, last = self.pending, self.last_record_at
            self.pending = 0
            self.dirty = False
        try:
            if not Connection.objects.filter(pk=self.connection_id).exists():
                return
            ConnectionState.objects.get_or_create(connection_id=self.connection_id)
            values = {"state": state, "detail": detail}
            if error_at:
                values.update(last_error=error[:5000], last_error_at=error_at)
            if pending:
                values.update(records_total=F("records_total") + pending, last_record_at=last)
            ConnectionState.objects.filter(connection_id=self.connection_id).update(**values, updated=now())
        except Exception:
            with self.lock:  # try again at the next flush
                self.pending += pending
                self.dirty = True
            raise


@dataclass
class Wanted:
    """One connection as the database describes it."""

    id: int
    site_code: str
    kind: str
    parameters: dict
    updated: dt.datetime

    def config(self) -> ConnectionConfig:
        """What the collector runs with: its secrets decrypted, in memory only."""
        return ConnectionConfig(self.id, self.site_code, self.kind,
                                schema.opened(self.kind, self.parameters, self.id))


def wanted_connections() -> dict[int, Wanted]:
    from .models import Connection

    close_old_connections()
    rows = Connection.objects.filter(enabled=True, site__enabled=True).values_list(
        "id", "site__code", "kind", "parameters", "updated")
    return {row[0]: Wanted(*row) for row in rows}


class Running:
    def __init__(self, wanted: Wanted, task: asyncio.Task, status: BufferedStatus):
        self.wanted = wanted
        self.task = task
        self.status = status


class Recorder:
    """Runs, supervises and reconfigures the collectors."""

    def __init__(self, heartbeat=None, spool: Spool | None = None, poll_seconds: float = POLL_SECONDS):
        self.heartbeat = heartbeat
        self.spool = spool
        self.poll_seconds = poll_seconds
        self.running: dict[int, Running] = {}
        self.stopped_statuses: list[BufferedStatus] = []
        self.stop_event: asyncio.Event | None = None

    async def supervise(self, wanted: Wanted, status: BufferedStatus) -> None:
        """Run one collector; restart it with back-off whenever it fails or returns."""
        from .common import Backoff

        backoff = Backoff()
        while True:
            started = time.monotonic()
            try:
                status.set("starting")
                cls = collector_class(wanted.kind)
                sink = SpoolSink(wanted.site_code, self.spool)
                collector = cls(wanted.config(), sink, status)
                await collector.run()
                status.fail(f"the {wanted.kind} collector stopped by itself")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A configuration fault (a secret the storage key cannot decrypt…) says what to do in
                # its message; anything else keeps its type. Neither may carry a secret into the log
                # or the connection's state.
                text = str(exc) if isinstance(exc, ConfigError) else \
                    "".join(traceback.format_exception_only(type(exc), exc)).strip()
                text = schema.scrubbed(text, wanted.kind, wanted.parameters)
                log.error("connection %s (%s/%s): %s", wanted.id, wanted.site_code, wanted.kind, text)
                status.fail(text)
                if self.heartbeat is not None:
                    # The service's last error gets the scrubbed text, never the exception itself.
                    failure = RuntimeError(f"connection {wanted.id} ({wanted.site_code}/{wanted.kind}): {text}")
                    try:
                        await asyncio.to_thread(self._heartbeat_error, failure)
                    except Exception as beat_exc:  # the database may be busy; the state still says it
                        log.warning("recorder: could not record the error: %s", beat_exc)
            if time.monotonic() - started > STABLE_RUN_SECONDS:
                backoff.reset()
            await backoff.sleep()

    def _heartbeat_error(self, exc: BaseException) -> None:
        close_old_connections()
        self.heartbeat.error(exc)

    def start(self, wanted: Wanted) -> None:
        status = BufferedStatus(wanted.id)
        task = asyncio.create_task(self.supervise(wanted, status), name=f"connection-{wanted.id}")
        self.running[wanted.id] = Running(wanted, task, status)
        log.info("connection %s (%s/%s) started", wanted.id, wanted.site_code, wanted.kind)

    async def stop(self, connection_id: int) -> None:
        running = self.running.pop(connection_id)
        running.task.cancel()
        await asyncio.gather(running.task, return_exceptions=True)
        running.status.set("stopped")
        self.stopped_statuses.append(running.status)
        log.info("connection %s stopped", connection_id)

    async def reconcile(self) -> None:
        """Start, stop or restart exactly the connections whose row changed."""
        wanted = await asyncio.to_thread(wanted_connections)
        for connection_id in list(self.running):
            current = wanted.get(connection_id)
            if current is None or current.updated != self.running[connection_id].wanted.updated:
                await self.stop(connection_id)
        for connection_id, item in wanted.items():
            if connection_id not in self.running:
                self.start(item)

    def flush_statuses(self) -> None:
        close_old_connections()
        statuses = [running.status for running in self.running.values()] + self.stopped_statuses
        for status in statuses:
            try:
                status.flush()
            except Exception as exc:
                log.warning("connection %s: could not save its state: %s", status.connection_id, exc)
        self.stopped_statuses = [status for status in self.stopped_statuses if status.dirty]

    def _beat(self) -> None:
        close_old_connections()
        self.heartbeat.beat()

    async def run(self, stop_event: asyncio.Event, once_for: float | None = None) -> None:
        self.stop_event = stop_event
        deadline = time.monotonic() + once_for if once_for else None
        last_flush = last_beat = 0.0
        try:
            while not stop_event.is_set():
                try:
                    await self.reconcile()
                except Exception as exc:  # the database may be briefly unavailable
                    log.warning("recorder: could not read the connections: %s", exc)
                moment = time.monotonic()
                if moment - last_flush >= FLUSH_SECONDS:
                    await asyncio.to_thread(self.flush_statuses)
                    last_flush = moment
                if self.heartbeat is not None and moment - last_beat >= BEAT_SECONDS:
                    try:
                        await asyncio.to_thread(self._beat)
                    except Exception as exc:
                        log.warning("recorder: heartbeat failed: %s", exc)
                    last_beat = moment
                wait = self.poll_seconds
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), wait)
        finally:
            for connection_id in list(self.running):
                await self.stop(connection_id)
            await asyncio.to_thread(self.flush_statuses)
