"""Putting whole files into the spool (used by `calltally import` and the
file-based collectors), each record once, whatever the route.

A file arrives whole (an import, an FTP upload, a pickup from a folder or over
SFTP), but the same records may arrive in several files: the same file again,
or a file that grows all day (Asterisk's Master.csv, a 3CX or FreeSWITCH log)
seen again longer, under its own name or a rotated one. Every arrival is a
:class:`SpooledFile` row, a *version*, and what it adds is decided from the
versions spooled before (see docs/collectors-files.md, "Files seen again"):

* the same content as a version: nothing (or, see below, its held last line);
* an earlier version as its exact beginning (same first line, a related name,
  and the SHA-256 of the same-length beginning equal to that version's): only
  what follows what that version spooled;
* the name of a version, but not its continuation (an edited file, an older
  copy, a log rotated under its old name): its lines are compared with the
  records spooled from that file's versions, and only the lines not among them
  are spooled, with a warning when some were;
* else: a new file, spooled whole.

A last line without a line end may be a record cut mid-write (a growing file
copied while it was written). When the caller says the file may still grow
(``complete=False``), that line is held back: it is spooled with the rest when
the file comes again longer, or as it is when the same content comes again.
A complete file's unterminated last line is its last record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Q

from calltally.sites.models import Site

from .models import SpooledFile
from .storage import Spool, clean_source, default_spool

log = logging.getLogger("calltally.spool")

CHUNK = 16 * 1024 * 1024
# A first line longer than this is hashed this far to find a file's earlier versions.
HEAD_LIMIT = 64 * 1024
# Header lines are looked for among a file's first lines only.
LEADING_LINES, LEADING_BYTES = 16, 1024 * 1024
# A file changed this recently may be a copy of one still being written (see import_is_complete).
RECENT_SECONDS = 60.0
ENDS = (10, 13)  # LF, CR


@dataclass(slots=True)
class SpoolFileResult:
    name: str
    records: int
    duplicate: bool
    sha256: str
    continued_from: int = 0  # bytes at its beginning that an earlier version had spooled
    pending: int = 0  # bytes of an unterminated last line held back, not yet a record
    note: str = ""  # how it was spooled, when not simply whole
    warning: str = ""  # what the administrator should look at (an edited file, a cut record)
    tag: str = ""  # the source the records spooled now carry in the spool (finds them among others')

    def describe(self) -> str:
        """One line: what became of the file (for the import's output and the collectors' logs)."""
        if self.duplicate and not self.records:
            text = "already spooled, skipped"
        else:
            text = f"{self.records} records spooled"
            if self.continued_from:
                text += f" (it continues a file spooled before: its first {self.continued_from} bytes were skipped)"
        if self.note:
            text += f"; {self.note}"
        if self.pending:
            text += (f"; its last line ({self.pending} bytes) has no line end yet and is held back until the "
                     "file comes again")
        if self.warning:
            text += f"; WARNING: {self.warning}"
        return text


@dataclass(slots=True)
class _Scan:
    """One read of a file: its hash, size, where its last line end is, and the hashes of its
    beginnings as long as the earlier versions it may continue."""

    sha256: str
    size: int
    last_end: int  # the offset just after the last LF or CR (0: none)
    beginnings: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Compared:
    known: int = 0  # records spooled from the versions compared against
    matched: int = 0  # lines of the file found among them (not spooled again)
    lead: int = 0  # leading header lines spooled again


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def import_is_complete(path: Path, now: float | None = None) -> bool:
    """Whether `calltally import` takes an unterminated last line of ``path`` as its last record.

    A file not changed for a minute is taken as it is. One changed within the last
    minute may be a growing file read, or copied, in the middle of a line: its
    unterminated last line is held back until the file is imported again.
    """
    now = time.time() if now is None else now
    return now - path.stat().st_mtime >= RECENT_SECONDS


def spool_file(site: Site, path: Path, spool: Spool | None = None, source: str | None = None,
               complete: bool = True, name: str | None = None) -> SpoolFileResult:
    """Append the records of a file that the site's spool does not have yet; see the module's doc.

    Records are the file's lines (LF, CRLF or CR); empty lines are not records.
    A version's row is written first, marked incomplete, with where its records
    start and the source tag they carry; it is completed once they are all
    fsync'd. An attempt cut short is resumed by the next one with the same
    content (or a longer version of it): it counts the records already spooled
    and appends only the rest. One site's files are spooled one at a time (a
    lock file in the site's spool folder), so two attempts never interleave.
    ``complete=False``: the file may still grow; an unterminated last line is held back.
    """
    arrival = _Arrival(spool or default_spool(), site, path, name or path.name, source, complete)
    with _site_lock(arrival.spool, site.code):
        return arrival.spool_it()


class _Arrival:
    """One file to spool, and what the versions spooled before say of it."""

    def __init__(self, spool: Spool, site: Site, path: Path, name: str, source: str | None, complete: bool):
        self.spool, self.site, self.path, self.name = spool, site, path, name
        self.source, self.complete = source, complete
        self.head = ""
        self.scan = _Scan("", 0, 0)

    def spool_it(self) -> SpoolFileResult:
        self.head = _head_hash(self.path)
        candidates = list(_earlier_versions(self.site, self.name, self.head))
        self.scan = scan = _scan(self.path, {row.size for row in candidates})
        row = SpooledFile.objects.filter(site=self.site, sha256=scan.sha256).first()
        if row is not None:
            return self.seen_again(row)
        matching = [row for row in candidates if row.size < scan.size and scan.beginnings.get(row.size) == row.sha256]
        prior = max(matching, key=lambda row: (row.size, row.pk), default=None)
        if prior is not None and not prior.complete:
            # Cut short earlier, and this file begins with it: finish it first, from this file.
            _finish(self.spool, self.site, self.path, prior)
            prior.refresh_from_db()
        if prior is not None and not _overtaken(prior):
            return self.continuation(prior)
        related = prior or SpooledFile.objects.filter(site=self.site, name=self.name[:255]).order_by("-pk").first()
        if related is not None:
            return self.compared(related)
        row = self.new_row(from_byte=0)
        records = _finish(self.spool, self.site, self.path, row, already=0)
        return self.result(records, row)

    def result(self, records: int, row: SpooledFile, **details) -> SpoolFileResult:
        return SpoolFileResult(self.name, records, False, self.scan.sha256, pending=self.scan.size - row.spooled_to,
                               tag=row.source, **details)

    def new_row(self, from_byte: int, origin: int | None = None, compared: bool = False) -> SpooledFile:
        scan, code = self.scan, self.site.code
        spool_day = dt.datetime.now(dt.UTC).date()
        # The tag makes this version's records countable in the spool, among other sources'.
        tag = clean_source(f"{(self.source or f'import:{self.name}')[:170]} #{scan.sha256[:16]}")
        to_byte = scan.size if self.complete else max(from_byte, scan.last_end)
        return SpooledFile.objects.create(
            site=self.site, sha256=scan.sha256, name=self.name[:255], size=scan.size, records=0, complete=False,
            spool_day=spool_day, spool_offset=self.spool.size(code, spool_day), source=tag, head_sha256=self.head,
            stem=_stem(self.name)[:255], from_byte=from_byte, to_byte=to_byte, origin_id=origin, compared=compared)

    # --- the ways a file is spooled ------------------------------------------------------
    def seen_again(self, row: SpooledFile) -> SpoolFileResult:
        """The same content as a version spooled before."""
        code, name = self.site.code, self.name
        if not row.complete:
            already = _records_tagged(self.spool, code, row)
            log.warning("site %s: resuming %s, cut short after %d records were spooled", code, name, already)
            records = _finish(self.spool, self.site, self.path, row, already=already)
            return self.result(records, row, continued_from=row.from_byte)
        if row.spooled_to < self.scan.size:
            # Its last line was held back as maybe cut mid-write; the file has not grown since: it ends there.
            SpooledFile.objects.filter(pk=row.pk).update(to_byte=self.scan.size, complete=False)
            row.to_byte, row.complete = self.scan.size, False
            records = _finish(self.spool, self.site, self.path, row, already=row.records)
            return self.result(records, row, note="unchanged since it was spooled, so its last line, without a "
                                                  "line end, is taken as its last record now")
        return SpoolFileResult(name, 0, True, self.scan.sha256)

    def continuation(self, prior: SpooledFile) -> SpoolFileResult:
        """A longer version of ``prior``: spool what follows what ``prior`` spooled."""
        start, warning = _continuation_start(self.path, prior)
        row = self.new_row(from_byte=start, origin=prior.origin_id or prior.pk)
        stats = _Compared()
        records = _finish(self.spool, self.site, self.path, row, already=0, stats=stats)
        if warning:
            log.warning("site %s: %s: %s", self.site.code, self.name, warning)
        log.info("site %s: %s continues %s (%d bytes spooled before): %d records spooled", self.site.code,
                 self.name, prior.name, start, records)
        return self.result(records, row, continued_from=start, note=_lead_note(stats), warning=warning)

    def compared(self, related: SpooledFile) -> SpoolFileResult:
        """A file that has the name of a version (or begins like one since overtaken) but does not
        continue it: spool only its lines that are not among the records spooled from that file."""
        name = self.name
        row = self.new_row(from_byte=0, origin=related.origin_id or related.pk, compared=True)
        stats = _Compared()
        records = _finish(self.spool, self.site, self.path, row, already=0, stats=stats)
        if not stats.matched:
            # Nothing in common: a new file under a name used before (a log rotated, a new export),
            # the first version of its own. All its lines were spooled, in order, as for a new file.
            SpooledFile.objects.filter(pk=row.pk).update(origin=None, compared=False)
            note = (f"a new file under a name spooled before (none of its lines was among the {stats.known} "
                    "records spooled from that name): spooled whole")
            log.info("site %s: %s: %s", self.site.code, name, note)
            return self.result(records, row, note=note)
        skipped = f"{stats.matched} of its lines were already there and were skipped"
        if records - stats.lead:
            warning = (f"{name} does not continue what was spooled from it before (it was edited, or is an older "
                       f"copy): compared line by line with the {stats.known} records spooled from it, {skipped}; "
                       f"{records - stats.lead} new or changed lines were spooled (a changed line is a new record, "
                       "and the one it replaced stays in the spool)")
        else:
            warning = (f"{name} does not continue what was spooled from it before (an older copy, or edited): "
                       f"compared line by line with the {stats.known} records spooled from it, {skipped}; "
                       "nothing in it is new")
        log.warning("site %s: %s", self.site.code, warning)
        return self.result(records, row, note=_lead_note(stats), warning=warning)


def _lead_note(stats: _Compared) -> str:
    if not stats.lead:
        return ""
    return (f"its first {stats.lead} line(s), read by the site's driver as a header, were spooled again in "
            "front, so that the part spooled can be read without the beginning")


# --- versions ------------------------------------------------------------------------


def _stem(name: str) -> str:
    return name.split(".", 1)[0]


def _earlier_versions(site: Site, name: str, head: str):
    """Versions this file may continue: the same first line, and the same name or a name that
    begins with theirs up to its first dot (Master.csv → Master.csv.1, Master-20260302.csv).
    Rows written before versions existed have no first-line hash: only their name finds them."""
    beginnings = [name[:length] for length in range(1, min(len(name), 255) + 1)]
    return SpooledFile.objects.filter(site=site, size__gt=0).filter(
        Q(head_sha256=head) & (Q(stem__in=beginnings) | Q(name=name[:255])) | Q(name=name[:255], head_sha256=""))


def _overtaken(row: SpooledFile) -> bool:
    """Whether a later, longer version of the same file was spooled after ``row``: a file that
    begins with ``row`` may then overlap records that version spooled."""
    origin = row.origin_id or row.pk
    return (SpooledFile.objects.filter(Q(pk=origin) | Q(origin_id=origin), site_id=row.site_id,
                                       size__gt=row.size, pk__gt=row.pk).exists())


def _continuation_start(path: Path, prior: SpooledFile) -> tuple[int, str]:
    """Where the part to spool begins, and a warning when ``prior``'s last record was cut."""
    start = prior.spooled_to
    if start != prior.size or start == 0:
        return start, ""  # it ended at a line end, or its unterminated last line was held back
    with open(path, "rb") as handle:
        handle.seek(start - 1)
        around = handle.read(2)
        if len(around) < 2 or around[0] in ENDS or around[1] in ENDS:
            return start, ""
        # Its last line, spooled as a record, had no line end, and the file went on with the same line.
        line_start = _line_start(handle, start)
    warning = (f"the last line of {prior.name} as spooled on {prior.received:%Y-%m-%d %H:%M} UTC had no line end "
               f"and the file has since gone on with it: that record was cut mid-write. The whole line is "
               f"spooled now; the cut one ({start - line_start} bytes) stays in the spool, where the Miner may "
               "discard it or read a wrong call from it")
    return line_start, warning


