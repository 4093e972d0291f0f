"""Cisco IOS voice gateways and Communications Manager Express: syslog CDR.

With ``gw-accounting syslog`` the router logs one
``%VOIPAAA-5-VOIP_CALL_HISTORY:`` message per call leg, a comma-separated
list of ``Key value`` pairs::

    <syslog prefix> %VOIPAAA-5-VOIP_CALL_HISTORY: CallLegType 1, ConnectionId
    6C4B1C0A 2D1211D6 8006E7D2 8F1B0A71, SetupTime *12:00:00.123 UTC Mon Mar 2 2026,
    PeerAddress 0612345678, PeerSubAddress , DisconnectCause 10  , DisconnectText
    normal call clearing (16), ConnectTime *12:00:05.456 UTC Mon Mar 2 2026,
    DisconnectTime *12:01:05.456 UTC Mon Mar 2 2026, CallOrigin 1, ChargedUnits 0,
    InfoType 2, TransmitPackets 3000, TransmitBytes 480000, ReceivePackets 3000,
    ReceiveBytes 480000

One leg, one record
-------------------
Each message is one *leg* and becomes one :class:`CdrRecord`, with
pbx_call_id = leg_key = ``ConnectionId`` (the GUID the two legs of a call
share). A leg alone does not say whether the call was inbound or outbound, so
the legs are paired as they are read: each leg takes from its partner what it
lacks (the answer leg gives the calling number and incoming dial peer, the
originate leg the called number and outgoing dial peer), and the Miner then
merges the pair into one call. A leg whose partner was read in an earlier
batch finds it in the driver's state (the last 2,000 unpaired legs); the
earlier leg, read alone, keeps only its own half.

* CallOrigin 2 — the *answer* leg (the call arrived on it): calling =
  ``PeerAddress``, orig_device = the leg type (``telephony``, ``voip``…).
* CallOrigin 1 — the *originate* leg (the call left on it): called =
  original_called = ``PeerAddress``, dest_device = the leg type.
* start = ``SetupTime``; answer = ``ConnectTime``; talk = ``DisconnectTime``
  − ``ConnectTime``; ring = ``ConnectTime`` − ``SetupTime`` (unanswered: ring
  = ``DisconnectTime`` − ``SetupTime``).
* Times are ``[*|.]HH:MM:SS.mmm ZONE Dow Mon D YYYY``. A leading ``*`` (clock
  never set) or ``.`` (clock not NTP-synchronised) is dropped: the time is
  used as it is, the PBX being the only clock there is. A zone of UTC, GMT or
  Z is UTC; any other abbreviation (``CET``, ``EST``…) is taken for the
  router's local time and read in the site's ``DriverOptions.timezone``.
* disposition from ``DisconnectCause`` (Q.850, **hexadecimal**): a leg with
  talk time is answered; else 11 (17 user busy) → busy; 10, 12, 13, 1F, 66
  (normal clearing before the answer, no user responding, no answer, normal
  unspecified, timer expiry) → no answer; anything else → failed.
* direction_hint: none by default. With option ``telephony_legs_are_trunks``
  (a plain gateway whose telephony legs are all PSTN lines, not CME phones)
  a telephony answer leg is inbound and a telephony originate leg outbound.
* There is no account code in the call history message (CME account codes
  travel in ``VOIP_FEAT_HISTORY`` messages, which are skipped for now, as are
  all other syslog messages; a line holding control characters is rejected).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..base import (
    ANSWERED,
    BUSY,
    FAILED,
    INBOUND,
    NO_ANSWER,
    OUTBOUND,
    CdrRecord,
    Driver,
    DriverConfigError,
    Outcome,
    Reject,
    Skip,
    decode,
)
from ..csvkit import LocalClock, check_option_names, new_record

UTC = dt.UTC
MARKER = "%VOIPAAA-5-VOIP_CALL_HISTORY:"
KEYS = frozenset({
    "CallLegType", "ConnectionId", "SetupTime", "PeerAddress", "PeerSubAddress", "DisconnectCause",
    "DisconnectText", "ConnectTime", "DisconnectTime", "CallOrigin", "ChargedUnits", "InfoType",
    "TransmitPackets", "TransmitBytes", "ReceivePackets", "ReceiveBytes", "PeerId", "PeerIfIndex",
    "LogicalIfIndex", "RemoteMediaIPAddress", "RemoteMediaUdpPort", "RoundTripDelay", "SelectedQoS",
    "tx_DtmfRelay", "FaxTxDuration", "FaxRxDuration", "GwCollectedCalledNumber", "CallID",
    "CallingNumber", "CalledNumber", "OriginalCallingNumber", "OriginalCalledNumber", "AccountCode",
})
# Legs read without their partner that the driver remembers for the partner.
UNPAIRED_LIMIT = 2000
LEG_TYPES = {"1": "telephony", "2": "voip", "3": "mmoip", "4": "frame-relay", "5": "atm"}
BLANK = Skip("blank line")
NOT_CDR = Skip("not a VOIP_CALL_HISTORY message")
FEATURE = Skip("VOIP_FEAT_HISTORY message (feature details are not read yet)")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UCT"})
_BUSY = frozenset({"11"})
_NO_ANSWER = frozenset({"10", "12", "13", "1F", "66"})
_OPTION_NAMES = ("telephony_legs_are_trunks",)


class CiscoCmeDriver(Driver):
    name = "cisco_cme"
    brand = "Cisco"
    models = "Cisco IOS / IOS XE voice gateways (ISR, ISR4000, CUBE) and Communications Manager Express"
    transport = "syslog (gw-accounting syslog), UDP 514 or a syslog server's file"
    description = "Reads %VOIPAAA-5-VOIP_CALL_HISTORY syslog messages, one record per call leg."

    def __init__(self, config=None):
        super().__init__(config)
        self._clock = LocalClock(self.config.timezone)
        self._days: dict[str, tuple[int, int, int, bool]] = {}
        self._trunk_telephony = bool(self.config.options.get("telephony_legs_are_trunks", False))
        # ConnectionId -> (calling, called, orig_device, dest_device, direction) of a leg read
        # without its partner, oldest first.
        self._unpaired: dict[str, tuple] = {}

    def get_state(self) -> Any:
        return [[key, *half] for key, half in self._unpaired.items()] or None

    def set_state(self, state: Any) -> None:
        self._unpaired = {}
        if isinstance(state, list):
            for item in state[-UNPAIRED_LIMIT:]:
                if isinstance(item, list) and len(item) == 6 and all(isinstance(v, str | None) for v in item):
                    self._unpaired[item[0]] = tuple(item[1:])

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        outcomes = super().parse_many(raws)
        unpaired = self._unpaired
        waiting: dict[str, CdrRecord] = {}  # legs of this batch still without a partner
        for outcome in outcomes:
            if type(outcome) is not CdrRecord or not outcome.leg_key:
                continue
            key = outcome.leg_key
            partner = waiting.pop(key, None)
            if partner is not None:
                _take_half(outcome, _half(partner))
                _take_half(partner, _half(outcome))
            elif key in unpaired:
                _take_half(outcome, unpaired.pop(key))
            else:
                waiting[key] = outcome
        for key, leg in waiting.items():
            unpaired[key] = _half(leg)
        while len(unpaired) > UNPAIRED_LIMIT:
            del unpaired[next(iter(unpaired))]
        return outcomes

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "cisco_cme")
        if not isinstance(options.get("telephony_legs_are_trunks", False), bool):
            raise DriverConfigError(
                "cisco_cme option 'telephony_legs_are_trunks' must be true or false "
                "(true only when every telephony leg of the router is a PSTN line)"
            )

    def _time(self, text: str) -> dt.datetime:
        """A Cisco time as UTC; raises ValueError (or KeyError/IndexError)."""
        hms, _, tail = text.lstrip("*.").partition(" ")
        day = self._days.get(tail)
        if day is None:
            parts = tail.split()
            if len(parts) != 5:
                raise ValueError(text)
            zone, _dow, month, mday, year = parts
            day = (int(year), _MONTHS[month], int(mday), zone in _UTC_NAMES)
            dt.date(*day[:3])  # checks the date
            if len(self._days) > 10_000:
                self._days.clear()
            self._days[tail] = day
        if len(hms) == 12 and hms[2] == ":" and hms[5] == ":" and hms[8] == ".":
            hh, mm, sec, micro = int(hms[:2]), int(hms[3:5]), int(hms[6:8]), int(hms[9:]) * 1000
        else:
            hh_text, mm_text, rest = hms.split(":")
            sec_text, _, frac = rest.partition(".")
            hh, mm, sec = int(hh_text), int(mm_text), int(sec_text)
            micro = int((frac + "000000")[:6]) if frac else 0
        if day[3]:
            return dt.datetime(day[0], day[1], day[2], hh, mm, sec, micro, tzinfo=UTC)
        return self._clock.to_utc(dt.datetime(day[0], day[1], day[2], hh, mm, sec, micro))

    def parse(self, raw: bytes) -> Outcome:
        text = decode(raw)
        at = text.find(MARKER)
        if at < 0:
            if not text.strip():
                return BLANK
            if "%VOIPAAA-5-VOIP_FEAT_HISTORY" in text:
                return FEATURE
            if not text.rstrip("\r\n").replace("\t", " ").isprintable():
                return Reject("not a syslog text line: it holds control characters")
            return NOT_CDR
        fields: dict[str, str] = {}
        last = ""
        for part in text[at + len(MARKER):].strip().split(", "):
            key, _, value = part.partition(" ")
            if key in KEYS:
                fields[key] = value
                last = key
            elif last:
                fields[last] += ", " + part  # a comma inside a value (DisconnectText)
            elif part.strip():
                return Reject(f"unexpected text {part.strip()[:40]!r} where a key was expected")
        for key in ("ConnectionId", "SetupTime", "DisconnectTime", "CallOrigin"):
            if key not in fields:
                return Reject(f"no {key}: a truncated or unknown VOIP_CALL_HISTORY message")
        try:
            start = self._time(fields["SetupTime"].strip())
        except (ValueError, KeyError):
            return Reject(f"unreadable SetupTime {fields['SetupTime'][:40]!r}")
        try:
            end = self._time(fields["DisconnectTime"].strip())
        except (ValueError, KeyError):
            return Reject(f"unreadable DisconnectTime {fields['DisconnectTime'][:40]!r}")
        connect_text = fields.get("ConnectTime", "").strip()
        answer = None
        if connect_text:
            try:
                answer = self._time(connect_text)
            except (ValueError, KeyError):
                return Reject(f"unreadable ConnectTime {connect_text[:40]!r}")
        talk = int((end - answer).total_seconds()) if answer is not None else 0
        if talk <= 0:
            talk = 0
            answer = None
        ring = int(((answer or end) - start).total_seconds())
        cause = fields.get("DisconnectCause", "").strip().upper().lstrip("0") or "0"
        if talk > 0:
            disposition = ANSWERED
        elif cause in _BUSY:
            disposition = BUSY
        elif cause in _NO_ANSWER:
            disposition = NO_ANSWER
        else:
            disposition = FAILED
        origin = fields["CallOrigin"].strip()
        leg_type = fields.get("CallLegType", "").strip()
        leg = LEG_TYPES.get(leg_type, leg_type)
        peer = fields.get("PeerAddress", "").strip()
        connection_id = " ".join(fields["ConnectionId"].split())
        direction = None
        if origin == "2":
            calling, called, orig, dest = peer, "", leg, ""
            if self._trunk_telephony and leg == "telephony":
                direction = INBOUND
        elif origin == "1":
            calling, called, orig, dest = "", peer, "", leg
            if self._trunk_telephony and leg == "telephony":
                direction = OUTBOUND
        else:
            return Reject(f"CallOrigin {origin[:10]!r} is neither 1 (originate) nor 2 (answer)")
        return new_record(
            start, talk, ring if ring > 0 else 0, answer, calling, called, called, "", "", orig, dest,
            direction, "", connection_id, disposition, connection_id,
        )


def _half(leg: CdrRecord) -> tuple:
    return (leg.calling, leg.called, leg.orig_device, leg.dest_device, leg.direction_hint)


def _take_half(leg: CdrRecord, half: tuple) -> None:
    """Fill what a leg lacks from its partner's half of the call."""
    calling, called, orig, dest, direction = half
    if not leg.calling:
        leg.calling = calling or ""
    if not leg.called:
        leg.called = leg.original_called = called or ""
    if not leg.orig_device:
        leg.orig_device = orig or ""
    if not leg.dest_device:
        leg.dest_device = dest or ""
    if leg.direction_hint is None:
        leg.direction_hint = direction
