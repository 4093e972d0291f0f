"""Grandstream UCM61xx/62xx/63xx/6510 call detail records (CSV export).

The UCM is Asterisk-based: its CDR CSV has the cdr_csv columns plus its own
(``accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags,
uniqueid, userfield, channel_ext, dstchannel_ext, service, caller_name,
recordfiles, dstanswer, chanext, dstchanext, session, action_owner,
action_type, src_trunk_name, dst_trunk_name``), often after a leading
``AcctId``. Columns are found by header name, so order and extra columns do
not matter; ``start``, ``src`` and ``dst`` are required.

What becomes what
-----------------
* start/answer: local times of the site (``DriverOptions.timezone``); an
  empty answer means unanswered.
* talk = ``billsec``; ring = ``duration`` − ``billsec``.
* disposition: ANSWERED, NO ANSWER, BUSY, FAILED; CONGESTION counts as busy.
* calling = ``src`` (else the number in ``clid``); called = original_called =
  ``dst``; final_called = ``dstanswer`` (who answered) when set.
* direction: ``dst_trunk_name`` set → outbound (also an inbound call
  forwarded back out: the site pays for that leg); ``src_trunk_name`` set →
  inbound; both empty → internal.
* devices: the trunk name, else the extension of the channel
  (``chanext``/``channel_ext`` and ``dstchanext``/``dstchannel_ext``), else
  the channel without its per-call suffix.
* transfers and forwards: when ``action_type`` names one (its values are not
  documented publicly: anything containing TRANSFER, FORWARD, FOLLOWME or
  CALLFWD), redirecting = ``action_owner``, the extension that redirected.
* account_code = ``accountcode``; pbx_call_id = ``session`` (it groups the
  legs of one call), else ``uniqueid``.

Options: ``columns`` (list of column names for a file without header line).
"""

from __future__ import annotations

from ..asterisk_csv.driver import device_of, leg_outcome
from ..base import ANSWERED, BUSY, FAILED, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, Outcome, Reject
from ..csvkit import LocalClock, new_record
from ..headercsv import HeaderCsvDriver

FIELDS = (
    "accountcode", "src", "dst", "clid", "channel", "dstchannel", "start", "answer", "duration", "billsec",
    "disposition", "uniqueid", "chanext", "dstchanext", "dstanswer", "session", "actionowner", "actiontype",
    "srctrunkname", "dsttrunkname",
)
ALIASES = {
    "chanext": ("channel_ext",),
    "dstchanext": ("dstchannel_ext",),
    "actionowner": ("action_owner",),
    "actiontype": ("action_type",),
    "srctrunkname": ("src_trunk_name",),
    "dsttrunkname": ("dst_trunk_name",),
    "start": ("start_time",),
    "answer": ("answer_time",),
}
# channel_ext and chanext are both in the export and hold the same extension;
# the first of them in the header is read.
_DISPOSITIONS = {"ANSWERED": ANSWERED, "NO ANSWER": NO_ANSWER, "NOANSWER": NO_ANSWER, "BUSY": BUSY,
                 "CONGESTION": BUSY, "FAILED": FAILED}
_REDIRECTS = ("TRANSFER", "FORWARD", "FOLLOWME", "CALLFWD", "FWD")


def _number_in_clid(clid: str) -> str:
    start = clid.rfind("<")
    end = clid.rfind(">")
    if 0 <= start < end:
        return clid[start + 1:end].strip()
    return "" if '"' in clid else clid.strip()


class GrandstreamDriver(HeaderCsvDriver):
    name = "grandstream"
    brand = "Grandstream"
    models = "UCM6100, UCM6200, UCM6300, UCM6510 series"
    transport = "CDR CSV export (web UI download or automatic CDR export), header line required"
    description = "Reads Grandstream UCM CDR CSV by header name; direction from the trunk name columns."

    FIELDS = FIELDS
    ALIASES = ALIASES
    REQUIRED = ("start", "src", "dst")

    def __init__(self, config=None):
        super().__init__(config)
        self._clock = LocalClock(self.config.timezone)

    def _record(self, values: list[str]) -> Outcome:
        (account, src, dst, clid, channel, dstchannel, start_text, answer_text, duration_text, billsec_text,
         disposition_text, uniqueid, chanext, dstchanext, dstanswer, session, owner, action, src_trunk,
         dst_trunk) = values
        clock = self._clock
        try:
            start = clock.parse_iso(start_text.strip())
        except ValueError:
            return Reject(f"unreadable start time {start_text[:40]!r}")
        answer = None
        if answer_text and answer_text.strip():
            try:
                answer = clock.parse_iso(answer_text.strip())
            except ValueError:
                return Reject(f"unreadable answer time {answer_text[:40]!r}")
        try:
            duration = int(duration_text) if duration_text else 0
            billsec = int(billsec_text) if billsec_text else 0
        except ValueError:
            bad = billsec_text if duration_text.strip().isdecimal() else duration_text
            return Reject(f"duration or billsec is not a whole number of seconds: {bad[:40]!r}")
        if duration < 0 or billsec < 0:
            return Reject(f"negative duration ({duration}) or billsec ({billsec})")
        # The UCM is Asterisk underneath: a row that was not answered has no talk time, whatever
        # its answer and billsec columns hold (the disposition alone decides: no capture has
        # shown how the UCM fills dstchannel on dialplan-only rows).
        disposition, talk, ring, answer = leg_outcome(disposition_text, duration, billsec, answer, "", None)
        src_trunk = src_trunk.strip()
        dst_trunk = dst_trunk.strip()
        direction = OUTBOUND if dst_trunk else INBOUND if src_trunk else INTERNAL
        redirecting = ""
        if action:
            upper = action.upper()
            if any(word in upper for word in _REDIRECTS):
                redirecting = owner.strip()
        dst = dst.strip()
        return new_record(
            start, talk, ring, answer, src.strip() or _number_in_clid(clid), dst, dst,
            dstanswer.strip(), redirecting,
            src_trunk or chanext.strip() or device_of(channel),
            dst_trunk or dstchanext.strip() or device_of(dstchannel),
            direction, account.strip(), session.strip() or uniqueid.strip(), disposition, session.strip(),
        )
