"""Microsoft Teams PSTN usage report and PSTN / Direct Routing call records.

Reads the CSV export of the Teams admin centre PSTN usage report, or the rows
of Graph ``getPstnCalls`` / ``getDirectRoutingCalls`` written as CSV with
their property names as the header line (``id, callId, userPrincipalName,
startDateTime, endDateTime, duration, callType, callerNumber,
calleeNumber…``). Columns are found by header name (see
:mod:`calltally.drivers.headercsv`), so their order and any extra
columns do not matter; ``startDateTime`` and ``callType`` are required.

What becomes what
-----------------
* start = ``startDateTime`` (ISO 8601 in UTC, ``…Z``, up to 7 decimals);
  a time without an offset is taken as UTC, as Microsoft writes them.
  For Direct Routing rows with ``inviteDateTime``, start is the invite and
  ``startDateTime`` the answer (ring = the difference).
* talk = ``duration`` seconds (else endDateTime − startDateTime).
* calling = ``callerNumber``, called = original_called = ``calleeNumber``.
* direction from ``callType``: ``user_in``, ``conf_in``, ``ucap_in`` (and
  any other ``…_in``) → inbound; ``user_out``, ``user_out_conf``,
  ``user_out_transfer``, ``user_out_forwarding``, ``conf_out``,
  ``ucap_out`` (and any other ``…_out…``) → outbound; Direct Routing's
  ``ByotIn…``/``ByotOut…`` likewise. A PSTN record is
  never internal. Unknown call types give no hint.
* transfers and forwards (``user_out_transfer``, ``user_out_forwarding``,
  any call type naming a transfer or forward):
  redirecting = the user (``userPrincipalName``) who sent the call on.
* devices: the Teams side is the user (``userPrincipalName``, else
  ``userId``); the PSTN side is the Direct Routing SBC
  (``trunkFullyQualifiedDomainName``), else the ``operator``, else ``PSTN``.
* pbx_call_id = ``callId`` (``correlationId`` for Direct Routing), else ``id``.
* disposition: Direct Routing ``successfulCall`` false → failed, or busy /
  no answer from ``finalSipCode`` 486/600 and 408/480/487; otherwise answered
  when there is talk time, else no answer (the usage report lists billed,
  connected calls only).
* charge, connectionCharge and currency are Microsoft's prices and are
  ignored: CallTally prices calls by its own tariffs. Teams has no account
  code.

Options: ``columns`` (list of column names for a file without header line).
"""

from __future__ import annotations

import datetime as dt

from ..base import ANSWERED, BUSY, FAILED, INBOUND, NO_ANSWER, OUTBOUND, Outcome, Reject
from ..csvkit import new_record
from ..headercsv import HeaderCsvDriver

UTC = dt.UTC
_fromiso = dt.datetime.fromisoformat

FIELDS = (
    "id", "callid", "userid", "userprincipalname", "startdatetime", "enddatetime", "duration",
    "calltype", "callernumber", "calleenumber", "operator", "trunkfullyqualifieddomainname",
    "invitedatetime", "successfulcall", "finalsipcode",
)
ALIASES = {
    "callid": ("correlationId", "Call ID", "Correlation ID"),
    "userid": ("User ID",),
    "userprincipalname": ("UPN", "User principal name", "User name"),
    "startdatetime": ("Start time", "Start date time"),
    "enddatetime": ("End time", "End date time"),
    "duration": ("Duration (seconds)", "Duration seconds"),
    "calltype": ("Call type",),
    "callernumber": ("Caller number", "From number"),
    "calleenumber": ("Callee number", "To number"),
    "operator": ("Carrier",),
    "trunkfullyqualifieddomainname": ("SBC FQDN", "trunkFqdn"),
    "invitedatetime": ("Invite time",),
    "successfulcall": ("Success",),
    "finalsipcode": ("Final SIP code",),
}

