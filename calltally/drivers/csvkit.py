"""Line and time machinery shared by the CSV-based drivers.

The Cisco UCM, Asterisk and generic CSV drivers all read one CSV record per
raw line. Parsing a whole batch of lines with a single :func:`csv.reader` call
is several times faster than building a reader per line, but a reader fed a
list of lines joins a line that ends inside a quoted field with the next one.
:func:`parse_in_batches` therefore checks that every input line produced
exactly one row and, when that is not so (or anything raises), reads that
batch again one line at a time, so a broken line never affects its
neighbours and every input still gets exactly one outcome.

:class:`LocalClock` turns the naive local timestamps most PBXs write into UTC
instants, caching the UTC offset of each local hour.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from .base import UTC, CdrRecord, Driver, DriverConfigError, Outcome, Reject, Skip, decode, local_to_utc

BLANK = Skip("blank line")
BATCH = 1024  # lines per csv.reader call; a bad line costs at most one re-read of its batch

_BOM = "\ufeff"
_fromisoformat = dt.datetime.fromisoformat
_MISSING = object()
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal",
                       "Etc/Universal", "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0"})

RowHandler = Callable[[list[str]], Outcome]


# --- decoding ---------------------------------------------------------------

def line_text(raw: bytes) -> str:
    """Text of one raw line: decoded as :func:`~calltally.drivers.base.decode`
    does, without the carriage returns a CRLF file leaves at the end."""
    text = decode(raw)
    if text.endswith("\r"):
        text = text.rstrip("\r")
    return text


def decode_lines(raws: Sequence[bytes]) -> list[str]:
    """:func:`line_text` of every raw line, decoding the batch in one go when
    it is valid UTF-8 (the usual case)."""
    try:
        joined = b"\n".join(raws).decode("utf-8")
    except UnicodeDecodeError:
        return [line_text(raw) for raw in raws]
    texts = joined.split("\n")
    if len(texts) != len(raws):  # a raw line held a newline of its own
        return [line_text(raw) for raw in raws]
    if "\r" in joined:
        texts = [t.rstrip("\r") if t.endswith("\r") else t for t in texts]
    if _BOM in joined:
        texts = [t[1:] if t.startswith(_BOM) else t for t in texts]
    return texts


def is_blank(text: str) -> bool:
    return not text or text.isspace()


# --- rows ---------------------------------------------------------------------

def read_row(text: str, fmt: dict[str, Any]) -> list[str]:
    """The fields of one CSV line (an unterminated quote runs to the end of
    the line instead of swallowing the next one)."""
    return next(csv.reader((text,), **fmt), [])


def parse_one(raw: bytes, handle: RowHandler, fmt: dict[str, Any]) -> Outcome:
    """Read one raw line: blank → skipped, unreadable CSV → rejected, otherwise
    ``handle(fields)``."""
    text = line_text(raw)
    if is_blank(text):
        return BLANK
    try:
        row = read_row(text, fmt)
    except csv.Error as exc:
        return Reject(f"not a readable CSV line: {exc}")
    return handle(row) if row else BLANK


def _parse_batch(raws: Sequence[bytes], handle: RowHandler, fmt: dict[str, Any]) -> list[Outcome] | None:
    texts = decode_lines(raws)
    out: list[Outcome] = [BLANK] * len(texts)
    wanted = [i for i, t in enumerate(texts) if t and not t.isspace()]
    feed = texts if len(wanted) == len(texts) else [texts[i] for i in wanted]
    reader = csv.reader(feed, **fmt)
    done = 0
    for i, row in zip(wanted, reader, strict=False):  # a shorter reader is checked below
        out[i] = handle(row) if row else BLANK
        done += 1
    if done != len(wanted) or next(reader, None) is not None:
        return None  # some line did not give exactly one row
    return out


def parse_in_batches(
    driver: Driver,
    raws: Sequence[bytes],
    handle: RowHandler,
    fmt: dict[str, Any],
) -> list[Outcome]:
    """``Driver.parse_many`` for one-CSV-record-per-line formats; never raises.

    ``handle`` turns the fields of one line into an outcome and may change the
    driver's state (header lines); a batch that must be re-read line by line
    first gets the state it started with back.
    """
    if not isinstance(raws, list | tuple):
        raws = list(raws)
    out: list[Outcome] = []
    for first in range(0, len(raws), BATCH):
        chunk = raws[first:first + BATCH]
        saved = driver.get_state()
        try:
            results = _parse_batch(chunk, handle, fmt)
        except Exception:
            results = None
        if results is None:
            driver.set_state(saved)
            results = Driver.parse_many(driver, chunk)  # line by line, errors become rejects
        out.extend(results)
    return out


# --- time ---------------------------------------------------------------------

class LocalClock:
    """Converts naive local timestamps of one site to aware UTC instants.

    The UTC offset is looked up once per local hour and cached. An hour whose
    offset changes inside it (a DST change at a half hour) is not cached and
    goes through :func:`~calltally.drivers.base.local_to_utc` every time, so
    results always equal ``local_to_utc`` (``fold=0`` for the repeated hour).
    Timestamps that carry their own offset are converted as they say.
    """

    __slots__ = ("_zone", "_fixed", "_offsets")

    def __init__(self, zone: dt.tzinfo, *, utc: bool = False):
        self._zone = zone
        self._fixed: dt.timedelta | None = None
        if utc or zone is UTC or (isinstance(zone, ZoneInfo) and zone.key in _UTC_KEYS):
            self._fixed = dt.timedelta(0)
        elif isinstance(zone, dt.timezone):
            self._fixed = zone.utcoffset(None)
        self._offsets: dict[Any, dt.timedelta | None] = {}

    def parse_iso(self, text: str) -> dt.datetime:
        """An ISO 8601 local timestamp (``2026-03-02 08:15:00``) as UTC; raises
        ValueError when ``text`` is not one."""
        if len(text) == 19:
            # The usual naive "YYYY-MM-DD HH:MM:SS": reading it with a +00:00
            # suffix gives an aware value directly, far cheaper than replace().
            try:
                value = _fromisoformat(text + "+00:00")
            except ValueError:
                pass
            else:
                return self._shift(value, text[:13])  # the first 13 characters: date and hour
        value = _fromisoformat(text)
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return self.to_utc(value)

    def to_utc(self, value: dt.datetime) -> dt.datetime:
        """A naive local (or an aware) datetime as UTC."""
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return self._shift(value.replace(tzinfo=UTC), (value.year, value.month, value.day, value.hour))

    def _shift(self, wall: dt.datetime, hour_key: Any) -> dt.datetime:
        """``wall`` is the local wall-clock time labelled UTC; give the real UTC."""
        fixed = self._fixed
        if fixed is not None:
            return wall - fixed if fixed else wall
        offset = self._offsets.get(hour_key, _MISSING)
        if offset is _MISSING:
            offset = self._hour_offset(wall.replace(tzinfo=None))
            if len(self._offsets) > 100_000:
                self._offsets.clear()
            self._offsets[hour_key] = offset
        if offset is None:
            return local_to_utc(wall.replace(tzinfo=None), self._zone)
        return wall - offset

    def _hour_offset(self, value: dt.datetime) -> dt.timedelta | None:
        """The UTC offset of the whole local hour of ``value``, or None when it
        changes within that hour."""
        first = value.replace(minute=0, second=0, microsecond=0)
        last = first.replace(minute=59, second=59, microsecond=999999)
        zone = self._zone
        a = first.replace(tzinfo=zone).utcoffset()
        b = last.replace(tzinfo=zone).utcoffset()
        return a if a == b else None


def epoch_to_utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


# --- records --------------------------------------------------------------------

RECORD_FIELDS = (
    "start", "talk_seconds", "ring_seconds", "answer", "calling", "called", "original_called",
    "final_called", "redirecting", "orig_device", "dest_device", "direction_hint", "account_code",
    "pbx_call_id", "disposition", "leg_key",
)


def _record_factory() -> Callable[..., CdrRecord]:
    """A callable building a :class:`CdrRecord` from the values of
    :data:`RECORD_FIELDS`, in that order (``leg_key``, the last, may be left out).

    Positional construction is markedly faster than keywords on the hot path;
    should ``CdrRecord`` ever change its field order, this falls back to
    keywords instead of silently mixing fields up.
    """
    names = tuple(f.name for f in dataclasses.fields(CdrRecord))
    if names[: len(RECORD_FIELDS)] == RECORD_FIELDS:
        return CdrRecord

    def by_name(*values: Any) -> CdrRecord:
        if not len(RECORD_FIELDS) - 1 <= len(values) <= len(RECORD_FIELDS):
            raise TypeError(f"a record takes {len(RECORD_FIELDS) - 1} or {len(RECORD_FIELDS)} values")
        return CdrRecord(**dict(zip(RECORD_FIELDS, values, strict=False)))

    return by_name


new_record = _record_factory()


def string_list_option(options: dict[str, Any], key: str, driver: str, example: str) -> list[str] | None:
    """A driver option that must be a list of non-empty strings (None when absent)."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise DriverConfigError(f"{driver} option {key!r} must be a list of strings, e.g. {example}")
    if not all(isinstance(v, str) and v for v in value):
        raise DriverConfigError(f"{driver} option {key!r} must hold non-empty strings only")
    return list(value)


def check_option_names(options: dict[str, Any], known: Sequence[str], driver: str) -> None:
    """Refuse options the driver does not have, naming the ones it has."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DriverConfigError(f"unknown {driver} option(s) {', '.join(unknown)}; known: {', '.join(known)}")
