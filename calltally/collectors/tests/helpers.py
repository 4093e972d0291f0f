"""Shared helpers of the collector tests: free ports, waiting, reading the spool back."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter

from calltally.spool.storage import Spool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def async_wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def spooled(spool: Spool, site_code: str) -> list[bytes]:
    records = []
    for day in spool.days(site_code):
        records.extend(record.raw for record in spool.iter_day(site_code, day))
    return records


def assert_once(records: list[bytes], expected: list[bytes]) -> None:
    counts = Counter(records)
    duplicates = {raw: n for raw, n in counts.items() if n > 1}
    assert not duplicates, f"duplicated records: {list(duplicates)[:5]}"
    missing = [raw for raw in expected if raw not in counts]
    assert not missing, f"{len(missing)} records missing, e.g. {missing[:5]}"
    assert len(records) == len(expected), f"{len(records)} spooled, {len(expected)} expected"


def can_connect(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class RecordingStatus:
    def __init__(self):
        self.states: list[tuple[str, str]] = []
        self.count = 0
        self.warnings: list[str] = []

    def set(self, state: str, detail: str = "") -> None:
        self.states.append((state, detail))

    def received(self, count: int) -> None:
        self.count += count

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    @property
    def state(self) -> str:
        return self.states[-1][0] if self.states else ""
