"""The raw spool as privacy sees it: finding records, blanking them in place, deleting old day files.

The spool is append-only and every offset the Miner keeps (a day file's checkpoint, each call's
``raw_offset``, a discarded call's) points into its day file, so a record is never cut out of
it: erasing one overwrites its bytes *in place* with as many spaces. The line keeps its receive
instant and source tag (the file importer counts the records of a source already spooled), its
length and its line end, so every offset stays valid; a record of spaces is a blank line, which
every driver skips — mining it later, recalculating or reprocessing its day makes nothing of it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from calltally.spool.storage import Spool, unescape

FILLER = 0x20  # a space: a record of spaces is a blank line to every driver


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record of a day file, as an export shows it."""

    site_code: str
    day: dt.date
    offset: int
    received: str
    source: str
    text: str

    def as_dict(self) -> dict:
        return {"site": self.site_code, "day": self.day.isoformat(), "offset": self.offset,
                "received": self.received, "source": self.source, "text": self.text}


def record_of(site_code: str, day: dt.date, offset: int, line: bytes) -> RawRecord:
    parts = line.split(b"\t", 2)
    received, source, raw = (parts if len(parts) == 3 else (b"", b"", line))
    return RawRecord(site_code, day, offset, received.decode("ascii", "replace"),
                     source.decode("utf-8", "replace"), unescape(raw).decode("utf-8", "replace"))


def read_at(spool: Spool, site_code: str, day: dt.date, offsets: Iterable[int]) -> list[RawRecord]:
    """The records starting at ``offsets`` of a day file (offsets past its end or a missing file: none)."""
    found = []
    try:
        handle = open(spool.path(site_code, day), "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return found
    with handle:
        for offset in sorted(set(offsets)):
            handle.seek(offset)
            line = handle.readline()
            if line.endswith(b"\n"):
                found.append(record_of(site_code, day, offset, line[:-1]))
    return found


def scan(spool: Spool, site_code: str, wanted: Callable[[bytes], bool]) -> Iterator[tuple[dt.date, int, bytes]]:
    """(day, offset, line) of every complete line of a site's day files that ``wanted`` takes.
    ``wanted`` sees the stored line (escaped, with its instant and source): it should be a cheap
    test first (a substring), the careful one after."""
    for day in spool.days(site_code):
        offset = 0
        try:
            handle = open(spool.path(site_code, day), "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:  # deleted by retention meanwhile
            continue
        with handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a record being appended: not part of the spool yet
                if wanted(line):
                    yield day, offset, line[:-1]
                offset += len(line)


def blank(spool: Spool, site_code: str, day: dt.date, offsets: Iterable[int]) -> int:
    """Overwrite the records at ``offsets`` of a day file with spaces, in place; returns how many
    were blanked (an offset that starts no line, or a record already blank, counts nothing).

    Under the lock the Recorder appends with, and fsync'd before returning: an erased record
    must not come back after a crash."""
    path = spool.path(site_code, day)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    blanked = 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        for offset in sorted(set(offsets)):
            if offset >= size or (offset and os.pread(fd, 1, offset - 1) != b"\n"):
                continue  # not the start of a line: never overwrite part of another record
            line = _line_at(fd, offset, size)
            if line is None:
                continue
            parts = line.split(b"\t", 2)
            # The instant and source stay; the record's own bytes become spaces.
            start = len(parts[0]) + len(parts[1]) + 2 if len(parts) == 3 else 0
            record = line[start:]
            if not record.strip(b" "):
                continue
            os.pwrite(fd, bytes([FILLER]) * len(record), offset + start)
            blanked += 1
        if blanked:
            os.fsync(fd)
    finally:
        os.close(fd)
    return blanked


def _line_at(fd: int, offset: int, size: int) -> bytes | None:
    """The complete line at ``offset`` without its LF (None: unterminated, being appended)."""
    chunks, position = [], offset
    while position < size:
        chunk = os.pread(fd, 65536, position)
        if not chunk:
            break
        end = chunk.find(b"\n")
        if end >= 0:
            chunks.append(chunk[:end])
            return b"".join(chunks)
        chunks.append(chunk)
        position += len(chunk)
    return None


def delete_day(spool: Spool, site_code: str, day: dt.date) -> int:
    """Remove a day file; returns the bytes it held (0 if it was gone already)."""
    path = spool.path(site_code, day)
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size
