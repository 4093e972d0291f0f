"""Panasonic KX-TDA / KX-TDE / KX-NS / KX-NCP SMDR (serial or Telnet printout).

One call per line, fixed columns separated by spaces::

    Date     Time    Ext   CO Dial Number               Ring Duration Acc code   CD
    03/02/26 09:05AM 101   01 0612345678                0'05 00:02'05 4711       TR

Pattern A (80 columns): Date (8), Time (7, ``hh:mmAM``), Ext (5), CO (2),
Dial Number (25), Ring (4, ``m'ss``), Duration (8, ``hh:mm'ss``), Acc code
(10), CD (2). Pattern B prints a Cost instead of the Ring, pattern C (120
columns) has a 4-digit CO, a 50-character Dial Number and a Cost. Because
printouts often reach us with their spacing changed, the line is read by the
shape of its pieces (date, time, extension, CO, dial number, ring ``m'ss``,
duration ``hh:mm'ss``, cost with a decimal point, account code, condition
code), not by column.

* Dial Number: ``<I>`` starts an incoming call's caller id (``<I>`` alone:
  no caller id), optionally preceded by ``<D>`` and the DDI number or name
  that was called; ``EXT<n>`` an intercom call to extension n; anything else
  the digits dialled out (``P`` pauses are dropped; ``.`` secret and ``X``
  privacy digits are kept as printed; a ``-`` marks a transferred call).
* Ext: extension; ``Dnnn`` doorphone, ``Tnnn`` TIE line, ``*nnn`` a verified
  code (used as the account code when the Acc code column is empty).
* CD: ``TR`` transferred, ``FW`` forwarded to an outside line (outbound leg,
  redirecting = the extension), ``RM`` remote access, ``NA`` not answered.
* Time: option ``time_is`` ``end`` (default; KX-TDA and later print the end
  of the call) or ``start`` (old KX-TA). With ``end``, start = time − duration
  − ring. Date order: option ``date_order`` ``mdy`` (default), ``dmy`` or ``ymd``.
* A call with a zero duration, or CD ``NA``, is unanswered.
* Page headings, rulers, LOG IN/LOG OUT, check-in/out, timed-reminder and
  other notices are skipped. A duration printed as ``**`` (the clock changed
  during the call) is rejected: the call's length is unknown.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..base import ANSWERED, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, Driver, DriverConfigError, Outcome, Reject, Skip
from ..csvkit import BLANK, LocalClock, check_option_names, line_text, new_record

PATTERNS = ("A", "B", "C")
_OPTIONS = {
    "pattern": PATTERNS,
    "time_is": ("end", "start"),
    "date_order": ("mdy", "dmy", "ymd"),
}
_LINE = re.compile(
    r"\s*(?P<date>\d{2}/\d{2}/\d{2})\s+(?P<time>\d{1,2}:\d{2}(?:\s?[AP]M)?)\s+(?P<ext>[*DT]?\d{1,6})"
    r"(?:\s+(?P<co>\d{1,4}))?\s+(?P<dial>\S.*?)??"
    r"(?:\s+(?P<ring>\d{1,2}'\d{2}))?"
    r"(?:\s+(?P<cost1>\d+[.,]\d+\S*))?"
    r"\s+(?P<dur>(?:\d{2}|\*\*):(?:\d{2}|\*\*)'(?:\d{2}|\*\*))"
    r"(?:\s+(?P<cost2>\d+[.,]\d+\S*))?"
    r"(?:\s+(?P<acc>(?!(?:TR|FW|RM|NA|AN)\s*$)\S+))?"
    r"(?:\s+(?P<cd>[A-Z]{2}))?\s*$",
    re.IGNORECASE,
)
_STARTS_WITH_DATE = re.compile(r"\s*\d{2}/\d{2}/\d{2}\b")
_NOTICES = ("LOG IN", "LOG OUT", "LOGIN", "LOGOUT", "CHECK", "REMINDER", "ROOM", "WAKE", "STATUS", "MESSAGE")
_HEADING = Skip("page heading")
_NOTICE = Skip("notice, not a call")
_datetime = dt.datetime
_timedelta = dt.timedelta


class PanasonicDriver(Driver):
    name = "panasonic"
    brand = "Panasonic"
    models = "KX-TDA, KX-TDE, KX-NS, KX-NCP (SMDR patterns A, B and C)"
    transport = "RS-232 or Telnet/TCP SMDR output"
    description = "Reads Panasonic SMDR printouts: incoming <I>/<D>, outgoing, intercom, transfer and forward codes."
    #: ``calltally drivers detect`` also reads a sample with these date orders (the PBX's is a programming choice).
    detection_date_forms = ("date_order", ("dmy", "ymd"))

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._time_is_end = options.get("time_is", "end") == "end"
        self._order = options.get("date_order", "mdy")
        self._clock = LocalClock(self.config.timezone)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTIONS, "panasonic")
        for key, allowed in _OPTIONS.items():
            if key in options and options[key] not in allowed:
                raise DriverConfigError(
                    f"panasonic option {key!r} must be one of {', '.join(allowed)} (as set in the PBX's SMDR "
                    f"programming), not {options[key]!r}"
                )

    def parse(self, raw: bytes) -> Outcome:
        text = line_text(raw)
        if not text or text.isspace():
            return BLANK
        m = _LINE.match(text)
        if m is None:
            return self._not_a_record(text)
        try:
            return self._record(m)
        except ValueError as exc:
            return Reject(f"unreadable Panasonic SMDR line: {exc}")

    def _not_a_record(self, text: str) -> Outcome:
        upper = text.upper()
        if any(word in upper for word in _NOTICES):
            return _NOTICE
        if _STARTS_WITH_DATE.match(text):
            return Reject("Panasonic SMDR line without a readable duration (hh:mm'ss): cut short or damaged")
        if not text.isprintable():
            return Reject("not a Panasonic SMDR line (control or binary characters)")
        looks_like_data = any(c.isdecimal() for c in text[:9]) and not set(text.strip()) <= set("-=* ")
        if looks_like_data and "DATE" not in upper and "PAGE" not in upper:
            return Reject("not a Panasonic SMDR line (no mm/dd/yy date at the start)")
        return _HEADING

    def _date(self, text: str) -> tuple[int, int, int]:
        a, b, c = int(text[:2]), int(text[3:5]), int(text[6:8])
        order = self._order
        if order == "mdy":
            return 2000 + c, a, b
        if order == "dmy":
            return 2000 + c, b, a
        return 2000 + a, b, c

    def _record(self, m: re.Match) -> Outcome:
        dur = m["dur"]
        if "*" in dur:
            return Reject("the clock changed during the call (duration printed as **): its length is unknown")
        talk = int(dur[:2]) * 3600 + int(dur[3:5]) * 60 + int(dur[6:8])
        ring_text = m["ring"]
        ring = 0
        if ring_text:
            minutes, seconds = ring_text.split("'")
            ring = int(minutes) * 60 + int(seconds)
        time_text = m["time"].upper().replace(" ", "")
        hour, minute = int(time_text[:time_text.index(":")]), int(time_text[time_text.index(":") + 1:][:2])
        if time_text.endswith(("AM", "PM")):
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} in a 12-hour time {m['time']!r}")
            hour = hour % 12 + (12 if time_text.endswith("PM") else 0)
        year, month, day = self._date(m["date"])
        local = _datetime(year, month, day, hour, minute)
        if self._time_is_end:
            local -= _timedelta(seconds=talk + ring)
        start = self._clock.to_utc(local)
        ext = m["ext"]
        verified = ""
        if ext[0] == "*":
            verified, ext = ext[1:], ext[1:]
        co = (m["co"] or "").lstrip("0") or (m["co"] or "")
        trunk = f"CO {co}" if co else ""
        dial = (m["dial"] or "").strip()
        cd = (m["cd"] or "").upper()
        account = m["acc"] or verified
        redirecting = ""
        original = ""
        upper = dial.upper()
        if "<I>" in upper or upper.startswith("<D>"):
            at = upper.find("<I>")
            head, cli = (dial[:at], dial[at + 3:]) if at >= 0 else (dial, "")
            if head.upper().startswith("<D>"):
                original = head[3:].strip()
            calling, called, orig, dest, direction = cli.strip(), ext, trunk, ext, INBOUND
            original = original or ext
        elif upper.startswith("EXT"):
            other = dial[3:].strip()
            calling, called, orig, dest, direction = ext, other, ext, other, INTERNAL
            original = other
        else:
            transferred = "-" in dial or "\u2013" in dial
            number = dial.replace("P", "").replace("p", "").replace(" ", "").replace("-", "").replace("\u2013", "")
            calling, called, orig, dest, direction = ext, number, ext, trunk, OUTBOUND
            original = number
            if transferred:
                redirecting = ext
        if cd in ("TR", "FW"):
            redirecting = ext
        answered = talk > 0 and cd != "NA"
        answer = start + _timedelta(seconds=ring) if answered else None
        return new_record(
            start, talk, ring, answer, calling, called, original, "", redirecting, orig, dest, direction,
            account, "", ANSWERED if answered else NO_ANSWER,
        )
