"""Alcatel-Lucent OmniPCX Enterprise (OXE): accounting tickets, version ED5.2.

The OXE sends one fixed-width ticket per call over "Ethernet accounting"
(TCP 2533) or writes it to a file. The ED5.2 ticket has 48 fields, 525
characters. The layout is the option ``fields``: a list of ``[name, width]``
pairs in ticket order. The default, :data:`ED52_FIELDS`, was derived from the
field list and widths of the ED5.2 ticket description; sites whose OXE release
writes another ticket version give theirs. Only the names below are read;
others are skipped over.

What becomes what
-----------------
* start = ``StartDateTime``, else ``EndDateTime`` − ``Duration``: local time
  of the site (``DriverOptions.timezone``). Dates are read from their digits,
  ``YYYYMMDD HH:MM:SS`` (or ``YYYY-MM-DD…``) and also day first
  (``DD/MM/YYYY HH:MM:SS``); seconds may be missing.
* talk = ``EffectiveCallDuration`` when filled, else ``Duration``; ring =
  ``WaitingDuration``. Durations are seconds, or ``HH:MM:SS``.
* ``CallType`` (0 OC, 1 OCP, 7 PO, 11 → outbound; 4 IC, 5 ICP, 9 IP, 12 →
  inbound; 14 LL local-local → internal; the private-network and transit
  types 2 PN, 3 LN, 6 UN, 8 POP, 10 PIP, 13 PIC, 15 LT give no hint, as the
  Miner can tell them from the extension plan better than the ticket).
* calling = ``CallingNumber`` (the charged extension on an outgoing call when
  empty); called = final_called = ``CalledNumber``; original_called =
  ``InitialDialledNumber`` when filled, else ``CalledNumber``.
* redirecting = ``ActingExtensionNumber`` when ``RedirectedCallIndicator`` is
  set (not blank, not 0): the extension that transferred or forwarded.
* devices: the trunk as ``TG<TrunkGroupIdentity>/<TrunkIdentity>`` on the
  network side, the charged extension (``ChargedNumber``) on the other.
* account_code = ``AccessCode`` (the business/account code);
  pbx_call_id = ``CallReference``.
* disposition: answered with talk time, else no answer.
* A ticket must start with its ``TicketVersion`` (``ED…``); a line that does
  not is rejected, a blank line skipped.

Options: ``fields`` (layout, as above), ``ticket_versions`` (list of version
prefixes accepted, default ``["ED"]``).
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
    Outcome,
    Reject,
    Skip,
    decode,
)
from ..csvkit import LocalClock, check_option_names, new_record, string_list_option
from ..fixedwidth import Layout

ED52_FIELDS: tuple[tuple[str, int], ...] = (
    ("TicketVersion", 5), ("CalledNumber", 30), ("ChargedNumber", 30), ("ChargedUserName", 20),
    ("ChargedCostCenter", 10), ("ChargedCompany", 16), ("ChargedPartyNode", 5), ("Subaddress", 20),
    ("CallingNumber", 30), ("CallType", 2), ("CostType", 1), ("EndDateTime", 17), ("ChargeUnits", 5),
    ("CostInfo", 10), ("Duration", 10), ("TrunkIdentity", 5), ("TrunkGroupIdentity", 5), ("TrunkNode", 5),
    ("PersonalOrBusiness", 1), ("AccessCode", 16), ("SpecificChargeInfo", 7), ("BearerCapability", 1),
    ("HighLevelComp", 2), ("DataVolume", 10), ("UserToUserVolume", 5), ("ExternalFacilities", 40),
    ("InternalFacilities", 40), ("CallReference", 10), ("SegmentsRate1", 10), ("SegmentsRate2", 10),
    ("SegmentsRate3", 10), ("ComType", 1), ("X25IncomingFlowRate", 2), ("X25OutgoingFlowRate", 2),
    ("Carrier", 2), ("InitialDialledNumber", 30), ("WaitingDuration", 5), ("EffectiveCallDuration", 10),
    ("RedirectedCallIndicator", 1), ("StartDateTime", 17), ("ActingExtensionNumber", 30),
    ("CalledNumberNode", 5), ("CallingNumberNode", 5), ("InitialDialledNumberNode", 5),
    ("ActingExtensionNumberNode", 5), ("TransitTrunkGroupIdentity", 5), ("NodeTimeOffset", 6), ("TimeDlt", 6),
)
WANTED = (
    "TicketVersion", "CalledNumber", "ChargedNumber", "CallingNumber", "CallType", "EndDateTime", "Duration",
    "TrunkIdentity", "TrunkGroupIdentity", "AccessCode", "CallReference", "InitialDialledNumber",
    "WaitingDuration", "EffectiveCallDuration", "RedirectedCallIndicator", "StartDateTime",
    "ActingExtensionNumber",
)
REQUIRED = ("TicketVersion", "CalledNumber", "CallType", "Duration")
CALL_TYPES = {
    "0": OUTBOUND, "1": OUTBOUND, "7": OUTBOUND, "11": OUTBOUND,
    "4": INBOUND, "5": INBOUND, "9": INBOUND, "12": INBOUND,
    "14": INTERNAL,
}
_KNOWN_TYPES = frozenset(str(n) for n in range(16))
_OPTION_NAMES = ("fields", "ticket_versions")
BLANK = Skip("blank line")


def read_seconds(text: str) -> int:
    """``125`` or ``00:02:05`` → 125; raises ValueError."""
    if ":" in text:
        total = 0
        for part in text.split(":"):
            total = total * 60 + int(part)
        return total
    return int(text)


def read_stamp(text: str) -> dt.datetime:
    """A naive datetime from the digits of ``text``: year first
    (``20260302 09:00:00``) or day first (``02/03/2026 09:00``); raises ValueError."""
    digits = "".join(ch for ch in text if ch.isdecimal())
    if len(digits) not in (12, 14):
        raise ValueError(text)
    if 1900 <= int(digits[:4]) <= 2199 and 1 <= int(digits[4:6]) <= 12:
        year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    else:
        day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:8])
    second = int(digits[12:14]) if len(digits) == 14 else 0
    return dt.datetime(year, month, day, int(digits[8:10]), int(digits[10:12]), second)


class AlcatelOxeDriver(Driver):
    name = "alcatel_oxe"
    brand = "Alcatel-Lucent Enterprise"
    models = "OmniPCX Enterprise (OXE) with ED5.2 accounting tickets"
    transport = "Ethernet accounting (TCP 2533) or ticket file; one fixed-width ticket per line"
    description = "Reads OXE fixed-width accounting tickets by a configurable [name, width] layout."

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._layout = Layout(options.get("fields", ED52_FIELDS), WANTED, REQUIRED, self.name)
        self._versions = tuple(string_list_option(options, "ticket_versions", self.name, '["ED"]') or ("ED",))
        self._clock = LocalClock(self.config.timezone)
        self._stamps: dict[str, dt.datetime] = {}

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "alcatel_oxe")
        Layout(options.get("fields", ED52_FIELDS), WANTED, REQUIRED, cls.name)
        string_list_option(options, "ticket_versions", cls.name, '["ED"]')

    def _stamp(self, text: str) -> dt.datetime:
        value = self._stamps.get(text)
        if value is None:
            value = self._clock.to_utc(read_stamp(text))
            if len(self._stamps) > 50_000:
                self._stamps.clear()
            self._stamps[text] = value
        return value

    def parse(self, raw: bytes) -> Outcome:
        text = decode(raw).rstrip("\r\n")
        if not text.strip():
            return BLANK
        layout = self._layout
        if not text.startswith(self._versions):
            return Reject(f"not an OXE ticket: it does not start with a ticket version {'/'.join(self._versions)}")
        if len(text) < layout.min_length:
            return Reject(f"{len(text)} characters: a truncated ticket (the layout needs {layout.min_length})")
        (_version, called, charged, calling, call_type, end_text, duration_text, trunk, trunk_group, access,
         reference, initial, waiting_text, effective_text, redirected, start_text, acting) = layout.cut(text)
        if call_type not in _KNOWN_TYPES:
            return Reject(f"unknown CallType {call_type[:10]!r}")
        try:
            duration = read_seconds(duration_text) if duration_text else 0
            talk = read_seconds(effective_text) if effective_text else duration
            ring = read_seconds(waiting_text) if waiting_text else 0
        except ValueError:
            return Reject(f"unreadable duration {duration_text[:12]!r}/{effective_text[:12]!r}/{waiting_text[:8]!r}")
        if min(duration, talk, ring) < 0:
            return Reject("negative duration")
        try:
            if start_text:
                start = self._stamp(start_text)
            elif end_text:
                start = self._stamp(end_text) - dt.timedelta(seconds=duration)
            else:
                return Reject("neither StartDateTime nor EndDateTime")
        except ValueError:
            return Reject(f"unreadable date {(start_text or end_text)[:20]!r}")
        direction = CALL_TYPES.get(call_type)
        trunk_device = ""
        if trunk_group or trunk:
            trunk_device = f"TG{trunk_group}/{trunk}" if trunk else f"TG{trunk_group}"
        if direction == INBOUND:
            orig, dest = trunk_device, charged
        elif direction == OUTBOUND:
            orig, dest = charged, trunk_device
            calling = calling or charged
        else:
            orig, dest = calling or charged, trunk_device or called
        disposition = ANSWERED if talk > 0 else NO_ANSWER
        answer = start + dt.timedelta(seconds=ring) if talk > 0 else None
        return new_record(
            start, talk, ring, answer, calling, called, initial or called, called,
            acting if redirected not in ("", "0") else "", orig, dest, direction, access, reference, disposition,
        )