def _line_start(handle, position: int) -> int:
    while position > 0:
        low = max(0, position - 65536)
        handle.seek(low)
        block = handle.read(position - low)
        end = max(block.rfind(b"\n"), block.rfind(b"\r"))
        if end >= 0:
            return low + end + 1
        position = low
    return 0


# --- reading the file -------------------------------------------------------------------


def _head_hash(path: Path) -> str:
    """SHA-256 of the first line with its line end (LF or CR), or of the first HEAD_LIMIT bytes."""
    with open(path, "rb") as handle:
        data = handle.read(HEAD_LIMIT)
    ends = [index for index in (data.find(b"\n"), data.find(b"\r")) if index >= 0]
    return hashlib.sha256(data[: min(ends) + 1] if ends else data).hexdigest()


def _scan(path: Path, lengths: Iterable[int]) -> _Scan:
    """Hash the file once, taking the hash of its beginning at each of ``lengths`` on the way."""
    digest = hashlib.sha256()
    points = iter(sorted(length for length in lengths if length > 0))
    point = next(points, None)
    position = last_end = 0
    beginnings = {}
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            view = memoryview(block)
            done = 0
            while point is not None and point <= position + len(block):
                digest.update(view[done: point - position])
                done = point - position
                beginnings[point] = digest.copy().hexdigest()
                point = next(points, None)
            digest.update(view[done:])
            end = max(block.rfind(b"\n"), block.rfind(b"\r"))
            if end >= 0:
                last_end = position + end + 1
            position += len(block)
    return _Scan(digest.hexdigest(), position, last_end, beginnings)


