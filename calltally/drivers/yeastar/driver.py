"""Yeastar S-Series, P-Series, K2 and Cloud PBX call detail records (CSV).

Reads a CSV export (or API ``NewCdr``/CDR-search results written as CSV) whose
header line names the columns; both naming generations are accepted:
API v1 / S-Series (``callid, timestart, callfrom, callto, callduraction,
talkduraction, srctrunkname, desttrunkname, status, type, pincode,
didnumber``, also the misspelt ``dsttrcunkname``) and API v2 / P-Series /
K2 (``call_id, time_start, call_from, call_to, call_duration, talk_duration,
src_trunk_name, dst_trunk_name, status, type, pin_code, did_number``), and a
few web-UI spellings (``Time``, ``From``, ``To``, ``Call Type``, ``PIN``).
``timestart`` and ``callfrom``/``callto`` are required.

What becomes what
-----------------
* start = ``timestart``, local time of the site (``DriverOptions.timezone``),
  ``YYYY-MM-DD HH:MM:SS`` (ISO forms with ``T`` or an offset also read).
* talk = ``talkduraction``; ring = ``callduraction`` − talk (never negative).
* calling = ``callfrom``; called = ``didnumber`` on an inbound call when
  present (the number the caller dialled), else ``callto``; original_called =
  the same; final_called = ``callto`` (the extension that got the call).
* direction = ``type``: Inbound/Outbound/Internal. Without a type: source
  trunk → inbound, destination trunk → outbound, else no hint.
* devices: ``srctrunkname``/``dsttrunkname``, else the extension
  (``callfrom`` on outbound/internal calls, ``callto`` on inbound/internal).
* account_code = ``pincode`` (the PIN of a PIN-list protected route).
* pbx_call_id = ``callid``.
* disposition: ANSWERED, NO ANSWER, BUSY, FAILED; VOICEMAIL counts as
  answered when there is talk time (the caller reached the voicemail, the
  trunk was seized) and as no answer otherwise. Anything else: answered with
  talk time, else failed.

Options: ``columns`` (list of column names for a file without header line).
"""

from __future__ import annotations

import datetime as dt

from ..base import ANSWERED, BUSY, FAILED, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, Outcome, Reject
from ..csvkit import LocalClock, new_record
from ..headercsv import HeaderCsvDriver

FIELDS = (
    "callid", "timestart", "callfrom", "callto", "callduraction", "talkduraction", "srctrunkname",
    "dsttrunkname", "status", "type", "pincode", "didnumber",
)
ALIASES = {
    "callid": ("call_id", "uniqueid", "Call ID"),
    "timestart": ("time_start", "Time", "Start time", "Date"),
    "callfrom": ("call_from", "From", "Caller"),
    "callto": ("call_to", "To", "Callee"),
    "callduraction": ("call_duration", "callduration", "Duration", "Call Duration(s)", "Ring Duration"),
    "talkduraction": ("talk_duration", "talkduration", "Talk Duration", "Talk Duration(s)", "billsec"),
    "srctrunkname": ("src_trunk_name", "srctrunk", "Source Trunk"),
    "dsttrunkname": ("desttrunkname", "dsttrcunkname", "dst_trunk_name", "dest_trunk_name", "Destination Trunk"),
    "status": ("disposition", "Call Status"),
    "type": ("call_type", "Call Type", "calltype"),
    "pincode": ("pin_code", "PIN", "PIN Code"),
    "didnumber": ("did_number", "DID", "DID Number"),
}
_TYPES = {"inbound": INBOUND, "outbound": OUTBOUND, "internal": INTERNAL, "incoming": INBOUND,
          "outgoing": OUTBOUND, "extension": INTERNAL}
_STATUS = {"ANSWERED": ANSWERED, "NO ANSWER": NO_ANSWER, "NOANSWER": NO_ANSWER, "BUSY": BUSY,
           "FAILED": FAILED, "CONGESTION": BUSY}


class YeastarDriver(HeaderCsvDriver):
    name = "yeastar"
    brand = "Yeastar"
    models = "Yeastar S-Series (S20–S300), P-Series, K2, Cloud PBX"
    transport = "CDR CSV export or API CDR rows as CSV (header line required, or option columns)"
    description = "Reads Yeastar CDR CSV by header name, either naming generation; direction from type."

    FIELDS = FIELDS
    ALIASES = ALIASES
    REQUIRED = ("timestart", "callfrom", "callto")

    def __init__(self, config=None):
        super().__init__(config)
        self._clock = LocalClock(self.config.timezone)

    def _record(self, values: list[str]) -> Outcome:
        (call_id, start_text, src, dst, total_text, talk_text, src_trunk, dst_trunk, status, kind, pin,
         did) = values
        try:
            start = self._clock.parse_iso(start_text.strip())
        except ValueError:
            return Reject(f"unreadable timestart {start_text[:40]!r}")
        try:
            talk = int(talk_text) if talk_text else 0
            total = int(total_text) if total_text else talk
        except ValueError:
            bad = talk_text if total_text.strip().isdecimal() else total_text
            return Reject(f"call or talk duration is not a whole number of seconds: {bad[:40]!r}")
        if talk < 0 or total < 0:
            return Reject(f"negative duration ({total}) or talk duration ({talk})")
        ring = total - talk
        if ring < 0:
            ring = 0
        src = src.strip()
        dst = dst.strip()
        src_trunk = src_trunk.strip()
        dst_trunk = dst_trunk.strip()
        direction = _TYPES.get(kind.strip().lower()) if kind else None
        if direction is None:
            direction = OUTBOUND if dst_trunk else INBOUND if src_trunk else None
        state = status.strip().upper()
        disposition = _STATUS.get(state)
        if disposition is None:
            if state == "VOICEMAIL":
                disposition = ANSWERED if talk > 0 else NO_ANSWER
            else:
                disposition = ANSWERED if talk > 0 else FAILED
        if disposition != ANSWERED:
            talk = 0
            answer = None
        else:
            answer = start + (_SECONDS[ring] if ring < 600 else dt.timedelta(seconds=ring))
        did = did.strip()
        called = did if direction == INBOUND and did else dst
        return new_record(
            start, talk, ring, answer, src, called, called, dst, "",
            src_trunk or (src if direction != INBOUND else ""),
            dst_trunk or (dst if direction != OUTBOUND else ""),
            direction, pin.strip(), call_id.strip(), disposition,
        )


_SECONDS = [dt.timedelta(seconds=s) for s in range(600)]
