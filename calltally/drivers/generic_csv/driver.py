"""A CSV driver configured per site: any PBX that writes one call per line.

The site's ``DriverOptions.options`` say how to read the lines:

``fields`` (required)
    Mapping from call field to the column that holds it: a column name (from
    the header line or ``columns``), a 0-based column index, or a list of
    those whose values are joined with a space (e.g. a date and a time in two
    columns). Call fields: ``start`` (required), ``answer``, ``end``,
    ``talk_seconds``, ``ring_seconds``, ``calling``, ``called``,
    ``original_called``, ``final_called``, ``redirecting``, ``orig_device``,
    ``dest_device``, ``direction``, ``account_code``, ``pbx_call_id``,
    ``disposition``.
``header`` (bool, default false)
    The first line names the columns. The names are the driver's state
    (:meth:`GenericCsvDriver.get_state`). A line equal to the header is
    skipped whenever it comes again; a line holding every column name used in
    ``fields`` is taken for a new header (its column order is used from then
    on).
``columns`` (list of names)
    The column names when the file has no header line; a line equal to them
    is skipped. Give ``header`` or ``columns``, not both. Without either,
    ``fields`` must use 0-based indexes.
``delimiter`` (default ``","``)
    One character; ``"tab"`` for tab-separated files.
``quotechar`` (default ``'"'``)
``datetime_format`` (default ``"iso"``)
    ``"iso"`` (``2026-03-02 08:15:00``, ``2026-03-02T08:15:00+01:00``…),
    ``"epoch"`` (Unix seconds), ``"epoch_ms"`` (Unix milliseconds) or a
    :func:`~datetime.datetime.strptime` pattern such as ``"%d/%m/%Y %H:%M:%S"``.
``utc`` (bool, default false)
    Times without an offset are UTC, not the site's local time (epoch times
    are always UTC).
``duration_format`` (default ``"seconds"``)
    How ``talk_seconds``/``ring_seconds`` are written: ``"seconds"``,
    ``"hh:mm:ss"`` (also ``mm:ss``), ``"minutes"`` (decimal) or
    ``"milliseconds"``.
``direction_values``
    Raw value → ``inbound``/``outbound``/``internal`` (case-insensitive).
    Those three words, ``in``/``out``, ``incoming``/``outgoing`` are known
    without saying. Other values give no direction hint.
``disposition_values``
    Raw value → ``answered``/``no_answer``/``busy``/``failed``
    (case-insensitive). ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (busy)
    and the four words themselves are known without saying.
``skip_prefixes`` (list)
    Lines whose first field starts with one of these are skipped (comments,
    report footers).
``legs_share_call_id`` (bool, default false)
    The ``pbx_call_id`` column holds an id the PBX gives every record of one
    call (ring-group legs, transfer segments): the Miner merges the records
    that share it into one call (docs/call-legs.md).

Durations and answer
--------------------
Without a ``talk_seconds`` column, talk = end − answer (0 when either is
missing). Without ``ring_seconds``, ring = answer − start, or end − start for
a call that was not answered. Without an ``answer`` column, a call with talk
time was answered at end − talk (or start + ring when there is no end).
Without a (known) disposition, a call is answered when it has talk time or
an answer instant, otherwise not answered.

Rows with another number of fields than the header or ``columns``, an empty
or unreadable start, unreadable times or durations are rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from ..base import (
    ANSWERED,
    BUSY,
    DISPOSITIONS,
    FAILED,
    INBOUND,
    INTERNAL,
    NO_ANSWER,
    OUTBOUND,
    Driver,
    DriverConfigError,
    Outcome,
    Reject,
    Skip,
)
from ..csvkit import LocalClock, epoch_to_utc, new_record, parse_in_batches, parse_one

TIME_FIELDS = ("start", "answer", "end")
DURATION_FIELDS = ("talk_seconds", "ring_seconds")
TEXT_FIELDS = (
    "calling", "called", "original_called", "final_called", "redirecting", "orig_device",
    "dest_device", "account_code", "pbx_call_id",
)
FIELD_NAMES = TIME_FIELDS + DURATION_FIELDS + TEXT_FIELDS + ("direction", "disposition")
DURATION_FORMATS = ("seconds", "hh:mm:ss", "minutes", "milliseconds")
DIRECTIONS = (INBOUND, OUTBOUND, INTERNAL)
OPTION_NAMES = (
    "fields", "header", "columns", "delimiter", "quotechar", "datetime_format", "utc",
    "duration_format", "direction_values", "disposition_values", "skip_prefixes", "legs_share_call_id",
)

DEFAULT_DIRECTIONS = {
    "inbound": INBOUND, "in": INBOUND, "incoming": INBOUND,
    "outbound": OUTBOUND, "out": OUTBOUND, "outgoing": OUTBOUND,
    "internal": INTERNAL,
}
DEFAULT_DISPOSITIONS = {
    "answered": ANSWERED, "no answer": NO_ANSWER, "no_answer": NO_ANSWER, "busy": BUSY,
    "congestion": BUSY, "failed": FAILED,
}

HEADER = Skip("header line")
SKIPPED = Skip("skipped line")

Ref = int | tuple[int, ...]


def _fail(message: str) -> DriverConfigError:
    return DriverConfigError(f"generic_csv: {message}")


class _Settings:
    """The options, checked and normalised."""

    def __init__(self, options: dict[str, Any]):
        unknown = sorted(set(options) - set(OPTION_NAMES))
        if unknown:
            raise _fail(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(OPTION_NAMES)}")
        self.header = self._bool(options, "header")
        self.utc = self._bool(options, "utc")
        self.legs_share_call_id = self._bool(options, "legs_share_call_id")
        self.delimiter, self.quotechar = self._dialect(options)
        self.columns = self._columns(options)
        if self.header and self.columns is not None:
            raise _fail(
                "give either header: true (the first line names the columns) "
                "or columns (it does not), not both"
            )
        self.fields = self._fields(options)
        self.datetime_format = self._datetime_format(options)
        duration_format = options.get("duration_format", "seconds")
        if duration_format not in DURATION_FORMATS:
            raise _fail(f"duration_format {duration_format!r} is not one of {', '.join(DURATION_FORMATS)}")
        self.duration_format = duration_format
        self.directions = self._value_map(options, "direction_values", DIRECTIONS, DEFAULT_DIRECTIONS)
        self.dispositions = self._value_map(options, "disposition_values", DISPOSITIONS, DEFAULT_DISPOSITIONS)
        self.directions_raw = {str(k).strip(): v for k, v in options.get("direction_values", {}).items()}
        self.dispositions_raw = {str(k).strip(): v for k, v in options.get("disposition_values", {}).items()}
        prefixes = options.get("skip_prefixes", [])
        if isinstance(prefixes, str) or not isinstance(prefixes, Sequence) or not all(
            isinstance(p, str) and p for p in prefixes
        ):
            raise _fail('skip_prefixes must be a list of non-empty strings, e.g. ["#", "Total"]')
        self.skip_prefixes = tuple(prefixes)

    @staticmethod
    def _bool(options: dict[str, Any], key: str) -> bool:
        value = options.get(key, False)
        if not isinstance(value, bool):
            raise _fail(f"{key} must be true or false, not {value!r}")
        return value

    @staticmethod
    def _dialect(options: dict[str, Any]) -> tuple[str, str]:
        delimiter = options.get("delimiter", ",")
        if delimiter in ("tab", "\\t"):
            delimiter = "\t"
        quotechar = options.get("quotechar", '"')
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n":
            raise _fail(
                'delimiter must be a single character such as "," ";" "|" or the word "tab", '
                f"not {delimiter!r}"
            )
        if not isinstance(quotechar, str) or len(quotechar) != 1 or quotechar in "\r\n":
            raise _fail(f"quotechar must be a single character, not {quotechar!r}")
        if quotechar == delimiter:
            raise _fail(f"delimiter and quotechar are both {delimiter!r}; they must differ")
        return delimiter, quotechar

    @staticmethod
    def _columns(options: dict[str, Any]) -> list[str] | None:
        columns = options.get("columns")
        if columns is None:
            return None
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns or not all(
            isinstance(c, str) and c.strip() for c in columns
        ):
            raise _fail('columns must be a non-empty list of column names, e.g. ["date", "from", "to"]')
        seen: set[str] = set()
        for name in columns:
            key = name.strip().lower()
            if key in seen:
                raise _fail(f"columns names {name!r} twice; column names must be unique")
            seen.add(key)
        return [c.strip() for c in columns]

    def _fields(self, options: dict[str, Any]) -> dict[str, tuple[str | int, ...]]:
        fields = options.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise _fail(
                "option fields is required: a mapping from call fields to columns, "
                'e.g. {"start": "date", "calling": "from", "called": "to", "talk_seconds": "duration"}'
            )
        unknown = sorted(set(fields) - set(FIELD_NAMES))
        if unknown:
            raise _fail(
                f"fields names unknown call field(s) {', '.join(unknown)}; use {', '.join(FIELD_NAMES)}"
            )
        if "start" not in fields:
            raise _fail("fields must map start (the column with the call's start time)")
        known = {c.lower() for c in self.columns} if self.columns else None
        out: dict[str, tuple[str | int, ...]] = {}
        for field, ref in fields.items():
            parts = tuple(ref) if isinstance(ref, list | tuple) else (ref,)
            if not parts:
                raise _fail(f"fields.{field} is an empty list; give a column name or index")
            for part in parts:
                if isinstance(part, bool) or not isinstance(part, str | int):
                    raise _fail(
                        f"fields.{field} must be a column name, a 0-based index or a list of those, "
                        f"not {part!r}"
                    )
                if isinstance(part, int):
                    if part < 0:
                        raise _fail(f"fields.{field} has the negative index {part}; indexes start at 0")
                    if self.columns is not None and part >= len(self.columns):
                        raise _fail(
                            f"fields.{field} has index {part}, "
                            f"but columns lists only {len(self.columns)} columns"
                        )
                    continue
                if not part.strip():
                    raise _fail(f"fields.{field} has an empty column name")
                if not self.header and known is None:
                    raise _fail(
                        f"fields.{field} names the column {part!r}, but there is no header line and no "
                        "columns list: set header: true, list the columns in columns, or use 0-based indexes"
                    )
                if known is not None and part.strip().lower() not in known:
                    raise _fail(f"fields.{field} names the column {part!r}, which is not in columns")
            out[field] = tuple(p.strip() if isinstance(p, str) else p for p in parts)
        return out

    @staticmethod
    def _datetime_format(options: dict[str, Any]) -> str:
        fmt = options.get("datetime_format", "iso")
        if not isinstance(fmt, str) or not fmt:
            raise _fail(
                'datetime_format must be "iso", "epoch", "epoch_ms" '
                'or a strptime pattern like "%Y-%m-%d %H:%M:%S"'
            )
        if fmt in ("iso", "epoch", "epoch_ms"):
            return fmt
        if "%" not in fmt:
            raise _fail(
                f'datetime_format {fmt!r} has no % directive; use "iso", "epoch", "epoch_ms" or a strptime '
                'pattern like "%d/%m/%Y %H:%M:%S"'
            )
        sample = dt.datetime(2026, 3, 2, 8, 5, 9, tzinfo=dt.UTC)
        try:
            dt.datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as exc:
            raise _fail(f"datetime_format {fmt!r} is not a usable strptime pattern: {exc}") from None
        return fmt

    @staticmethod
    def _value_map(
        options: dict[str, Any], key: str, allowed: Sequence[str], defaults: dict[str, str]
    ) -> dict[str, str]:
        given = options.get(key, {})
        if not isinstance(given, dict):
            raise _fail(
                f'{key} must be a mapping from raw values to {"/".join(allowed)}, '
                f'e.g. {{"I": "{allowed[0]}"}}'
            )
        out = dict(defaults)
        for raw, value in given.items():
            if value not in allowed:
                raise _fail(f"{key}[{raw!r}] is {value!r}; it must be one of {', '.join(allowed)}")
            out[str(raw).strip().lower()] = value
        return out


class _Plan:
    """Column positions of every mapped field, for one set of column names
    (or for index-only mappings: ``names`` is None)."""

    __slots__ = ("names", "width", "refs", "need", "missing", "start", "answer", "end", "talk", "ring",
                 "direction", "disposition", "texts")

    def __init__(self, fields: dict[str, tuple[str | int, ...]], names: list[str] | None):
        self.names = names
        self.width = len(names) if names is not None else None
        index: dict[str, int] = {}
        for i, name in enumerate(names or ()):
            index.setdefault(name.strip().lower(), i)
        self.missing: list[str] = []
        self.refs: dict[str, Ref] = {}
        for field, parts in fields.items():
            positions = []
            for part in parts:
                if isinstance(part, int):
                    positions.append(part)
                elif part.lower() in index:
                    positions.append(index[part.lower()])
                else:
                    self.missing.append(f"{part!r} (fields.{field})")
            if len(positions) == len(parts):
                self.refs[field] = positions[0] if len(positions) == 1 else tuple(positions)
        self.need = 1 + max((max(r) if isinstance(r, tuple) else r for r in self.refs.values()), default=0)
        get = self.refs.get
        self.start, self.answer, self.end = get("start"), get("answer"), get("end")
        self.talk, self.ring = get("talk_seconds"), get("ring_seconds")
        self.direction, self.disposition = get("direction"), get("disposition")
        self.texts = tuple(get(name) for name in TEXT_FIELDS)


def _cell(row: list[str], ref: Ref | None) -> str | None:
    """The stripped text of a mapped field (columns joined by a space), or None
    when the field is not mapped."""
    if ref is None:
        return None
    if type(ref) is int:
        return row[ref].strip()
    return " ".join(row[i].strip() for i in ref).strip()


def _fixed_width_parser(fmt: str) -> Callable[[str], str | None] | None:
    """A fast reader for zero-padded numeric patterns such as
    ``%d/%m/%Y %H:%M:%S``: it checks the separators, moves the digits into ISO
    order and lets :meth:`datetime.fromisoformat` read them, which is several
    times faster than strptime. Returns None for patterns it cannot do (names
    of months, %y, %p, %z…); the reader it returns gives the ISO text, or None
    for texts it cannot read (strptime then decides)."""
    widths = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
    slots: dict[str, slice] = {}
    literal_at: list[int] = []
    literal: list[str] = []
    pos = i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            code = fmt[i + 1] if i + 1 < len(fmt) else ""
            if code == "%":
                literal_at.append(pos)
                literal.append("%")
                pos += 1
            elif code in widths and code not in slots:
                slots[code] = slice(pos, pos + widths[code])
                pos += widths[code]
            else:
                return None
            i += 2
        else:
            literal_at.append(pos)
            literal.append(ch)
            pos += 1
            i += 1
    if not {"Y", "m", "d"} <= set(slots):
        return None
    length = pos
    year, month, day = slots["Y"], slots["m"], slots["d"]
    hour, minute, second = slots.get("H"), slots.get("M"), slots.get("S")
    if hour is None and (minute is not None or second is not None):
        return None
    separators = tuple(literal)
    pick_separators = itemgetter(*literal_at) if len(literal_at) > 1 else None

    def parse(text: str) -> str | None:
        if len(text) != length:
            return None
        if pick_separators is not None:
            if pick_separators(text) != separators:
                return None
        elif literal_at and text[literal_at[0]] != literal[0]:
            return None
        iso = f"{text[year]}-{text[month]}-{text[day]}"
        if hour is not None:
            iso += f"T{text[hour]}:{text[minute] if minute else '00'}:{text[second] if second else '00'}"
        return iso if iso.isascii() else None

    return parse


class GenericCsvDriver(Driver):
    name = "generic_csv"
    brand = "Any"
    models = "any PBX or billing export that writes one call per CSV line"
    transport = "CSV file or stream"
    description = "Reads CSV call records with a column mapping configured for the site."

    def __init__(self, config=None):
        super().__init__(config)
        s = self._settings = _Settings(self.config.options)
        self._fmt = {"delimiter": s.delimiter, "quotechar": s.quotechar}
        self._clock = LocalClock(self.config.timezone, utc=s.utc)
        self._parse_time = self._time_reader(s.datetime_format)
        self._parse_duration = {
            "seconds": _seconds,
            "hh:mm:ss": _clock_duration,
            "minutes": _minutes,
            "milliseconds": _milliseconds,
        }[s.duration_format]
        self._skip_prefixes = s.skip_prefixes
        self._legs_share_call_id = s.legs_share_call_id
        # Raw values as configured, then lower-cased (the lookup tries both).
        self._directions = dict(s.directions, **s.directions_raw)
        self._dispositions = dict(s.dispositions, **s.dispositions_raw)
        self._names = {f.lower() for parts in s.fields.values() for f in parts if isinstance(f, str)}
        self._columns_key = [c.lower() for c in s.columns] if s.columns else None
        self._learned: list[str] | None = None  # header line read from the file
        self._plan: _Plan | None = None
        self._reset_plan()

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        _Settings(options)

    # --- state -------------------------------------------------------------------
    def _reset_plan(self) -> None:
        s = self._settings
        if self._learned is not None:
            self._plan = _Plan(s.fields, self._learned)
        elif s.header:
            self._plan = None  # the next line is the header
        elif s.columns is not None:
            self._plan = _Plan(s.fields, s.columns)
        else:
            self._plan = _Plan(s.fields, None)  # indexes only (checked by the options)

    def get_state(self) -> list[str] | None:
        return list(self._learned) if self._learned is not None else None

    def set_state(self, state: Any) -> None:
        self._learned = [str(n) for n in state] if isinstance(state, list) and state else None
        self._reset_plan()

    # --- parsing -----------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, self._fmt)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, self._fmt)

    def _row(self, row: list[str]) -> Outcome:
        if self._skip_prefixes and row and row[0].lstrip().startswith(self._skip_prefixes):
            return SKIPPED
        plan = self._plan
        if plan is None:  # header: true and no header line read yet: this is it
            return self._take_header(row)
        width = len(row)
        if plan.missing or (width != plan.width if plan.width is not None else width < plan.need):
            return self._irregular(row)
        outcome = self._record(row, plan)
        if type(outcome) is Reject and self._is_header(row):
            return self._take_header(row)
        return outcome

    def _is_header(self, row: list[str]) -> bool:
        """The row names the columns: it holds every column name used in
        fields, or it equals the columns option."""
        cells = [cell.strip().lower() for cell in row]
        if self._names and self._names <= set(cells):
            return True
        if self._learned is not None and cells == [name.lower() for name in self._learned]:
            return True
        return self._columns_key is not None and cells == self._columns_key

    def _take_header(self, row: list[str]) -> Outcome:
        if self._settings.header:
            names = [cell.strip() for cell in row]
            if names != self._learned:
                self._learned = names
                self._reset_plan()
        return HEADER

    def _irregular(self, row: list[str]) -> Outcome:
        """A row the current plan cannot read as it is: a header line, or a reject."""
        if self._is_header(row):
            return self._take_header(row)
        plan = self._plan
        if plan is None or plan.missing:
            return Reject("the header line lacks the column(s) " + ", ".join(plan.missing if plan else ()))
        if plan.width is not None:
            return Reject(f"{len(row)} fields where the header or columns list has {plan.width}")
        return Reject(f"{len(row)} fields where fields uses column index {plan.need - 1}")

    def _record(self, row: list[str], plan: _Plan) -> Outcome:
        parse_time = self._parse_time
        ref = plan.start
        text = row[ref].strip() if type(ref) is int else _cell(row, ref)
        if not text:
            return Reject("the start column is empty")
        try:
            start = parse_time(text)
        except (ValueError, OverflowError, OSError):
            return Reject(f"unreadable start time {text[:40]!r}")
        answer = end = None
        text = _cell(row, plan.answer)
        if text:
            try:
                answer = parse_time(text)
            except (ValueError, OverflowError, OSError):
                return Reject(f"unreadable answer time {text[:40]!r}")
        text = _cell(row, plan.end)
        if text:
            try:
                end = parse_time(text)
            except (ValueError, OverflowError, OSError):
                return Reject(f"unreadable end time {text[:40]!r}")
        talk = ring = None
        if plan.talk is not None or plan.ring is not None:
            parse_duration = self._parse_duration
            text = ""
            try:
                text = _cell(row, plan.talk)
                if text is not None:
                    talk = parse_duration(text) if text else 0
                text = _cell(row, plan.ring)
                if text is not None:
                    ring = parse_duration(text) if text else 0
            except (ValueError, OverflowError):
                fmt = self._settings.duration_format
                return Reject(f"unreadable duration {text[:40]!r} (duration_format {fmt})")
            if (talk or 0) < 0 or (ring or 0) < 0:
                return Reject(f"negative duration: talk {talk}, ring {ring}")
        if talk is None:
            talk = int((end - answer).total_seconds()) if answer is not None and end is not None else 0
            if talk < 0:
                talk = 0
        if ring is None:
            if answer is not None:
                ring = int((answer - start).total_seconds())
            elif end is not None and talk == 0:
                ring = int((end - start).total_seconds())
            else:
                ring = 0
            if ring < 0:
                ring = 0
        if answer is None and talk > 0 and plan.answer is None:
            if end is not None:
                answer = end - dt.timedelta(seconds=talk)
            else:
                answer = start + dt.timedelta(seconds=ring)
        disposition = None
        if plan.disposition is not None:
            text = _cell(row, plan.disposition)
            if text:
                disposition = self._dispositions.get(text) or self._dispositions.get(text.lower())
        if disposition is None:
            disposition = ANSWERED if (talk > 0 or answer is not None) else NO_ANSWER
        direction = None
        if plan.direction is not None:
            text = _cell(row, plan.direction)
            if text:
                direction = self._directions.get(text) or self._directions.get(text.lower())
        (calling, called, original_called, final_called, redirecting, orig_device, dest_device, account_code,
         pbx_call_id) = ["" if r is None else row[r].strip() if type(r) is int else _cell(row, r)
                         for r in plan.texts]
        return new_record(
            start, talk, ring, answer, calling, called, original_called, final_called, redirecting,
            orig_device, dest_device, direction, account_code, pbx_call_id, disposition,
            pbx_call_id if self._legs_share_call_id else "",
        )

    # --- value readers -------------------------------------------------------------
    def _time_reader(self, fmt: str) -> Callable[[str], dt.datetime]:
        if fmt == "iso":
            return self._clock.parse_iso
        if fmt == "epoch":
            return lambda text: epoch_to_utc(float(text))
        if fmt == "epoch_ms":
            return lambda text: epoch_to_utc(float(text) / 1000.0)
        fast = _fixed_width_parser(fmt)
        clock = self._clock
        strptime = dt.datetime.strptime

        def read(text: str) -> dt.datetime:
            iso = fast(text) if fast is not None else None
            if iso is not None:
                try:
                    return clock.parse_iso(iso)
                except ValueError:
                    pass  # not digits where digits belong (" 2/03/2026"): strptime decides
            return clock.to_utc(strptime(text, fmt))

        return read


def _seconds(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return round(float(text))


def _minutes(text: str) -> int:
    return round(float(text.replace(",", ".")) * 60)


def _milliseconds(text: str) -> int:
    return round(float(text) / 1000)


def _clock_duration(text: str) -> int:
    parts = text.split(":")
    if len(parts) == 3:
        try:
            return int(parts[0]) * 3600 + int(parts[1]) * 60 + int(parts[2])
        except ValueError:
            pass  # fractions of a second, blanks: the careful way below
    if len(parts) > 3 or not all(p.strip() for p in parts):
        raise ValueError(text)
    total = 0.0
    for part in parts[:-1]:
        total = total * 60 + int(part)
    total = total * 60 + float(parts[-1])
    return round(total)
