"""The raw CDR spool: append-only day files per site, the source of truth.

Layout: ``<spool root>/<SITE CODE>/<YYYY-MM-DD>.cdr`` (the UTC day the record
was received). Each raw record is one line::

    2026-11-25T21:30:00.123456Z<TAB>source<TAB>record bytes<LF>

The record's bytes are kept exactly; only backslash, CR and LF are escaped
(``\\\\``, ``\\r``, ``\\n``) so that one record stays one line whatever it
holds. ``source`` says where it came from (``import:Master.csv``,
``tcp:10.0.0.5``…). Lines are appended under an exclusive lock and fsync'd
before :meth:`Spool.append` returns, so a record that a collector acknowledged
survives a crash. A crash in the middle of an append can only leave an
unterminated last line; it was never acknowledged, and the next append cuts it
off before writing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

UTC = dt.UTC
READ_CHUNK = 8 * 1024 * 1024

_ESCAPES = {b"\\": b"\\\\", b"\n": b"\\n", b"\r": b"\\r"}
_UNESCAPES = {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}
_UNESCAPE_RE = re.compile(rb"\\(.)", re.DOTALL)
_SOURCE_CLEAN = re.compile(r"[\t\r\n]")


def escape(raw: bytes) -> bytes:
    if b"\\" in raw:
        raw = raw.replace(b"\\", b"\\\\")
    if b"\n" in raw:
        raw = raw.replace(b"\n", b"\\n")
    if b"\r" in raw:
        raw = raw.replace(b"\r", b"\\r")
    return raw


def unescape(stored: bytes) -> bytes:
    if b"\\" not in stored:
        return stored
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES.get(m.group(1), b"\\" + m.group(1)), stored)


def format_instant(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(slots=True, frozen=True)
class AppendResult:
    path: Path
    day: dt.date
    start_offset: int
    end_offset: int
    count: int


class SpoolRecord:
    """One raw record read back from the spool.

    A plain slotted class, not a dataclass: the Miner makes hundreds of
    thousands of these a second, and decodes the receive time and source only
    for the few records that need them.
    """

    __slots__ = ("offset", "raw", "_received", "_source")

    def __init__(self, offset: int, raw: bytes, received: bytes = b"", source: bytes = b""):
        self.offset = offset  # byte offset of the record's line in its day file
        self.raw = raw
        self._received = received
        self._source = source

    @property
    def received(self) -> str:
        """ISO 8601 UTC receive instant, as stored ('' when unknown)."""
        return self._received.decode("ascii", "replace")

    @property
    def source(self) -> str:
        return self._source.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"SpoolRecord({self.offset}, {self.raw!r})"


def clean_source(source: str) -> str:
    """A source as the spool stores it: one line, no tabs, at most 200 characters."""
    return _SOURCE_CLEAN.sub(" ", source)[:200]


def split_lines(data: bytes) -> list[bytes]:
    """Split received bytes into records on LF, CRLF or CR; drop empty lines."""
    return [line for line in data.splitlines() if line]


class Spool:
    """Reads and appends the spool under ``root``."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def site_dir(self, site_code: str) -> Path:
        return self.root / site_code

    def path(self, site_code: str, day: dt.date) -> Path:
        return self.site_dir(site_code) / f"{day.isoformat()}.cdr"

    def days(self, site_code: str) -> list[dt.date]:
        found = []
        folder = self.site_dir(site_code)
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.suffix == ".cdr":
                    try:
                        found.append(dt.date.fromisoformat(entry.stem))
                    except ValueError:
                        continue
        return sorted(found)

    def size(self, site_code: str, day: dt.date) -> int:
        try:
            return self.path(site_code, day).stat().st_size
        except FileNotFoundError:
            return 0

    # --- writing ---------------------------------------------------------
    def append(
        self,
        site_code: str,
        records: Iterable[bytes],
        source: str,
        received: dt.datetime | None = None,
    ) -> AppendResult:
        """Append raw records and fsync them; returns where they landed."""
        received = received or dt.datetime.now(UTC)
        day = received.astimezone(UTC).date()
        prefix = (format_instant(received) + "\t" + clean_source(source) + "\t").encode()
        records = records if isinstance(records, list) else list(records)
        joined = b"\n".join(records)
        # Records seldom hold a backslash, CR or LF: then the whole block needs no escaping
        # (checked at C speed, on the block) and each line is prefixed by one replace.
        if b"\\" in joined or b"\r" in joined or joined.count(b"\n") != len(records) - 1:
            joined = b"\n".join([escape(raw) for raw in records])
        payload = prefix + joined.replace(b"\n", b"\n" + prefix) + b"\n" if records else b""
        path = self.path(site_code, day)
        created = not path.exists()
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = self._cut_torn_tail(fd)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)
        return AppendResult(path, day, start, start + len(payload), len(records))

    @staticmethod
    def _cut_torn_tail(fd: int) -> int:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        # Look back for the last complete line; a torn tail is never longer than a record.
        window = min(size, 1 << 20)
        tail = os.pread(fd, window, size - window)
        if tail.endswith(b"\n"):
            return size
        cut = tail.rfind(b"\n")
        keep = size - window + cut + 1 if cut >= 0 else (0 if window == size else size)
        os.ftruncate(fd, keep)
        return keep

    # --- reading ---------------------------------------------------------
    def read(
        self, site_code: str, day: dt.date, offset: int, max_records: int
    ) -> tuple[list[SpoolRecord], int]:
        """Complete records from ``offset``; returns them and the offset after the last."""
        path = self.path(site_code, day)
        records: list[SpoolRecord] = []
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; absence is normal
        except FileNotFoundError:
            return records, offset
        with handle:
            position = offset
            while len(records) < max_records:
                handle.seek(position)
                data = handle.read(READ_CHUNK)
                end = data.rfind(b"\n")
                if end < 0:
                    if len(data) == READ_CHUNK:  # one huge line: read it whole
                        more = handle.readline()
                        if more.endswith(b"\n"):
                            data += more
                            end = len(data) - 1
                    if end < 0:
                        break
                wanted = max_records - len(records)
                # maxsplit: no bytes object is made for lines past this batch.
                lines = data[: end + 1].split(b"\n", wanted)
                lines = lines[:wanted] if len(lines) > wanted else lines[:-1]
                append = records.append
                for line in lines:  # parse_line, inlined: the Miner reads every record
                    parts = line.split(b"\t", 2)
                    if len(parts) == 3:
                        raw = parts[2]
                        append(SpoolRecord(position, unescape(raw) if b"\\" in raw else raw, parts[0], parts[1]))
                    else:
                        append(SpoolRecord(position, line))
                    position += len(line) + 1
        return records, position

    def iter_day(self, site_code: str, day: dt.date, batch: int = 50000) -> Iterator[SpoolRecord]:
        offset = 0
        while True:
            records, offset = self.read(site_code, day, offset, batch)
            if not records:
                return
            yield from records


def parse_line(offset: int, line: bytes) -> SpoolRecord:
    """One stored line (without its LF) as a record; ``offset`` is where the line starts."""
    parts = line.split(b"\t", 2)
    if len(parts) < 3:
        # Not written by CallTally (a file someone edited by hand): keep it whole.
        return SpoolRecord(offset, line)
    raw = parts[2]
    return SpoolRecord(offset, unescape(raw) if b"\\" in raw else raw, parts[0], parts[1])


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_spool() -> Spool:
    from django.conf import settings

    return Spool(settings.SPOOL_DIR)