def _line_batches(path: Path, start: int, end: int) -> Iterator[list[bytes]]:
    """The non-empty lines of the bytes ``start``–``end`` of the file, a chunk at a time. A
    CRLF cut between two chunks gives an empty line, dropped like every empty line."""
    carry = b""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0 or carry:
            block = handle.read(min(CHUNK, left)) if left > 0 else b""
            left -= len(block)
            data = carry + block
            if block and left > 0:
                cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
                if cut < 0:
                    carry = data
                    continue
                carry, data = data[cut + 1:], data[: cut + 1]
            else:
                carry = b""
            lines = [line for line in data.splitlines() if line]
            if lines:
                yield lines
            if not block:
                return


def _leading_headers(site: Site, path: Path) -> list[tuple[int, bytes]]:
    """The file's first lines that the site's driver reads as headers, not calls, with where each
    ends: spooled again in front of a part of the file, they let the Miner read that part (a
    Cisco or a header-CSV driver reads rows by the names of the last header line it saw)."""
    from calltally.drivers.base import Skip

    try:
        driver = site.make_driver()
    except Exception:  # noqa: BLE001 - a site whose driver cannot start: its records wait in the spool anyway
        return []
    with open(path, "rb") as handle:
        data = handle.read(LEADING_BYTES)
    found = []
    position = 0
    for line in data.splitlines(keepends=True)[:LEADING_LINES]:
        position += len(line)
        raw = line.rstrip(b"\r\n")
        if not raw:
            continue
        if not line.endswith((b"\n", b"\r")):
            break  # a line cut by LEADING_BYTES (or the file's end) is not looked at
        try:
            outcome = driver.parse(raw)
        except Exception:  # noqa: BLE001 - a line the driver cannot even look at is not a header
            break
        if not isinstance(outcome, Skip):
            break
        found.append((position, raw))
    return found


