"""Putting whole files into the spool (used by `calltally import` and the
file-based collectors)."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from calltally.sites.models import Site

from .models import SpooledFile
from .storage import Spool, clean_source, default_spool

log = logging.getLogger("calltally.spool")

CHUNK = 16 * 1024 * 1024


@dataclass(slots=True)
class SpoolFileResult:
    name: str
    records: int
    duplicate: bool
    sha256: str


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def spool_file(site: Site, path: Path, spool: Spool | None = None, source: str | None = None) -> SpoolFileResult:
    """Append every record of a file to the site's spool, exactly once per content.

    Records are the file's lines (LF, CRLF or CR); empty lines are not records.
    The file's row is written first, marked incomplete, with where its records
    start and the source tag they carry; it is completed once they are all
    fsync'd. An attempt cut short is resumed by the next one with the same
    content: it counts the records already spooled and appends only the rest.
    One site's files are spooled one at a time (a lock file in the site's spool
    folder), so two attempts never interleave.
    """
    spool = spool or default_spool()
    name = path.name
    sha256, size = file_digest(path)
    with _site_lock(spool, site.code):
        row = SpooledFile.objects.filter(site=site, sha256=sha256).first()
        if row is not None and row.complete:
            return SpoolFileResult(name, 0, True, sha256)
        if row is None:
            today = dt.datetime.now(dt.UTC).date()
            # The tag makes this file's records countable in the spool, among other sources'.
            tag = clean_source(f"{(source or f'import:{name}')[:170]} #{sha256[:16]}")
            row = SpooledFile.objects.create(
                site=site, sha256=sha256, name=name[:255], size=size, records=0, complete=False,
                spool_day=today, spool_offset=spool.size(site.code, today), source=tag,
            )
            already = 0
        else:
            already = _records_tagged(spool, site.code, row)
            log.warning("site %s: resuming %s, cut short after %d records were spooled", site.code, name, already)
        count = _append_lines(spool, site.code, path, row.source, skip=already)
        SpooledFile.objects.filter(pk=row.pk).update(records=already + count, complete=True)
    return SpoolFileResult(name, count, False, sha256)


def _append_lines(spool: Spool, code: str, path: Path, tag: str, skip: int) -> int:
    """Append the file's lines after the first ``skip`` ones; returns how many were appended."""
    count = 0
    carry = b""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(CHUNK)
            data = carry + block
            if block:
                cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1:]
                data = data[: cut + 1]
            lines = [line for line in data.splitlines() if line]
            if skip:
                dropped = min(skip, len(lines))
                lines, skip = lines[dropped:], skip - dropped
            if lines:
                count += spool.append(code, lines, tag).count
            if not block:
                return count


def _records_tagged(spool: Spool, code: str, row: SpooledFile) -> int:
    """Records an interrupted attempt spooled: those carrying its tag from where it began."""
    count = 0
    for day in spool.days(code):
        if row.spool_day and day < row.spool_day:
            continue
        offset = (row.spool_offset or 0) if day == row.spool_day else 0
        while True:
            records, offset = spool.read(code, day, offset, 50000)
            if not records:
                break
            count += sum(1 for record in records if record.source == row.source)
    return count


@contextlib.contextmanager
def _site_lock(spool: Spool, code: str):
    folder = spool.site_dir(code)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".import.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
