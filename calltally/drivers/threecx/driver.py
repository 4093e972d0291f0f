"""3CX call data records, as the CDR service writes them to a file (one file
per call or one file for all calls) or sends them over TCP.

One comma-separated line per call. The fields and their order are chosen by
the administrator in the 3CX console, so the driver takes the site's list in
option ``fields``; the default is the common order::

    historyid, callid, duration, time_start, time_answered, time_end,
    reason_terminated, from_no, to_no, from_dn, to_dn, dial_no,
    reason_changed, final_number, final_dn, bill_code, bill_rate, bill_cost,
    bill_name, chain, from_type, to_type, final_type, from_dispname,
    to_dispname, final_dispname, missed_queue_calls

(names as in the console, ``-`` or ``_`` alike). A field the site does not
send is simply absent; only ``time_start`` is required. A trailing comma
(one extra empty field) is accepted.

The chain
---------
v16 writes ``Chain: 10001,10002,`` — with bare commas, so the chain spreads
over several CSV fields; v18+ separates the parties with ``;``. When a line
has more fields than configured and ``chain`` is one of them, the fields
after the chain are taken from the end of the line and everything between
belongs to the chain.

What becomes what
-----------------
* start = time_start, answer = time_answered (empty: not answered); times
  are ``YYYY/MM/DD HH:MM:SS`` (ISO dashes accepted), in the site's time zone
  (``DriverOptions.timezone``), or UTC with option ``utc_times: true``.
* talk = duration (``hh:mm:ss``, the talk time; plain seconds accepted);
  ring = time_answered − time_start, or time_end − time_start when unanswered.
* disposition: answered when time_answered is set; otherwise busy for
  ``*Busy*`` reasons, failed for ``Failed*``/``NoRouteExists``/``*Error*``,
  else no answer.
* calling = from_no without 3CX's ``Ext.`` prefix (from_dn when empty);
  called = original_called = dial_no (to_no when empty); final_called =
  final_number; redirecting = the party before the last one in the chain
  when the chain holds three or more parties, else to_no when reason_changed
  is set and the final number differs.
* orig_device = from_dn, dest_device = final_dn (to_dn when empty): 3CX
  numbers trunks ("lines") and extensions alike as DNs.
* account_code = bill_code (the code dialled after the number);
  pbx_call_id = callid, else the number of historyid (``Call 288831``).

Direction hint
--------------
From the types (v16 ``Internal``/``External``; v18+ ``Extension``, ``Line``,
``Queue``, ``RingGroup``, ``IVR``…): ``External``/``Line`` are outside
parties, any other type an inside one. Outside caller → inbound; inside
caller and outside destination (to_type, or final_type after a forward) →
outbound; both inside → internal; no types → no hint.
"""

from __future__ import annotations

import datetime as dt
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
from ..csvkit import LocalClock, check_option_names, new_record, parse_in_batches, parse_one, string_list_option

DEFAULT_FIELDS = (
    "historyid", "callid", "duration", "time_start", "time_answered", "time_end", "reason_terminated",
    "from_no", "to_no", "from_dn", "to_dn", "dial_no", "reason_changed", "final_number", "final_dn",
    "bill_code", "bill_rate", "bill_cost", "bill_name", "chain", "from_type", "to_type", "final_type",
    "from_dispname", "to_dispname", "final_dispname", "missed_queue_calls",
)
KNOWN_FIELDS = frozenset(DEFAULT_FIELDS)
_USED = ("historyid", "callid", "duration", "time_start", "time_answered", "time_end", "reason_terminated",
         "from_no", "to_no", "from_dn", "to_dn", "dial_no", "reason_changed", "final_number", "final_dn",
         "bill_code", "chain", "from_type", "to_type", "final_type")
_OPTION_NAMES = ("fields", "utc_times")
_OUTSIDE_TYPES = frozenset({"external", "line", "trunk", "gateway", "provider"})
_OUTSIDE, _INSIDE, _UNKNOWN = 1, 2, 0
HEADER = Skip("header line")
_CSV: dict[str, Any] = {}


def field_key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _fields_option(options: dict[str, Any]) -> list[str] | None:
    value = string_list_option(options, "fields", "threecx", '["historyid", "callid", "duration", "time_start"]')
    if value is None:
        return None
    keys = [field_key(v) for v in value]
    unknown = [v for v, k in zip(value, keys, strict=True) if k not in KNOWN_FIELDS and k != "ignore"]
    if unknown:
        raise DriverConfigError(
            f"threecx option 'fields' names unknown field(s) {', '.join(unknown)}; use the names of the 3CX "
            f"console (e.g. time-start, from-no) or 'ignore' for a column to leave out"
        )
    seen = [k for k in keys if k != "ignore"]
    if len(seen) != len(set(seen)):
        raise DriverConfigError("threecx option 'fields' names a field twice")
    if "time_start" not in keys:
        raise DriverConfigError("threecx option 'fields' must include time-start (the call's start time)")
    return keys


def hms_seconds(text: str) -> int:
    """``hh:mm:ss`` (or ``mm:ss``, or plain seconds, fractions dropped) as
    seconds; raises ValueError."""
    text = text.strip()
    if ":" not in text:
        return int(float(text)) if text else 0
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(text)
    total = 0
    for part in parts[:-1]:
        if not part.isdecimal():
            raise ValueError(text)
        total = total * 60 + int(part)
    last = parts[-1]
    head = last.split(".", 1)[0]
    if not head.isdecimal() or int(head) > 59:
        raise ValueError(text)
    return total * 60 + int(head)


def chain_parties(text: str) -> list[str]:
    """The parties of a chain: ``Chain: Ext.10016;+4670…;`` or ``Chain: a,b,c,``."""
    text = text.strip()
    if text[:6].lower() == "chain:":
        text = text[6:]
    return [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]


