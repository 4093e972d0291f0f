"""The recorder file viewer: a site's raw records as the Recorder received them, a day at a time.

The spool's files are UTC days; the page shows the site's own day (midnight to
midnight in its time zone, as everywhere else), so one page day may take the
end of one file and the start of the next. Where a day begins and ends inside
a file is found by halving the file (``rawview.offset_received_from``): the
lines are in receive order. Records are read a page at a time from the newest
back (or forward from a cursor), never a whole file; a record is addressed by
its file and byte offset (``file=YYYY-MM-DD&offset=N``), as a call's raw record
is, and the pages go on from such a position rather than counting lines from
the start of the day. A search looks at a bounded number of records per page
and offers to go on from where it stopped.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.sites.models import Site
from calltally.webkit import display
from calltally.webkit.views import Page

from . import rawview
from .storage import Spool, SpoolRecord, parse_instant, parse_line

UTC = dt.UTC
PER_PAGE_CHOICES = (50, 100, 250, 500)
DEFAULT_PER_PAGE = 100
# Records a search looks at for one page; it then offers to go on from where it stopped.
SEARCH_SCAN = 200_000
SEARCH_MAX_CHARS = 200
# A record's text on the page stops here (the download has it whole).
SHOWN_CHARS = 4000
# The newest day files whose first and last records say exactly which local days they hold;
# older ones count for every local day they could touch (a day picked there may be empty).
EXACT_FILES = 62
DAYS_LISTED = 14


@dataclass(frozen=True, order=True)
class Position:
    """A record's place: its UTC day file and the byte offset of its line (orders as time does)."""

    file: dt.date
    offset: int

    def __str__(self) -> str:
        return f"{self.file.isoformat()}:{self.offset}"

    @classmethod
    def parse(cls, text: str | None) -> Position | None:
        day, sep, offset = (text or "").partition(":")
        try:
            return cls(dt.date.fromisoformat(day), int(offset)) if sep and int(offset) >= 0 else None
        except ValueError:
            return None


@dataclass(frozen=True)
class Stretch:
    """The lines of one day file received within the page's day: bytes ``start`` to ``end``."""

    file: dt.date
    path: Path
    start: int
    end: int


@dataclass
class Entry:
    """One record as the page shows it."""

    position: Position
    record: SpoolRecord
    target: bool = False

    @property
    def received(self) -> dt.datetime | None:
        return parse_instant(self.record.received) if self.record.received else None

    @property
    def text(self) -> str:
        text = rawview.decode(self.record.raw)
        return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + " …"


@dataclass
class Window:
    """One page of records, newest first, and where the pages before and after it start."""

    entries: list[Entry]
    older: Position | None = None  # the Older link shows the records before this one
    newer: Position | None = None  # the Newer link shows the records after this one
    scanned: int = 0
    cut_short: bool = False  # a search stopped at SEARCH_SCAN records


def day_bounds(day: dt.date, zone) -> tuple[dt.datetime, dt.datetime]:
    """The instants a local day begins and ends (23 or 25 hours on a clock-change day)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def stretches(spool: Spool, code: str, day: dt.date, zone) -> list[Stretch]:
    """The parts of the site's day files that hold the records received on ``day`` (local)."""
    start, end = day_bounds(day, zone)
    found = []
    file = start.date()
    while file <= (end - dt.timedelta(microseconds=1)).date():
        path = spool.path(code, file)
        if path.exists():
            low = rawview.offset_received_from(path, start)
            high = rawview.offset_received_from(path, end)
            if high > low:
                found.append(Stretch(file, path, low, high))
        file += dt.timedelta(days=1)
    return found


def local_days(spool: Spool, code: str, zone) -> list[dt.date]:
    """The local days that hold records, oldest first (see EXACT_FILES)."""
    files = spool.days(code)
    days: set[dt.date] = set()
    for index, file in enumerate(files):
        first = last = None
        if index >= len(files) - EXACT_FILES:
            path = spool.path(code, file)
            first = next((parse_line(o, line) for o, line in rawview.lines_forward(path) if line), None)
            last = next((parse_line(o, line) for o, line in rawview.lines_backwards(path, block=4096) if line), None)
            if first is None:
                continue  # an empty file (or a torn first line only)
        low = parse_instant(first.received) if first is not None and first.received else None
        high = parse_instant(last.received) if last is not None and last.received else None
        if low is None or high is None:
            low = dt.datetime.combine(file, dt.time.min, tzinfo=UTC)
            high = dt.datetime.combine(file, dt.time.max, tzinfo=UTC)
        day, final = low.astimezone(zone).date(), high.astimezone(zone).date()
        while day <= final:
            days.add(day)
            day += dt.timedelta(days=1)
    return sorted(days)


