"""Avaya Communication Manager (Definity, S8xxx, Aura CM) call detail records.

Communication Manager writes one fixed-width text record per call (or per
part of a call, with call splitting), in the format chosen with ``change
system-parameters cdr``. This driver reads three of them (option ``layout``):

``customized`` (the default when ``fields`` is given)
    The site's own record, built on page 2 of the form from named data items
    of given lengths. Option ``fields`` lists them in order, exactly as the
    form shows them: each item is ``[name, width]``, or a bare name for an
    item of its standard length (:data:`STANDARD_WIDTHS`); ``space``,
    ``return``, ``line-feed`` and ``null`` count like any other item. Item
    names are the form's (``sec-dur``, ``cond-code``, ``dialed-num``…);
    ``_`` and ``-`` are the same, case does not matter, and items the driver
    does not use (``vdn``, ``frl``, ``bcc``…) are only skipped over.
``unformatted`` and ``int-isdn``
    The fixed layouts of the Administrator's Guide (:data:`LAYOUTS`).

What becomes what
-----------------
* Instants: ``time`` is the hour and minute (``hhmm``) the call *ended*
  (option ``time_is: "start"`` if the site's records give the start); start
  = that instant − duration. ``date`` (``mmddyy``, or ``ddmmyy`` with option
  ``date_format: "day/month"``, as the form's CDR Date Format) gives the day.
  The ``unformatted`` and ``int-isdn`` layouts (and a customized record
  without ``date``) have no date: the day is then taken from the instant the
  record was received (the Miner hands the driver the spool's receive instant
  of every record), the day before when ``hhmm`` is later than the receive
  time of day. That suits live collection only: an old file imported later
  gets the import day, so for files give the customized record a ``date``.
* talk = ``sec-dur`` (seconds), else ``duration`` (``hmmt``: hours, minutes
  and tenths of a minute, so 6-second steps). A duration of ``9999`` (the
  clock was changed during the call) is rejected.
* calling = ``calling-num`` (else ``clg-num/in-tac``, except on inbound
  calls, where that item is the incoming trunk's access code); called = ``code-dial`` +
  ``dialed-num`` on outbound calls (the access code the user dialled and the
  digits after it: give the site its access codes and the Miner takes them
  off), else ``dialed-num``; original_called = ``dialed-num``.
* orig_device = the incoming trunk access code (``in-trk-code``, else
  ``clg-num/in-tac`` on inbound calls); dest_device = the outgoing trunk
  access code (``code-used``). account_code = ``acct-code``, else
  ``auth-code``. pbx_call_id = ``ucid`` when the record has it.

Direction and outcome come from the condition code (``cond-code``):

* ``0`` intraswitch → internal; ``7`` (AAR/ARS), ``A`` (outgoing), ``B``
  (adjunct-placed outgoing) → outbound; ``9`` (incoming, tandem) → inbound;
* ``G`` (ring interval of an answered call; its conversation has a record of
  its own) is skipped; ``H`` (abandoned) and ``I`` (busy) are inbound calls
  that were not answered, with the duration as their ring time;
* ``E``/``F`` (ineffective call attempts) failed;
* anything else (``1`` attendant, ``4`` 10-hour interim record, ``8``
  ringback queue, ``C`` conference…): outbound when an outgoing trunk was
  used or an access code dialled (``code-used``, ``out-crt-id``,
  ``code-dial``), inbound when an incoming one was
  (``in-trk-code``, ``in-crt-id``), otherwise no hint (the Miner decides from
  the numbers).

Otherwise a call with talk time is answered, one without is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..base import (
    ANSWERED,
    BUSY,
    FAILED,
    INBOUND,
    INTERNAL,
    NO_ANSWER,
    OUTBOUND,
    UTC,
    Driver,
    DriverConfigError,
    Outcome,
    Reject,
    Skip,
    decode,
)
from ..csvkit import LocalClock, check_option_names, new_record

# Standard lengths of the data items of a customized record.
STANDARD_WIDTHS = {
    "acct-code": 15, "attd-console": 2, "auth-code": 13, "bandwidth": 2, "bcc": 1, "calling-num": 15,
    "clg-num/in-tac": 10, "clg-pty-cat": 2, "code-dial": 4, "code-used": 4, "cond-code": 1, "date": 6,
    "dialed-num": 23, "duration": 4, "feat-flag": 1, "frl": 1, "in-crt-id": 3, "in-trk-code": 4, "ins": 3,
    "isdn-cc": 11, "ixc-code": 4, "line-feed": 1, "ma-uui": 1, "node-num": 2, "null": 1, "out-crt-id": 3,
    "ppm": 5, "res-flag": 1, "return": 1, "sec-dur": 5, "space": 1, "time": 4, "tsc-ct": 4, "tsc-flag": 1,
    "ucid": 20, "vdn": 5,
}

# The fixed layouts: (item, first position counted from 1, width); what lies
# between the items listed is spaces or items the driver does not read.
LAYOUTS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "unformatted": (
        ("time", 1, 4), ("duration", 5, 4), ("cond-code", 9, 1), ("code-dial", 10, 4), ("code-used", 14, 4),
        ("dialed-num", 18, 15), ("calling-num", 33, 10), ("acct-code", 43, 15), ("auth-code", 58, 7),
        ("frl", 67, 1), ("in-crt-id", 68, 3), ("out-crt-id", 71, 3), ("feat-flag", 74, 1),
        ("attd-console", 75, 2), ("in-trk-code", 77, 4),
    ),
    "int-isdn": (
        ("time", 1, 4), ("duration", 6, 4), ("cond-code", 11, 1), ("code-dial", 13, 4), ("code-used", 18, 4),
        ("dialed-num", 23, 15), ("calling-num", 39, 10), ("acct-code", 50, 15), ("auth-code", 66, 7),
        ("frl", 76, 1), ("in-crt-id", 78, 3), ("out-crt-id", 82, 3), ("feat-flag", 86, 1),
        ("attd-console", 88, 2), ("in-trk-code", 91, 4),
    ),
}
LAYOUT_NAMES = ("customized", *LAYOUTS)

# The items the driver reads, in the order of _Plan.slices.
USED = ("date", "time", "duration", "sec-dur", "cond-code", "code-dial", "code-used", "dialed-num", "calling-num",
        "clg-num/in-tac", "acct-code", "auth-code", "in-crt-id", "out-crt-id", "in-trk-code", "ucid")
_OPTION_NAMES = ("layout", "fields", "date_format", "time_is")
_OUTBOUND_CODES = frozenset("7AB")
BLANK = Skip("blank line")
RING_INTERVAL = Skip("ring interval of an answered call (condition code G)")
_DAY = dt.timedelta(days=1)
_SKEW = dt.timedelta(minutes=10)  # a PBX clock this far ahead of the collector's is still "today"


def _item_name(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class _Plan:
    """Where each item the driver reads sits in a record."""

    __slots__ = ("slices", "min_length", "has_date")

    def __init__(self, items: Sequence[tuple[str, int, int]]):
        found: dict[str, tuple[int, int]] = {}
        for name, first, width in items:
            found.setdefault(name, (first - 1, first - 1 + width))
        missing = [n for n in ("time", "cond-code") if n not in found]
        if "duration" not in found and "sec-dur" not in found:
            missing.append("duration or sec-dur")
        if missing:
            raise DriverConfigError(
                "avaya_cm fields lack " + ", ".join(missing) + ": the driver cannot read a call without"
            )
        self.slices = tuple(found.get(name) for name in USED)
        self.has_date = "date" in found
        needed = [found[n] for n in ("date", "time", "duration", "sec-dur", "cond-code") if n in found]
        self.min_length = max(end for _, end in needed)


def _customized_items(fields: Any) -> list[tuple[str, int, int]]:
    if isinstance(fields, str) or not isinstance(fields, Sequence) or not fields:
        raise DriverConfigError(
            'avaya_cm option \'fields\' must be the customized record\'s data items in order, e.g. '
            '[["date", 6], "space", ["time", 4], "space", ["sec-dur", 5], "space", ["cond-code", 1], …]'
        )
    items = []
    position = 1
    for item in fields:
        if isinstance(item, str):
            name = _item_name(item)
            width = STANDARD_WIDTHS.get(name)
            if width is None:
                raise DriverConfigError(
                    f"avaya_cm field {item!r} has no standard length: give it as [{item!r}, length]"
                )
        elif (isinstance(item, Sequence) and len(item) == 2 and isinstance(item[0], str)
              and isinstance(item[1], int) and not isinstance(item[1], bool)):
            name, width = _item_name(item[0]), item[1]
            if not 1 <= width <= 99:
                raise DriverConfigError(f"avaya_cm field {item[0]!r}: the length must be 1 to 99, not {width}")
        else:
            raise DriverConfigError(f"avaya_cm field {item!r} must be a name or a [name, length] pair")
        items.append((name, position, width))
        position += width
    return items


def _plan(options: dict[str, Any]) -> _Plan:
    layout = options.get("layout", "customized")
    if layout not in LAYOUT_NAMES:
        raise DriverConfigError(f"avaya_cm option 'layout' must be one of {', '.join(LAYOUT_NAMES)}, not {layout!r}")
    fields = options.get("fields")
    if layout == "customized":
        if fields is None:
            raise DriverConfigError(
                "avaya_cm needs the site's customized record as option 'fields' (the data items of page 2 of "
                "system-parameters cdr, in order), or option 'layout': unformatted or int-isdn"
            )
        return _Plan(_customized_items(fields))
    if fields is not None:
        raise DriverConfigError(f"avaya_cm option 'fields' is for the customized layout, not {layout}")
    return _Plan(LAYOUTS[layout])


def _digits(text: str) -> bool:
    return text.isascii() and text.isdecimal()


class AvayaCmDriver(Driver):
    name = "avaya_cm"
    brand = "Avaya"
    models = "Communication Manager (Definity, S8xxx, Aura CM)"
    transport = "CDR link over TCP or serial (reliable or unreliable session), or CDR files"
    description = "Reads Avaya CM call detail records: customized (the site's field list), unformatted, int-isdn."

    @classmethod
    def detection_options(cls) -> list[dict]:
        """The fixed layouts, tried by ``calltally drivers detect`` (a customized one needs the site's list)."""
        return [{"layout": "unformatted"}, {"layout": "int-isdn"}]

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._plan = _plan(options)
        self._day_first = options.get("date_format") == "day/month"
        self._time_is_end = options.get("time_is", "end") == "end"
        self._clock = LocalClock(self.config.timezone)
        self._zone = self.config.timezone
        # Records without a date need the instant each was received.
        self.needs_received = not self._plan.has_date

    # --- options ---------------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "avaya_cm")
        if options.get("date_format", "month/day") not in ("month/day", "day/month"):
            raise DriverConfigError("avaya_cm option 'date_format' must be month/day or day/month, as CDR Date Format")
        if options.get("time_is", "end") not in ("end", "start"):
            raise DriverConfigError("avaya_cm option 'time_is' must be end (the default) or start")
        _plan(options)

    # --- parsing -----------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return self._record(raw, "")

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return self.parse_received(raws, ())

    def parse_received(self, raws: Sequence[bytes], received: Sequence[str]) -> list[Outcome]:
        out = []
        record = self._record
        for i, raw in enumerate(raws):
            try:
                out.append(record(raw, received[i] if i < len(received) else ""))
            except Exception as exc:  # a driver bug must not lose the record
                out.append(Reject(f"driver error: {type(exc).__name__}: {exc}"))
        return out

    def _record(self, raw: bytes, received: str) -> Outcome:
        text = decode(raw).rstrip("\r\n\x00")
        if not text.strip():
            return BLANK
        plan = self._plan
        if len(text) < plan.min_length:
            return Reject(f"{len(text)} characters: the record ends before its time, duration and condition code")
        values = [text[s[0]:s[1]] if s else "" for s in plan.slices]
        (date_text, time_text, duration_text, sec_text, cond, code_dial, code_used, dialed, calling, clg_tac,
         account, auth, in_crt, out_crt, in_trk, ucid) = values
        # duration
        if sec_text:
            sec = sec_text.strip()
            if not _digits(sec):
                return Reject(f"sec-dur is not a number of seconds: {sec_text!r}")
            seconds = int(sec)
        else:
            hmmt = duration_text.replace(" ", "0")
            if len(hmmt) != 4 or not _digits(hmmt):
                return Reject(f"unreadable duration {duration_text!r}; expected hmmt (hours, minutes, tenths)")
            if hmmt == "9999":
                return Reject("duration 9999: the clock was changed during the call, its length is unknown")
            seconds = int(hmmt[0]) * 3600 + int(hmmt[1:3]) * 60 + int(hmmt[3]) * 6
        # condition code → direction, disposition
        cond = cond.strip().upper()
        code_used, out_crt, in_trk, in_crt = code_used.strip(), out_crt.strip(), in_trk.strip(), in_crt.strip()
        talk, ring, disposition = seconds, 0, ANSWERED if seconds else NO_ANSWER
        if cond == "0":
            hint = INTERNAL
        elif cond in _OUTBOUND_CODES:
            hint = OUTBOUND
        elif cond == "9":
            hint = INBOUND
        elif cond == "G":
            return RING_INTERVAL
        elif cond == "H" or cond == "I":
            hint, talk, ring, disposition = INBOUND, 0, seconds, NO_ANSWER if cond == "H" else BUSY
        else:
            if code_used or out_crt or code_dial.strip():
                hint = OUTBOUND
            elif in_trk or in_crt:
                hint = INBOUND
            else:
                hint = None
            if cond == "E" or cond == "F":
                talk, disposition = 0, FAILED
            elif not cond:
                return Reject("no condition code")
        # instants
        hhmm = time_text.replace(" ", "0")
        if len(hhmm) != 4 or not _digits(hhmm) or hhmm[:2] > "23" or hhmm[2:] > "59":
            return Reject(f"unreadable time {time_text!r}; expected hhmm")
        hour, minute = int(hhmm[:2]), int(hhmm[2:])
        if date_text:
            day = self._date(date_text)
            if day is None:
                order = "ddmmyy" if self._day_first else "mmddyy"
                return Reject(f"unreadable date {date_text!r}; expected {order} (CDR Date Format)")
            local = dt.datetime.combine(day, dt.time(hour, minute))
        else:
            local = self._received_local(received, hour, minute)
            if local is None:
                return Reject(
                    "the record has no date and its receive instant is unknown: give the customized record a "
                    "date item, or collect it live"
                )
        start = self._clock.to_utc(local)
        if self._time_is_end:
            start -= dt.timedelta(seconds=talk + ring)
        # numbers
        calling, clg_tac = calling.strip(), clg_tac.strip()
        if clg_tac and not calling:
            # the calling extension, except on incoming calls: the incoming trunk's access code
            if hint == INBOUND:
                in_trk = in_trk or clg_tac
            else:
                calling = clg_tac
        dialed = dialed.strip()
        called = code_dial.strip() + dialed if hint == OUTBOUND else dialed
        return new_record(
            start,
            talk,
            ring,
            None,
            calling,
            called,
            dialed,
            "",
            "",
            in_trk,
            code_used,
            hint,
            account.strip() or auth.strip(),
            ucid.strip(),
            disposition,
            ucid.strip(),
        )

    def _date(self, text: str) -> dt.date | None:
        text = text.strip()
        if len(text) != 6 or not _digits(text):
            return None
        first, second, year = int(text[:2]), int(text[2:4]), 2000 + int(text[4:])
        month, day = (second, first) if self._day_first else (first, second)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None

    def _received_local(self, received: str, hour: int, minute: int) -> dt.datetime | None:
        """The local wall-clock instant ``hour:minute`` on the day the record was
        received, or the day before when that would lie after its receipt."""
        if not received:
            return None
        try:
            instant = dt.datetime.fromisoformat(received)
        except ValueError:
            return None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        now = instant.astimezone(self._zone).replace(tzinfo=None)
        local = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if local > now + _SKEW:
            local -= _DAY
        return local
