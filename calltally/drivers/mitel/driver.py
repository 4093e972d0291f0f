"""Mitel MiVoice Business / 3300 ICP (and SX-2000) SMDR, fixed columns.

Each record is one line of 90 characters (``layout: standard``) or 101 with
the extended digit length (``layout: extended``); ANI/DNIS and network-format
columns after those are ignored. Fields, in order: long-call flag (blank,
``-``, ``%``, ``+``), date ``mm/dd``, start time ``hh:mm`` (a trailing ``P``
with the 12-hour clock), duration ``hh:mm:ss``, calling party (extension, or
trunk ``Tnnn``/``Xnnn``), attendant flag ``*``, time to answer (seconds,
``***`` when never answered), digits dialled, meter pulses, call completion
status, speed-call/forward flag, called party, transfer/conference flag
``T``/``C`` and third party, account code.

The column positions below follow the field order and widths of the Mitel
documentation as far as we could establish them without a real capture; a
site whose records differ passes its own positions with option ``columns``
(``{"account": [78, 89], ...}``, 1-based, both ends included). Fields:
``flag date time duration calling attendant answer_time digits meter status
forward called transfer third account``.

What becomes what
-----------------
* A trunk as calling party: inbound; orig_device = the trunk, called = the
  called party (extension), original_called = the digits received on the
  trunk; calling stays empty (caller ids only come with ANI/DNIS).
* A trunk as called party: outbound; calling = the extension, called = the
  digits dialled, dest_device = the trunk.
* Otherwise internal (internal SMDR records).
* Status ``B`` busy, ``E`` (invalid number, reorder) and ``I`` (toll denied)
  failed; an incoming call whose time to answer is ``***``, or any call of
  zero duration, is unanswered; ring = time to answer.
* Transfer/conference: final_called = the third party, redirecting = the
  called party.
* The date has no year: the year that puts the call no more than 31 days
  after today, or option ``year`` (to import a file of another year).
* A calling party that runs on into the attendant-flag column (blank or
  ``*``) does not fit the layout: the record is rejected, so a record of the
  extended layout is never misread as a standard one. ``calltally drivers
  detect`` tries both layouts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ..base import (
    ANSWERED,
    BUSY,
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
from ..csvkit import BLANK, LocalClock, check_option_names, line_text, new_record

# 1-based, both ends included
STANDARD = {
    "flag": (1, 1), "date": (2, 6), "time": (8, 13), "duration": (15, 22), "calling": (24, 27),
    "attendant": (28, 28), "answer_time": (29, 31), "digits": (33, 58), "meter": (60, 64), "status": (66, 66),
    "forward": (67, 67), "called": (68, 71), "transfer": (72, 72), "third": (73, 76), "account": (78, 89),
}
EXTENDED = {
    "flag": (1, 1), "date": (2, 6), "time": (8, 13), "duration": (15, 22), "calling": (24, 30),
    "attendant": (31, 31), "answer_time": (32, 34), "digits": (36, 61), "meter": (63, 67), "status": (69, 69),
    "forward": (70, 70), "called": (71, 77), "transfer": (78, 78), "third": (79, 85), "account": (87, 98),
}
LAYOUTS = {"standard": STANDARD, "extended": EXTENDED}
_OPTION_NAMES = ("layout", "columns", "year")
_HEADING = Skip("heading or notice, not a call")
_datetime = dt.datetime


def _is_trunk(party: str) -> bool:
    return len(party) > 1 and party[0] in "TX" and party[1:].isdecimal()


class MitelDriver(Driver):
    name = "mitel"
    brand = "Mitel"
    models = "MiVoice Business, 3300 ICP, SX-2000 (SMDR, standard or extended digit length)"
    transport = "TCP port 1752 (the PBX is the server) or serial"
    description = "Reads Mitel MiVoice Business / 3300 SMDR fixed-column records."

    @classmethod
    def detection_options(cls) -> list[dict[str, Any]]:
        """Both layouts, tried by ``calltally drivers detect``."""
        return [{}, {"layout": "extended"}]

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        columns = dict(LAYOUTS[options.get("layout", "standard")])
        for key, (first, last) in (options.get("columns") or {}).items():
            columns[key] = (int(first), int(last))
        self._slices = {key: slice(first - 1, last) for key, (first, last) in columns.items()}
        self._min_length = columns["called"][1]
        self._flag_follows_calling = columns["attendant"][0] == columns["calling"][1] + 1
        self._year = options.get("year")
        self._clock = LocalClock(self.config.timezone)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "mitel")
        layout = options.get("layout", "standard")
        if layout not in LAYOUTS:
            raise DriverConfigError(
                f"mitel option 'layout' must be 'standard' (90 columns) or 'extended' (101 columns, extended "
                f"digit length in the SMDR Options form), not {layout!r}"
            )
        year = options.get("year")
        if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100):
            raise DriverConfigError("mitel option 'year' must be a year such as 2025 (only to import an old file)")
        columns = options.get("columns")
        if columns is None:
            return
        if not isinstance(columns, Mapping):
            raise DriverConfigError('mitel option \'columns\' must map field names to [first, last], e.g. '
                                    '{"account": [78, 89]}')
        for key, span in columns.items():
            if key not in STANDARD:
                raise DriverConfigError(f"mitel option 'columns': unknown field {key!r}; known: {', '.join(STANDARD)}")
            if (not isinstance(span, Sequence) or isinstance(span, str) or len(span) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
                    or not 1 <= span[0] <= span[1]):
                raise DriverConfigError(
                    f"mitel option 'columns': {key!r} must be [first, last] columns, 1-based, first ≤ last"
                )

    @staticmethod
    def _today() -> dt.date:
        return dt.datetime.now(dt.UTC).date()

    def parse(self, raw: bytes) -> Outcome:
        text = line_text(raw)
        if not text or text.isspace():
            return BLANK
        s = self._slices
        date_text = text[s["date"]]
        if len(date_text) != 5 or date_text[2] != "/" or not (date_text[:2] + date_text[3:]).isdecimal():
            if text.isprintable() and not any(c.isdecimal() for c in text[:8]):
                return _HEADING
            return Reject("not a Mitel SMDR record (no mm/dd date in columns 2-6)")
        if len(text.rstrip()) < s["called"].start + 1 or len(text) < self._min_length - 4:
            return Reject(f"Mitel SMDR record cut short ({len(text)} columns)")
        try:
            time_text = text[s["time"]].strip().upper()
            pm = time_text.endswith("P")
            hh, mm = time_text.rstrip("PA").split(":")[:2]
            hour, minute = int(hh), int(mm)
            if pm:
                hour = hour % 12 + 12
            duration = text[s["duration"]]
            if duration[2] != ":" or duration[5] != ":":
                raise ValueError(duration)
            talk = int(duration[:2]) * 3600 + int(duration[3:5]) * 60 + int(duration[6:8])
            local = self._dated(int(date_text[:2]), int(date_text[3:]), hour, minute)
        except (ValueError, IndexError):
            return Reject(f"unreadable start time or duration in Mitel SMDR record: {text[s['time']]!r} "
                          f"{text[s['duration']]!r}")
        if talk < 0 or talk > 99 * 3600 + 99 * 60 + 99:
            return Reject("impossible duration")
        calling_at = s["calling"]
        if (self._flag_follows_calling and text[calling_at.stop:calling_at.stop + 1].isalnum()
                and text[calling_at.stop - 1:calling_at.stop].isalnum()):
            # The attendant flag is blank or '*': a party running on into it is longer than the layout's column.
            return Reject(f"the calling party runs past column {calling_at.stop}: a record of another layout "
                          "(option layout: extended for the extended digit length, or columns)")
        calling = text[calling_at].strip()
        called = text[s["called"]].strip()
        digits = text[s["digits"]].strip()
        answer_text = text[s["answer_time"]].strip()
        status = text[s["status"]].strip().upper()
        account = text[s["account"]].strip()
        transfer = text[s["transfer"]].strip().upper()
        third = text[s["third"]].strip()
        ring = int(answer_text) if answer_text.isdecimal() else 0
        never_answered = answer_text.startswith("*")
        if _is_trunk(calling):
            direction = INBOUND
            number_from, number_to, original = "", called, digits or called
            orig, dest = calling, called
        elif _is_trunk(called):
            direction = OUTBOUND
            number_from, number_to, original = calling, digits, digits
            orig, dest = calling, called
        else:
            direction = INTERNAL
            number_from, number_to = calling, called or digits
            original = number_to
            orig, dest = calling, called
        final = redirecting = ""
        if transfer in ("T", "C") and third:
            final, redirecting = third, called
        if status == "B":
            disposition = BUSY
        elif status in ("E", "I"):
            disposition = FAILED
        elif never_answered or talk == 0:
            disposition = NO_ANSWER
        else:
            disposition = ANSWERED
        start = self._clock.to_utc(local)
        answer = start + dt.timedelta(seconds=ring) if disposition == ANSWERED else None
        return new_record(
            start, talk if disposition == ANSWERED else 0, ring, answer, number_from, number_to, original, final,
            redirecting, orig, dest, direction, account, "", disposition,
        )

    def _dated(self, month: int, day: int, hour: int, minute: int) -> dt.datetime:
        if self._year is not None:
            return _datetime(self._year, month, day, hour, minute)
        today = self._today()
        for year in (today.year + 1, today.year, today.year - 1):
            try:
                value = _datetime(year, month, day, hour, minute)
            except ValueError:
                continue
            if (value.date() - today).days <= 31:
                return value
        raise ValueError("no year fits")