def older(parts: list[Stretch], before: Position | None) -> Iterator[Entry]:
    """The day's records before ``before`` (all of them when None), newest first."""
    for part in reversed(parts):
        if before is not None and part.file > before.file:
            continue
        end = part.end if before is None or part.file < before.file else min(part.end, before.offset)
        for offset, line in rawview.lines_backwards(part.path, end=end):
            if offset < part.start:
                break
            if line:
                yield Entry(Position(part.file, offset), parse_line(offset, line))


def newer(parts: list[Stretch], after: Position) -> Iterator[Entry]:
    """The day's records after ``after``, oldest first."""
    for part in parts:
        if part.file < after.file:
            continue
        start = part.start if part.file > after.file else max(part.start, after.offset)
        for offset, line in rawview.lines_forward(part.path, start, part.end):
            if part.file == after.file and offset <= after.offset:
                continue
            if line:
                yield Entry(Position(part.file, offset), parse_line(offset, line))


def matches(record: SpoolRecord, needle: str) -> bool:
    """Whether the record's text holds ``needle`` (lower case), as `calltally spool show --grep`
    reads it: UTF-8, else Latin-1."""
    try:
        text = record.raw.decode("utf-8")
    except UnicodeDecodeError:
        text = record.raw.decode("latin-1")
    return needle in text.lower()


def take(entries: Iterator[Entry], want: int, needle: str) -> tuple[list[Entry], Position | None, bool, int, bool]:
    """Up to ``want`` entries (those matching ``needle``, when given), looking at SEARCH_SCAN at
    most; returns them, the last position looked at, whether more may follow, the number looked
    at, and whether the search stopped at its bound."""
    needle = needle.lower()
    found: list[Entry] = []
    last = None
    scanned = 0
    for entry in entries:
        if len(found) == want:
            return found, last, True, scanned, False
        if needle and scanned >= SEARCH_SCAN:
            return found, last, True, scanned, True
        scanned += 1
        last = entry.position
        if not needle or matches(entry.record, needle):
            found.append(entry)
    return found, last, False, scanned, False


