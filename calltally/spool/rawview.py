"""Reading a site's spool for people: newest records first, without loading huge files.

The spool's day files only grow at the end, so the newest records are found by
reading blocks backwards from the end of the file; a file of gigabytes costs a
few kilobytes to show its last lines.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

from calltally.spool.storage import Spool, SpoolRecord, format_instant, parse_line

BLOCK = 64 * 1024
MAX_LINE = 1024 * 1024
_NAMED = {"\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\"}


def lines_backwards(path: Path, block: int = BLOCK, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every complete line of ``path``, last first (or the last before
    byte ``end``, a line start: the pages of the spool viewer go on from where one stopped).

    An unterminated last line (an append in progress, or torn by a crash) is
    not a record yet and is skipped.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; absence is normal
    except FileNotFoundError:
        return
    with handle:
        position = os.fstat(handle.fileno()).st_size
        if end is not None:
            position = max(0, min(position, end))
        carry = b""  # the start of a line whose beginning lies before ``position``
        found_end = False
        while position > 0:
            size = min(block, position)
            position -= size
            handle.seek(position)
            buffer = handle.read(size) + carry
            if not found_end:
                cut = buffer.rfind(b"\n")
                if cut < 0:
                    carry = b""  # still inside the unterminated tail
                    continue
                buffer = buffer[:cut]
                found_end = True
            parts = buffer.split(b"\n")
            carry = parts[0]
            after = position + len(buffer)
            for line in reversed(parts[1:]):
                offset = after - len(line)
                yield offset, line
                after = offset - 1
        if found_end and carry:
            yield 0, carry


def lines_forward(path: Path, start: int = 0, end: int | None = None,
                  limit: int = MAX_LINE) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of the complete lines of ``path`` from byte ``start`` (a line start) up
    to byte ``end``, first first. A line longer than ``limit`` bytes comes cut to its first
    ``limit`` (a page shows records, and never holds a runaway line whole); an unterminated
    last line is not a record yet and is left out."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; absence is normal
    except FileNotFoundError:
        return
    with handle:
        stop = os.fstat(handle.fileno()).st_size if end is None else end
        position = start
        handle.seek(position)
        while position < stop:
            line = handle.readline(limit)
            length = len(line)
            if line.endswith(b"\n"):
                yield position, line[:-1]
            elif length == limit:
                while True:  # the rest of the long line, in bounded pieces
                    more = handle.readline(limit)
                    length += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                if not more:
                    return  # unterminated
                yield position, line
            else:
                return  # unterminated (or the end of the file)
            position += length


def records_backwards(spool: Spool, site_code: str, day: dt.date) -> Iterator[SpoolRecord]:
    for offset, line in lines_backwards(spool.path(site_code, day)):
        if line:
            yield parse_line(offset, line)


def last_record(spool: Spool, site_code: str) -> SpoolRecord | None:
    """The newest record of a site: the last line of its newest day file."""
    for day in reversed(spool.days(site_code)):
        for record in records_backwards(spool, site_code, day):
            return record
    return None


def last_received(spool: Spool, site_code: str) -> dt.datetime | None:
    record = last_record(spool, site_code)
    if record is None or not record.received:
        return None
    try:
        return dt.datetime.fromisoformat(record.received)
    except ValueError:
        return None


def folder_size(spool: Spool, site_code: str) -> int:
    total = 0
    folder = spool.site_dir(site_code)
    if not folder.is_dir():
        return 0
    for entry in os.scandir(folder):
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def count_lines(path: Path, start: int = 0) -> int:
    """Complete lines of a file from byte ``start`` on, counted in blocks."""
    count = 0
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            while chunk := handle.read(8 * 1024 * 1024):
                count += chunk.count(b"\n")
    except FileNotFoundError:
        return 0
    return count


def offset_received_from(path: Path, since: dt.datetime) -> int:
    """Byte offset of the first line of a day file received at or after ``since``.

    Lines are appended in receive order and begin with the receive instant in a
    fixed-width form that sorts as text, so a binary search over the file finds
    the place in a few reads, whatever its size. The file's size when nothing in
    it is that recent; 0 when the file does not exist.
    """
    key = format_instant(since).encode()
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; absence is normal
    except FileNotFoundError:
        return 0
    with handle:
        # Every line before ``low`` is older than ``since``; ``high`` is the answer or after it.
        low, high = 0, os.fstat(handle.fileno()).st_size
        while low < high:
            middle = (low + high) // 2
            start = middle
            if middle > low:
                handle.seek(middle - 1)
                start = middle - 1 + len(handle.readline())  # the first line that starts at or after middle
            if start >= high:
                start = low  # no line starts in [middle, high): look at the one at ``low``
            handle.seek(start)
            line = handle.readline()
            if line[:len(key)] >= key:
                high = start
            else:
                low = start + len(line)
        return high


def decode(raw: bytes) -> str:
    """Raw bytes as text: UTF-8, else Latin-1; control characters escaped."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    out = []
    for char in text:
        if char in _NAMED:
            out.append(_NAMED[char])
        elif not char.isprintable() and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
