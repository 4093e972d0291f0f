"""NEC UNIVERGE SMDR, in two layouts chosen by option ``layout``.

``mat`` (default): SV8500/SV9500 (NEAX-style) SMDR from the MAT/OAI port
-------------------------------------------------------------------------
One record per line, optionally framed by STX (``\\x02``) and ETX (``\\x03``).
The record starts with a device digit and ``!``, then the record type:

* normal formats, fixed columns: ``KA`` outgoing, ``KB`` station to station,
  ``KE`` incoming; extended ``KH`` (outgoing), ``KI`` (incoming), ``KJ``
  (station to station) use the same columns;
* flexible formats, ``KK`` outgoing, ``KL`` incoming, ``KM`` station to
  station: a run of fields, each a 2-digit field id, a 2-digit length and
  the value, ids in ascending order.

Columns of the normal formats (counted with the STX at column 0): 5-8 route,
8-11 trunk, 14-20 station (calling on KA/KB, called on KE), 20-30 start
MMDDhhmmss, 30-40 end MMDDhhmmss, 40-50 account code, 53 transfer flag,
62-86 dialled digits (KA), 64-70 called station (KB), 98-116 calling number
(KE), 116-118 / 118-120 start / end year (2 digits).

Flexible fields read: 01 trunk (fusion point, route, trunk, logical route,
3 digits each), 02/04 calling/called physical number (kind 1, tenant 3,
station 6), 03/05 calling/called telephone number (fusion point 3, user
group 3, number), 06 start and end ``YYYYMMDDhhmmssmmm`` twice, 07 account
code, 08 condition B (first digit 1, 3 or 4: transferred; second digit 4
or 6: forwarded outside), 10 dialled number, 16 calling number / ANI (a
presentation digit, then the number). Real output is not always consistent
about lengths (some fields count a leading indicator digit, some lengths are
short), so the reader accepts the declared length, one or two less, or three
more, whichever keeps the field ids ascending up to the end of the record;
as a last resort the last field takes the rest of the line.

What becomes what: start/end are site-local times; talk = end − start; a
record whose end equals its start is taken as unanswered (the PBX writes
one for an abandoned trunk call when told to). Outgoing: calling = station,
called = dialled digits, dest_device = ``route R trunk T``. Incoming:
calling = ANI, called = station, orig_device = trunk. Station to station:
internal. There is no call id in NEC SMDR.

``page``: SV8100/SV9100/SL1000/SL1100/SL2100 printed SMDR report
----------------------------------------------------------------
Fixed columns (1-based): 1-4 class, 6-10 time hh:mm, 12-16 date mm/dd,
18-21 line, 23-30 duration hh:mm:ss, 32-41 station, 43-62 dialled number or
caller id, 64-79 account code or ``NO ANSWER``. Classes: POT/POTA/POTP/POTW
and IVOT outgoing, PIN and IVIN incoming, ICM intercom, PTRS/ITRS transferred
(outgoing/incoming), NEXT a continuation line with the caller's name, ALB/BRD/
BFL notices; page headings, the NEXT and notice lines are skipped. The date
has no year: it is the year that puts the call no more than 31 days after
today (the report is printed as calls end).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..base import (
    ANSWERED,
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

LAYOUTS = ("mat", "page")
_OPTION_NAMES = ("layout",)
_NORMAL = {"KA": OUTBOUND, "KH": OUTBOUND, "KE": INBOUND, "KI": INBOUND, "KB": INTERNAL, "KJ": INTERNAL}
_FLEXIBLE = {"KK": OUTBOUND, "KL": INBOUND, "KM": INTERNAL}
_NOT_A_CALL = Skip("not a call record")
_HEADING = Skip("page heading")
_CONTINUATION = Skip("caller name continuation line")
_NOTICE = Skip("SMDR notice")
_PAGE_OUT = frozenset({"POT", "POTA", "POTP", "POTW", "IVOT", "PTRS"})
_PAGE_IN = frozenset({"PIN", "IVIN", "ITRS"})
_PAGE_TRANSFER = frozenset({"PTRS", "ITRS"})
_PAGE_SKIP = frozenset({"NEXT", "ALB", "BRD", "BFL"})
_datetime = dt.datetime
_MAX_FIELD = 19  # the highest flexible field id NEC documents (19: trunk call received time)


def _num(text: str) -> str:
    return text.replace(" ", "")


# --- flexible fields -----------------------------------------------------------

def _fields(body: str) -> dict[str, str] | None:
    """The fields of a flexible record body, or None when no reading of the
    lengths reaches the end of the record with ascending field ids."""
    found: dict[str, str] = {}
    # fast path: the declared lengths are right
    pos, end, last = 0, len(body), -1
    while pos < end:
        head = body[pos:pos + 4]
        if len(head) < 4 or not head.isdecimal():
            break
        fid = int(head[:2])
        size = int(head[2:])
        if fid <= last or fid > _MAX_FIELD or pos + 4 + size > end:
            break
        found[head[:2]] = body[pos + 4:pos + 4 + size]
        last = fid
        pos += 4 + size
    else:
        return found
    for allow_rest in (False, True):
        found = {}
        if _search(body, 0, -1, found, allow_rest, [0]):
            return found
    return None


def _search(body: str, pos: int, last: int, found: dict[str, str], allow_rest: bool, budget: list[int]) -> bool:
    end = len(body)
    if pos == end:
        return True
    budget[0] += 1
    if budget[0] > 2000:
        return False
    head = body[pos:pos + 4]
    if len(head) < 4 or not head.isdecimal():
        return False
    fid = int(head[:2])
    if fid <= last or fid > _MAX_FIELD:
        return False
    size = int(head[2:])
    tried = set()
    for length in (size, size - 1, size - 2, size + 3):
        if length < 0 or length in tried or pos + 4 + length > end:
            continue
        tried.add(length)
        found[head[:2]] = body[pos + 4:pos + 4 + length]
        if _search(body, pos + 4 + length, fid, found, allow_rest, budget):
            return True
        del found[head[:2]]
    if allow_rest and pos + 4 + size > end:
        found[head[:2]] = body[pos + 4:]
        return True
    return False


def _telephone(value: str | None) -> str:
    if not value or len(value) <= 6:
        return ""
    return _num(value[6:])


def _physical(value: str | None) -> str:
    if not value or len(value) < 5:
        return ""
    return _num(value[4:10])


def _flex_time(text: str) -> dt.datetime | None:
    if len(text) < 14 or not text[:14].isdecimal():
        return None
    try:
        return _datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                         int(text[12:14]))
    except ValueError:
        return None


def _normal_time(text: str, year: str) -> dt.datetime | None:
    if len(text) != 10 or not text.isdecimal() or len(year) != 2 or not year.isdecimal():
        return None
    try:
        return _datetime(2000 + int(year), int(text[:2]), int(text[2:4]), int(text[4:6]), int(text[6:8]),
                         int(text[8:10]))
    except ValueError:
        return None


class NecSvDriver(Driver):
    name = "nec_sv"
    brand = "NEC"
    models = "UNIVERGE SV8500/SV9500 (MAT SMDR); SV8100/SV9100/SL1000/SL1100/SL2100 (SMDR report)"
    transport = "TCP or serial SMDR output"
    description = ("Reads NEC UNIVERGE SMDR: SV8500/SV9500 normal, extended and flexible records "
                   "(layout 'mat') or the SV8100/SV9100/SL printed report (layout 'page').")

    @classmethod
    def detection_options(cls) -> list[dict]:
        """Both layouts, tried by ``calltally drivers detect``."""
        return [{"layout": "mat"}, {"layout": "page"}]

    def __init__(self, config=None):
        super().__init__(config)
        self._layout = self.config.options.get("layout", "mat")
        self._clock = LocalClock(self.config.timezone)
        self._parse_text = self._mat if self._layout == "mat" else self._page

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "nec_sv")
        layout = options.get("layout", "mat")
        if layout not in LAYOUTS:
            raise DriverConfigError(
                f"nec_sv option 'layout' must be 'mat' (SV8500/SV9500 KA…KM records) or 'page' "
                f"(SV8100/SV9100/SL report with CLASS column), not {layout!r}"
            )

    @staticmethod
    def _today() -> dt.date:
        return dt.datetime.now(dt.UTC).date()

    def parse(self, raw: bytes) -> Outcome:
        text = line_text(raw)
        if not text or text.isspace():
            return BLANK
        return self._parse_text(text)

    # --- mat ------------------------------------------------------------------------
    def _mat(self, text: str) -> Outcome:
        text = text.strip("\x02\x03\r\n ")
        mark = text.find("!K", 0, 8)
        if mark < 0:
            if text.isprintable() and not any(c.isdecimal() for c in text[:8]):
                return _NOT_A_CALL
            return Reject("not an NEC MAT SMDR record (no '!K' record type near the start)")
        kind = text[mark + 1:mark + 3]
        if kind in _FLEXIBLE:
            return self._flexible(kind, text[mark + 3:])
        if kind in _NORMAL:
            # columns counted as in NEC's tables, with STX at column 0 and the type at 3-5
            return self._normal(kind, " " * (2 - mark) + text if mark <= 2 else text[mark - 2:])
        if len(kind) == 2 and kind[1].isalpha():
            return Skip(f"NEC record type {kind} is not a call record")
        return Reject(f"unknown NEC record type {kind!r}")

    def _normal(self, kind: str, rec: str) -> Outcome:
        if len(rec) < 120:
            return Reject(f"NEC {kind} record cut short: {len(rec)} columns, 120 expected")
        start = _normal_time(rec[20:30], rec[116:118])
        end = _normal_time(rec[30:40], rec[118:120])
        if start is None or end is None:
            return Reject(f"unreadable start/end time in NEC {kind} record: {rec[20:40]!r}")
        direction = _NORMAL[kind]
        station = _num(rec[14:20])
        trunk = f"route {rec[5:8].strip()} trunk {rec[8:11].strip()}"
        calling = called = orig = dest = ""
        if direction == OUTBOUND:
            calling, called, orig, dest = station, _num(rec[62:86]), station, trunk
        elif direction == INBOUND:
            calling, called, orig, dest = _num(rec[98:116]), station, trunk, station
        else:
            calling, called = station, _num(rec[64:70])
            orig, dest = calling, called
        return self._record(start, end, calling, called, orig, dest, direction, _num(rec[40:50]),
                            rec[53] in "134")

    def _flexible(self, kind: str, body: str) -> Outcome:
        fields = _fields(body)
        if fields is None:
            return Reject(f"NEC {kind} flexible record: the fields cannot be read (damaged or cut short)")
        times = fields.get("06")
        if times is None or len(times) < 31:
            return Reject(f"NEC {kind} flexible record without a readable start/end time (field 06)")
        start = _flex_time(times[:17])
        end = _flex_time(times[17:])
        if start is None or end is None:
            return Reject(f"unreadable start/end time in NEC {kind} record: {times[:34]!r}")
        direction = _FLEXIBLE[kind]
        trunk = ""
        t = fields.get("01")
        if t and len(t) >= 9:
            trunk = f"route {t[3:6]} trunk {t[6:9]}"
        calling = _telephone(fields.get("03")) or _physical(fields.get("02"))
        called = _telephone(fields.get("05")) or _physical(fields.get("04"))
        dialled = _num(fields.get("10", ""))
        condition = fields.get("08", "")
        account = _num(fields.get("07", ""))
        if direction == OUTBOUND:
            called = dialled
            orig, dest = calling, trunk
        elif direction == INBOUND:
            ani = fields.get("16", "")
            calling = _num(ani[1:]) if ani else ""
            orig, dest = trunk, called
        else:
            called = called or dialled
            orig, dest = calling, called
        return self._record(start, end, calling, called, orig, dest, direction, account,
                            condition[:1] in ("1", "3", "4"))

    def _record(self, start: dt.datetime, end: dt.datetime, calling: str, called: str, orig: str, dest: str,
                direction: str, account: str, transferred: bool) -> Outcome:
        talk = int((end - start).total_seconds())
        if talk < 0:
            talk += 86400 * 365 if talk < -86400 * 300 else 0  # a call across new year in a 2-digit-year record
        if talk < 0:
            return Reject(f"call ends before it starts ({start} → {end})")
        clock = self._clock
        begin = clock.to_utc(start)
        return new_record(
            begin, talk, 0, begin if talk else None, calling, called, called, "", "", orig, dest, direction,
            account, "", ANSWERED if talk else NO_ANSWER,
        )

    # --- page -----------------------------------------------------------------------
    def _page(self, text: str) -> Outcome:
        text = text.rstrip("\r\n\x03").lstrip("\x02")
        cls = text[:4].strip()
        if not cls or not cls.isalpha() or not cls.isupper():
            return _HEADING
        if cls in _PAGE_SKIP:
            return _CONTINUATION if cls == "NEXT" else _NOTICE
        if cls not in _PAGE_OUT and cls not in _PAGE_IN and cls != "ICM":
            if cls == "CLAS" or text.startswith("CLASS"):
                return _HEADING
            return Reject(f"unknown SMDR class {cls!r}")
        if len(text) < 41:
            return Reject(f"SMDR report line cut short ({len(text)} columns, at least 41 expected)")
        time_text, date_text, duration = text[5:10], text[11:16], text[22:30]
        try:
            hour, minute = int(time_text[:2]), int(time_text[3:5])
            month, day = int(date_text[:2]), int(date_text[3:5])
            h, m, s = duration.strip().split(":")
            talk = int(h) * 3600 + int(m) * 60 + int(s)
            if time_text[2] != ":" or date_text[2] != "/" or talk < 0:
                raise ValueError
            local = self._dated(month, day, hour, minute)
        except (ValueError, IndexError):
            return Reject(f"unreadable time, date or duration in SMDR report line: {text[5:30]!r}")
        line = text[17:21].strip()
        station = text[31:41].strip()
        number = _num(text[42:62])
        tail = text[63:79].strip()
        unanswered = tail.upper() == "NO ANSWER"
        account = "" if unanswered else tail
        trunk = f"line {line}" if line else ""
        if cls == "ICM":
            calling, called, orig, dest, direction = station, number, station, number, INTERNAL
        elif cls in _PAGE_IN:
            calling, called, orig, dest, direction = number, station, trunk, station, INBOUND
        else:
            calling, called, orig, dest, direction = station, number, station, trunk, OUTBOUND
        begin = self._clock.to_utc(local)
        answered = talk > 0 and not unanswered
        return new_record(
            begin, talk, 0, None, calling, called, called, "",
            station if cls in _PAGE_TRANSFER else "", orig, dest, direction, account, "",
            ANSWERED if answered else NO_ANSWER,
        )

    def _dated(self, month: int, day: int, hour: int, minute: int) -> dt.datetime:
        today = self._today()
        for year in (today.year + 1, today.year, today.year - 1):
            try:
                value = _datetime(year, month, day, hour, minute)
            except ValueError:  # 29 February
                continue
            if (value.date() - today).days <= 31:
                return value
        raise ValueError("no year fits")