_TYPES = {
    "user_in": INBOUND, "conf_in": INBOUND, "ucap_in": INBOUND,
    "user_out": OUTBOUND, "user_out_conf": OUTBOUND, "user_out_transfer": OUTBOUND,
    "user_out_forwarding": OUTBOUND, "conf_out": OUTBOUND, "ucap_out": OUTBOUND,
}
_REDIRECTING_TYPES = frozenset({"user_out_transfer", "user_out_forwarding"})
_BUSY_CODES = frozenset({"486", "600", "603"})
_NO_ANSWER_CODES = frozenset({"408", "480", "487"})


def teams_time(text: str) -> dt.datetime:
    """A Teams ISO 8601 instant as UTC (naive = UTC); raises ValueError."""
    value = _fromiso(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.utcoffset() else value


def _redirects(call_type: str) -> bool:
    lowered = call_type.lower()
    return "transfer" in lowered or "forward" in lowered


def direction_of(call_type: str) -> str | None:
    found = _TYPES.get(call_type)
    if found is None:
        lowered = call_type.strip().lower()
        found = _TYPES.get(lowered)
        if found is None:
            if lowered.endswith("_in") or lowered.startswith("byotin"):
                found = INBOUND
            elif "_out" in lowered or lowered.startswith("byotout"):
                found = OUTBOUND
    return found


class TeamsDriver(HeaderCsvDriver):
    name = "teams"
    brand = "Microsoft Teams"
    models = "Teams Phone: Calling Plans, Operator Connect, Direct Routing (PSTN usage report, Graph call records)"
    transport = "CSV export of the PSTN usage report, or Graph getPstnCalls/getDirectRoutingCalls rows as CSV"
    description = "Reads Teams PSTN call records by header name; direction from callType."

    FIELDS = FIELDS
    ALIASES = ALIASES
    REQUIRED = ("startdatetime", "calltype")

    def _record(self, values: list[str]) -> Outcome:
        (row_id, call_id, user_id, upn, start_text, end_text, duration_text, call_type, caller, callee,
         operator, sbc, invite_text, success_text, sip_code) = values
        try:
            connected = teams_time(start_text)
        except ValueError:
            if not start_text.strip():
                return Reject("empty startDateTime")
            return Reject(f"unreadable startDateTime {start_text[:40]!r}")
        start = connected
        answer = connected
        ring = 0
        if invite_text:
            try:
                start = teams_time(invite_text)
            except ValueError:
                return Reject(f"unreadable inviteDateTime {invite_text[:40]!r}")
            ring = int((connected - start).total_seconds())
            if ring < 0:
                start, ring = connected, 0
        if duration_text:
            try:
                talk = int(duration_text)
            except ValueError:
                try:
                    talk = int(float(duration_text))
                except ValueError:
                    return Reject(f"duration is not a number of seconds: {duration_text[:40]!r}")
        elif end_text:
            try:
                talk = int((teams_time(end_text) - connected).total_seconds())
            except ValueError:
                return Reject(f"unreadable endDateTime {end_text[:40]!r}")
        else:
            talk = 0
        if talk < 0:
            return Reject(f"negative duration {talk}")
        direction = direction_of(call_type)
        success = success_text.strip().lower()
        code = sip_code.strip()
        if success in ("false", "0", "no"):
            disposition = BUSY if code in _BUSY_CODES else NO_ANSWER if code in _NO_ANSWER_CODES else FAILED
            answer = None
            talk = 0
        elif talk > 0 or success in ("true", "1", "yes"):
            disposition = ANSWERED
        else:
            disposition = NO_ANSWER
            answer = None
        user = upn.strip() or user_id.strip()
        pstn = sbc.strip() or operator.strip() or "PSTN"
        if direction == INBOUND:
            orig, dest = pstn, user
        else:
            orig, dest = user, pstn
        redirecting = user if call_type in _REDIRECTING_TYPES or _redirects(call_type) else ""
        callee = callee.strip()
        return new_record(
            start, talk, ring, answer, caller.strip(), callee, callee, "", redirecting, orig, dest,
            direction, "", call_id.strip() or row_id.strip(), disposition,
        )