def number_of(text: str) -> str:
    text = text.strip()
    if text[:4] == "Ext.":
        return text[4:]
    return text


def _type_kind(text: str) -> int:
    text = text.strip().lower()
    if not text:
        return _UNKNOWN
    return _OUTSIDE if text in _OUTSIDE_TYPES else _INSIDE


def _disposition(reason: str) -> str:
    low = reason.strip().lower()
    if "busy" in low:
        return BUSY
    if low.startswith("failed") or "noroute" in low or "error" in low or "notregistered" in low:
        return FAILED
    return NO_ANSWER


class ThreeCxDriver(Driver):
    name = "threecx"
    brand = "3CX"
    models = "3CX Phone System v14–v20 CDR service (file per call, single file, TCP)"
    transport = "CDR log file(s) or TCP socket (active or passive)"
    description = "Reads 3CX CDR lines with a configurable field list (v16 and v18+ call types)."

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._fields = tuple(_fields_option(options) or DEFAULT_FIELDS)
        self._clock = LocalClock(self.config.timezone, utc=bool(options.get("utc_times", False)))
        width = len(self._fields)
        self._width = width
        pos = {k: i for i, k in enumerate(self._fields) if k != "ignore"}
        self._chain_at = pos.get("chain", -1)
        # the index of each used field, or -1; fields after the chain are also
        # kept as negative offsets from the end of the line
        self._at = tuple(pos.get(k, -1) for k in _USED)
        self._from_end = tuple(
            (i - width) if (i >= 0 and self._chain_at >= 0 and i > self._chain_at) else i for i in self._at
        )
        self._kinds: dict[str, int] = {}

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "threecx")
        if not isinstance(options.get("utc_times", False), bool):
            raise DriverConfigError("threecx option 'utc_times' must be true or false (true: the CDR times are UTC)")
        _fields_option(options)

    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _time(self, text: str) -> dt.datetime:
        text = text.strip()
        if len(text) >= 10 and text[4] == "/":
            text = text.replace("/", "-")
        return self._clock.parse_iso(text)

    def _row(self, row: list[str]) -> Outcome:
        width = len(row)
        need = self._width
        chain = ""
        if width == need or (width == need + 1 and not row[-1]):
            at = self._at
            if self._chain_at >= 0:
                chain = row[self._chain_at]
        elif width > need and self._chain_at >= 0:
            at = self._from_end
            chain = ",".join(row[self._chain_at:width - need + self._chain_at + 1])
        else:
            first = field_key(row[0]) if row else ""
            if first in KNOWN_FIELDS:
                return HEADER
            return Reject(f"{width} fields; the configured 3CX CDR layout has {need}")
        if at is self._at:
            values = [row[i] if i >= 0 else "" for i in at]
        else:
            values = [row[j] if i >= 0 else "" for i, j in zip(self._at, at, strict=True)]
        (historyid, callid, duration_text, start_text, answer_text, end_text, reason, from_no, to_no,
         from_dn, to_dn, dial_no, reason_changed, final_number, final_dn, bill_code, _chain, from_type,
         to_type, final_type) = values
        if field_key(start_text) == "time_start" or historyid.strip().lower() == "historyid":
            return HEADER
        try:
            start = self._time(start_text)
        except ValueError:
            return Reject(f"unreadable time_start {start_text[:40]!r}")
        answer = None
        if answer_text.strip():
            try:
                answer = self._time(answer_text)
            except ValueError:
                return Reject(f"unreadable time_answered {answer_text[:40]!r}")
        end = None
        if end_text.strip():
            try:
                end = self._time(end_text)
            except ValueError:
                return Reject(f"unreadable time_end {end_text[:40]!r}")
        try:
            talk = hms_seconds(duration_text)
        except ValueError:
            return Reject(f"duration is not hh:mm:ss: {duration_text[:40]!r}")
        if answer is not None:
            ring = int((answer - start).total_seconds())
            disposition = ANSWERED
            if talk == 0 and end is not None and self._at[2] == -1:
                talk = max(int((end - answer).total_seconds()), 0)
        else:
            ring = int((end - start).total_seconds()) if end is not None else 0
            disposition = _disposition(reason)
            talk = 0
        calling = number_of(from_no) or from_dn.strip()
        to_number = number_of(to_no)
        called = dial_no.strip() or to_number or to_dn.strip()
        final = number_of(final_number)
        redirecting = ""
        parties = chain_parties(chain) if chain else ()
        if len(parties) >= 3:
            redirecting = number_of(parties[-2])
        elif reason_changed.strip() and final and final != to_number:
            redirecting = to_number
        orig_kind = self._kind(from_type)
        direction = None
        if orig_kind == _OUTSIDE:
            direction = INBOUND
        elif orig_kind == _INSIDE:
            to_kind = self._kind(to_type)
            if to_kind == _OUTSIDE or self._kind(final_type) == _OUTSIDE:
                direction = OUTBOUND
            elif to_kind == _INSIDE:
                direction = INTERNAL
        history = historyid.strip()
        history = history[5:].strip() if history[:5].lower() == "call " else history
        call_id = callid.strip() or history
        return new_record(
            start,
            talk,
            ring if ring > 0 else 0,
            answer,
            calling,
            called,
            called,
            final,
            redirecting,
            from_dn.strip(),
            final_dn.strip() or to_dn.strip(),
            direction,
            bill_code.strip(),
            call_id,
            disposition,
            history,
        )

    def _kind(self, text: str) -> int:
        kind = self._kinds.get(text)
        if kind is None:
            kind = _type_kind(text)
            if len(self._kinds) > 1000:
                self._kinds.clear()
            self._kinds[text] = kind
        return kind