def _row_batches(spool: Spool, site: Site, path: Path, row: SpooledFile, stats: _Compared) -> Iterator[list[bytes]]:
    """The lines a version spools, in order: the same sequence at every attempt, so that an
    attempt cut short can be resumed by counting."""
    lead: list[bytes] = []
    if row.from_byte > 0 or row.compared:
        lead = [raw for end, raw in _leading_headers(site, path) if row.compared or end <= row.from_byte]
        stats.lead = len(lead)
        if lead:
            yield lead
    batches = _line_batches(path, row.from_byte, row.spooled_to)
    if not row.compared:
        yield from batches
        return
    earlier = SpooledFile.objects.filter(Q(pk=row.origin_id) | Q(origin_id=row.origin_id), site=site,
                                         pk__lt=row.pk)
    counts = _spooled_counts(spool, site.code, list(earlier))
    stats.known = sum(counts.values())
    to_skip = len(lead)  # the header lines, already spooled in front
    for batch in batches:
        if to_skip:
            dropped = min(to_skip, len(batch))
            batch, to_skip = batch[dropped:], to_skip - dropped
        fresh = []
        for line in batch:
            key = hash(line)
            if counts.get(key):
                counts[key] -= 1
                stats.matched += 1
            else:
                fresh.append(line)
        if fresh:
            yield fresh


