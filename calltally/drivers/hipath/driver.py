"""Siemens / Unify HiPath 1100, 1500, 3000 (and 5000 GetAccount): call-charge output.

The PBX prints one fixed-width record per external call on its serial (V.24)
port, or hands the same record to a PC tool. Two layouts are read without
options, record by record:

* :data:`COMPRESSED_FIELDS`, the *compressed* record (Manager E flag
  "Compressed output" on, 109 characters) as the HiPath 3000/5000 service
  documentation describes it::

    date 8 (end of call, DD.MM.YY) · time 8 (end of call, hh:mm:ss) · trunk 3 ·
    node 3 · extension 6 · ring 5 (seconds) · duration 8 (hh:mm:ss) ·
    number 25 · units 11 · call_type 1 · account 11 · msn 11 · trunk_group 5 ·
    lcr_route 4

* :data:`NO_NODE_FIELDS`, the record as many installations print it, without
  the node field and with a 2-character call type (107 characters)::

    date 8 · time 8 · trunk 3 · extension 6 · ring 5 · duration 8 ·
    number 25 · charges 11 · call_type 2 · account 11 · msn 11 ·
    trunk_group 5 · lcr_route 4

  Both start with the date and time; they differ from the trunk on. The
  duration tells them apart: ``hh:mm:ss`` at characters 31–38 is the no-node
  record, at 34–41 the compressed one. A record without such a duration (a
  duration in seconds) is read by the layout whose call-type column holds a
  number, and when both do, by the layout of the record before it.

Option ``fields`` (``[name, width]`` pairs in record order) replaces both
with the site's own layout, e.g. the long (printer) form, which separates
fields by blanks, prints charges as money and has no account code (names as
above; unnamed columns may be called anything, e.g. ``filler``). Only
``date``, ``time``, ``duration`` and ``call_type`` are required.

What becomes what
-----------------
* The record's date and time are the **end** of the call, local time of the
  site (``DriverOptions.timezone``); dates are day first, with a 2- or
  4-digit year (``option date_order: "YMD"`` or ``"MDY"`` otherwise).
  start = end − duration − ring; answer = end − duration.
* talk = ``duration`` (hh:mm:ss, or seconds). ring = the 5-digit seconds
  field: documented as the ringing time of incoming calls (Hicom 150), so it
  is only read on incoming call types; on outgoing calls it is ignored.
* ``call_type`` (Hicom/HiPath codes): 1 incoming, 2 outgoing, 3 incoming data,
  4 outgoing data, 5 incoming forwarded, 6 outgoing forwarded, 7/8 conference
  or transit via external transfer (incoming/outgoing leg), 9 outgoing via
  call forwarding to an external destination → odd codes inbound, even and
  9 outbound. 0 is the "call information" notice printed when a call
  arrives (the call gets its own record later): skipped. A code of 50 or more
  (DISA offset, two-character layouts) is read minus 50.
* inbound: calling = ``number`` (the caller), called = the extension;
  outbound: calling = the extension, called = ``number`` (as dialled, with
  any call-by-call prefix). Forwarded/transfer types (5, 6, 7, 8, 9):
  redirecting = the extension.
* devices: the trunk as ``trunk <trunk>`` (``trunk_group`` when the trunk is
  blank) on the network side, the extension on the other.
* account_code = ``account`` (ACCT code). pbx_call_id: none (the output
  has no call id).
* disposition: answered with talk time, else no answer.
* Lines whose date and time fields do not look like a date and a time
  (page headings, column titles, blank lines) are skipped, unless they hold
  control characters (line noise: rejected); a record with a date-like start
  but unreadable fields is rejected.

Options: ``fields`` (layout; default: the compressed and no-node records,
told apart per record), ``date_order`` (``DMY`` default, ``YMD``, ``MDY``).
``calltally drivers detect`` tries the three date orders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..base import ANSWERED, INBOUND, NO_ANSWER, OUTBOUND, Driver, DriverConfigError, Outcome, Reject, Skip, decode
from ..csvkit import LocalClock, check_option_names, new_record
from ..fixedwidth import Layout

COMPRESSED_FIELDS: tuple[tuple[str, int], ...] = (
    ("date", 8), ("time", 8), ("trunk", 3), ("node", 3), ("extension", 6), ("ring", 5), ("duration", 8),
    ("number", 25), ("units", 11), ("call_type", 1), ("account", 11), ("msn", 11), ("trunk_group", 5),
    ("lcr_route", 4),
)
NO_NODE_FIELDS: tuple[tuple[str, int], ...] = (
    ("date", 8), ("time", 8), ("trunk", 3), ("extension", 6), ("ring", 5), ("duration", 8), ("number", 25),
    ("charges", 11), ("call_type", 2), ("account", 11), ("msn", 11), ("trunk_group", 5), ("lcr_route", 4),
)
WANTED = ("date", "time", "trunk", "extension", "ring", "duration", "number", "call_type", "account",
          "trunk_group")
REQUIRED = ("date", "time", "duration", "call_type")
_OPTION_NAMES = ("fields", "date_order")
_ORDERS = ("DMY", "YMD", "MDY")
_REDIRECTED = frozenset({5, 6, 7, 8, 9})
BLANK = Skip("blank line")
HEADING = Skip("heading or other non-call line")
NOTICE = Skip("call information notice (call type 0)")


def _seconds(text: str) -> int:
    if ":" in text:
        total = 0
        for part in text.split(":"):
            total = total * 60 + int(part)
        return total
    return int(text) if text else 0


def _looks_like_time(text: str) -> bool:
    return len(text) == 8 and text[2] == ":" and text[5] == ":"


def _looks_like_date(text: str) -> bool:
    return len(text) in (8, 10) and sum(ch.isdecimal() for ch in text) in (6, 8)


class HiPathDriver(Driver):
    name = "hipath"
    brand = "Siemens / Unify"
    models = "HiPath 1100, 1120, 1150, 1190, 1500, 3000 (3300/3350/3500/3550/3750/3800), 5000; Hicom 150"
    transport = "serial call-charge output (V.24) via a serial-to-TCP adapter, or a file"
    description = "Reads HiPath fixed-width call-charge records by a configurable [name, width] layout."

    #: ``calltally drivers detect`` reads a sample with each of these date orders too.
    detection_date_forms = ("date_order", ("MDY", "YMD"))

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._layout = Layout(options.get("fields", COMPRESSED_FIELDS), WANTED, REQUIRED, self.name)
        # Without a site layout, both known records are read, each record by its own shape.
        self._no_node = None if "fields" in options else Layout(NO_NODE_FIELDS, WANTED, REQUIRED, self.name)
        self._compressed = self._layout
        self._order = options.get("date_order", "DMY")
        self._clock = LocalClock(self.config.timezone)
        self._days: dict[str, tuple[int, int, int]] = {}

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "hipath")
        Layout(options.get("fields", COMPRESSED_FIELDS), WANTED, REQUIRED, cls.name)
        if options.get("date_order", "DMY") not in _ORDERS:
            raise DriverConfigError(
                f"hipath option 'date_order' must be one of {', '.join(_ORDERS)} (the order of the printed date)"
            )

    def _day(self, text: str) -> tuple[int, int, int]:
        day = self._days.get(text)
        if day is None:
            parts = text.replace("/", ".").replace("-", ".").split(".")
            if len(parts) != 3:
                raise ValueError(text)
            a, b, c = (int(p) for p in parts)
            if self._order == "DMY":
                d, m, y = a, b, c
            elif self._order == "MDY":
                m, d, y = a, b, c
            else:
                y, m, d = a, b, c
            if y < 100:
                y += 2000
            dt.date(y, m, d)
            day = (y, m, d)
            if len(self._days) > 10_000:
                self._days.clear()
            self._days[text] = day
        return day

    def _shape(self, text: str) -> Layout:
        """The known layout ``text`` is printed in: where its hh:mm:ss duration
        lies, else which call-type column holds a number, else the last one seen."""
        if text[35:36] == ":":
            if text[38:39] == ":":
                self._layout = self._compressed
                return self._compressed
            if text[32:33] == ":":
                self._layout = self._no_node
                return self._no_node
        no_node = text[74:76].strip().isdecimal()
        if no_node != text[77:78].isdecimal():
            return self._no_node if no_node else self._compressed
        return self._layout

    def parse(self, raw: bytes) -> Outcome:
        text = decode(raw).rstrip("\r\n")
        if not text.strip():
            return BLANK
        if self._no_node is None:
            layout = self._layout
        elif text[38:39] == ":" and text[35:36] == ":":  # the compressed record's duration, the usual case
            layout = self._layout = self._compressed
        else:
            layout = self._shape(text)
        (date_text, time_text, trunk, extension, ring_text, duration_text, number, type_text, account,
         trunk_group) = layout.cut(text)
        if not (_looks_like_date(date_text) and _looks_like_time(time_text)):
            if len(text) >= layout.min_length and (_looks_like_time(time_text) or _looks_like_date(date_text)):
                return Reject(f"unreadable date or time {date_text!r} {time_text!r}")
            if not text.replace("\t", " ").isprintable():
                return Reject("not a call-charge text line: it holds control characters")
            return HEADING
        if len(text) < layout.min_length:
            return Reject(f"{len(text)} characters: a truncated record (the layout needs {layout.min_length})")
        try:
            code = int(type_text)
        except ValueError:
            return Reject(f"call type {type_text!r} is not a number")
        if code >= 50:
            code -= 50
        if code == 0:
            return NOTICE
        try:
            y, m, d = self._day(date_text)
            end = self._clock.to_utc(dt.datetime(y, m, d, int(time_text[:2]), int(time_text[3:5]),
                                                 int(time_text[6:8])))
        except ValueError:
            return Reject(f"unreadable date or time {date_text!r} {time_text!r}")
        inbound = code % 2 == 1 and code != 9
        try:
            talk = _seconds(duration_text)
            ring = _seconds(ring_text) if inbound and ring_text else 0
        except ValueError:
            return Reject(f"unreadable duration {duration_text!r} or ring time {ring_text!r}")
        if talk < 0 or ring < 0:
            return Reject("negative duration")
        answer = end - dt.timedelta(seconds=talk)
        start = answer - dt.timedelta(seconds=ring) if ring else answer
        trunk_device = f"trunk {trunk or trunk_group}" if (trunk or trunk_group) else ""
        if inbound:
            direction, calling, called, orig, dest = INBOUND, number, extension, trunk_device, extension
        else:
            direction, calling, called, orig, dest = OUTBOUND, extension, number, extension, trunk_device
        disposition = ANSWERED if talk > 0 else NO_ANSWER
        return new_record(
            start, talk, ring, answer if talk > 0 else None, calling, called, called, "",
            extension if code in _REDIRECTED else "", orig, dest, direction, account, "", disposition,
        )