def read_window(parts: list[Stretch], per_page: int, needle: str = "", before: Position | None = None,
                after: Position | None = None, target: Entry | None = None) -> Window:
    """One page: around ``target``; after ``after`` (the Newer link); or before ``before`` (the
    Older link; the newest records when None)."""
    if target is not None:
        above, newest, more_above, _, _ = take(newer(parts, target.position), per_page // 2, "")
        below, oldest, more_below, _, _ = take(older(parts, target.position), per_page - 1 - len(above), "")
        target.target = True
        return Window([*reversed(above), target, *below],
                      older=(oldest or target.position) if more_below else None,
                      newer=(newest or target.position) if more_above else None)
    if after is not None:
        found, newest, more, scanned, cut = take(newer(parts, after), per_page, needle)
        found.reverse()
        first = found[-1].position if found else None
        return Window(found, older=first or after, newer=newest if more else None, scanned=scanned, cut_short=cut)
    found, oldest, more, scanned, cut = take(older(parts, before), per_page, needle)
    return Window(found, older=oldest if more else None, newer=found[0].position if found and before else before,
                  scanned=scanned, cut_short=cut)


def record_at(spool: Spool, code: str, position: Position) -> Entry | None:
    """The record whose line starts at ``position``, or None (no such file, or not a line start)."""
    path = spool.path(code, position.file)
    try:
        with open(path, "rb") as handle:
            if position.offset > 0:
                handle.seek(position.offset - 1)
                if handle.read(1) != b"\n":
                    return None
    except (FileNotFoundError, IsADirectoryError):
        return None
    for offset, line in rawview.lines_forward(path, position.offset):
        return Entry(position, parse_line(offset, line)) if line else None
    return None


def parse_day(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD day, or None (also for a day so far out that the day after it has no date)."""
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or dt.date.min < day < dt.date.max - dt.timedelta(days=2) else None


@method_decorator(never_cache, name="dispatch")
class ViewerView(Page):
    """A site's raw records for one of its days: the newest first, a day picked, a search, a
    record highlighted (``?site=CODE&day=YYYY-MM-DD&offset=N``, N an offset in the day file
    ``day``, as a call's raw record gives it; or ``file=`` naming the day file)."""

    title = "Recorder file"
    audience = "runs-sites"
    template_name = "spool/viewer.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def sites(self):
        return Site.objects.filter(self.scope.sites()).order_by("code")

    def get(self, request):
        params = request.GET
        sites = list(self.sites())
        if not sites:
            return render(request, self.template_name, self.context(sites=[], site=None))
        site = sites[0]
        if params.get("site"):
            site = next((item for item in sites if item.code == params["site"]), None)
            if site is None or not self.scope.may_operate(site):
                raise Http404("No site with that code among yours.")
        spool = Spool(settings.SPOOL_DIR)
        zone = site.zone
        per_page = DEFAULT_PER_PAGE
        if params.get("n", "").isdigit() and int(params["n"]) in PER_PAGE_CHOICES:
            per_page = int(params["n"])
        needle = params.get("q", "").strip()[:SEARCH_MAX_CHARS]
        days = local_days(spool, site.code, zone)
        day = parse_day(params.get("day"))
        if params.get("day") and day is None:
            messages.warning(request, f"{params['day']!r} is not a date (YYYY-MM-DD): showing the newest day.")

        target = None
        offset_text = params.get("offset", "")
        if offset_text:
            file = parse_day(params.get("file")) or day
            wanted = Position(file, int(offset_text)) if file and offset_text.isdigit() else None
            target = record_at(spool, site.code, wanted) if wanted else None
            if target is None:
                messages.warning(request, f"No record starts at offset {offset_text} of the day file "
                                          f"{file or params.get('file') or '?'}.cdr of {site.code}.")
            else:
                received = target.received
                day = received.astimezone(zone).date() if received else target.position.file
                needle = ""  # the record asked for is shown whatever a search would keep
        if day is None:
            day = days[-1] if days else dt.datetime.now(UTC).astimezone(zone).date()

        parts = stretches(spool, site.code, day, zone)
        window = read_window(parts, per_page, needle, before=Position.parse(params.get("before")),
                             after=Position.parse(params.get("after")) if not params.get("before") else None,
                             target=target)
        start, end = day_bounds(day, zone)
        base = {"site": site.code, "day": day.isoformat(), "n": per_page, **({"q": needle} if needle else {})}
        files = [{"file": file, "size": spool.size(site.code, file),
                  "url": reverse("spool:download", args=[site.code, file.isoformat()])}
                 for file in sorted({part.file for part in parts})]
        return render(request, self.template_name, self.context(
            sites=sites, site=site, day=day, zone=zone, needle=needle, per_page=per_page,
            per_page_choices=PER_PAGE_CHOICES, window=window, files=files,
            day_start=display.local_time(start, zone), day_end=display.local_time(end, zone),
            previous_day=next((d for d in reversed(days) if d < day), None),
            next_day=next((d for d in days if d > day), None),
            recent_days=list(reversed(days[-DAYS_LISTED:])), first_day=days[0] if days else None,
            last_day=days[-1] if days else None, base_query=urlencode(base),
            site_query=urlencode({"site": site.code, "n": per_page}),
            older_url="?" + urlencode({**base, "before": str(window.older)}) if window.older else None,
            newer_url="?" + urlencode({**base, "after": str(window.newer)}) if window.newer else None,
            newest_url="?" + urlencode(base) if params.get("before") or params.get("after") or target else None,
            search_scan=SEARCH_SCAN, searched=bool(needle),
        ))


class DownloadView(Page):
    """One whole day file of a site's spool, streamed (and written to the audit log)."""

    audience = "runs-sites"

    def get(self, request, code: str, file: str):
        site = Site.objects.filter(self.scope.sites(), code=code).first()
        day = parse_day(file)
        if site is None or day is None or not self.scope.may_operate(site):
            raise Http404("No such recorder file among your sites.")
        path = Spool(settings.SPOOL_DIR).path(site.code, day)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it once sent
        except FileNotFoundError:
            raise Http404(f"{site.code} has no recorder file for {day}.") from None
        size = os.fstat(handle.fileno()).st_size
        audit.record(request, Action.DOWNLOAD, obj=site, what="recorder file",
                     file=f"{site.code}/{day.isoformat()}.cdr", bytes=size)
        return FileResponse(handle, as_attachment=True, filename=f"{site.code}-{day.isoformat()}.cdr",
                            content_type="text/plain; charset=utf-8")