def _spooled_counts(spool: Spool, code: str, rows: list[SpooledFile]) -> Counter:
    """How many times each record was spooled by these versions (read back from the spool by
    their source tags), keyed by the record's hash."""
    counts: Counter = Counter()
    tags = {row.source for row in rows if row.source and row.spool_day}
    if not tags:
        return counts
    first_day, first_offset = min((row.spool_day, row.spool_offset or 0) for row in rows if row.spool_day)
    for day in spool.days(code):
        if day < first_day:
            continue
        offset = first_offset if day == first_day else 0
        while True:
            records, offset = spool.read(code, day, offset, 50000)
            if not records:
                break
            counts.update(hash(record.raw) for record in records if record.source in tags)
    return counts


# --- appending ---------------------------------------------------------------------------


def _finish(spool: Spool, site: Site, path: Path, row: SpooledFile, already: int | None = None,
            stats: _Compared | None = None) -> int:
    """Append a version's lines after the ``already`` spooled ones (counted in the spool when
    not given) and mark it complete; returns how many were appended."""
    if already is None:
        already = _records_tagged(spool, site.code, row)
    stats = stats or _Compared()
    count = _append_lines(spool, site.code, _row_batches(spool, site, path, row, stats), row.source, skip=already)
    SpooledFile.objects.filter(pk=row.pk).update(records=already + count, complete=True)
    return count


def _append_lines(spool: Spool, code: str, batches: Iterable[list[bytes]], tag: str, skip: int) -> int:
    """Append the lines after the first ``skip`` ones; returns how many were appended."""
    count = 0
    for lines in batches:
        if skip:
            dropped = min(skip, len(lines))
            lines, skip = lines[dropped:], skip - dropped
        if lines:
            count += spool.append(code, lines, tag).count
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
