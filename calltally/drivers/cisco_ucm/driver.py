"""Cisco Unified Communications Manager CDR flat files (releases 10.x to 15.x).

A CDR file pushed by the CDR Repository Manager starts with two lines: the
quoted names of its columns (``"cdrRecordType","globalCallID_callManagerId",…``)
and their types (``INTEGER,INTEGER,…,VARCHAR(50),…``). Every further line is one
record: strings quoted, integers not. The column set grows between releases,
so rows are read by the names of the last header line seen, never by position;
that header is the driver's state (:meth:`CiscoUcmDriver.get_state`).

What becomes what
-----------------
* ``cdrRecordType`` 1 is a call; 2 (a CMR, call quality) and 0 are skipped.
* start = ``dateTimeOrigination``; answer = ``dateTimeConnect`` (0: never
  answered); talk = ``duration``; ring = connect − origination when answered,
  else disconnect − origination. All are UTC epoch seconds.
* pbx_call_id = ``<globalCallID_callManagerId>-<globalCallID_callId>`` (shared
  by all legs of one call).
* account_code = ``clientMatterCode``, else ``authCodeDescription``, else
  ``authorizationCodeValue`` (forced authorisation code).
* disposition: answered when connected; otherwise from the Q.850 causes in
  ``destCause_value``/``origCause_value``: 17 busy; 0, 16, 18, 19 no answer;
  anything else failed.

Options (``DriverOptions.options``)
-----------------------------------
``phone_device_prefixes``
    Device-name prefixes of phones and other endpoints that are not trunks
    (case-sensitive). Default: :data:`DEFAULT_PHONE_PREFIXES`.
``trunk_device_pattern``
    A regular expression (``re.search``) matching trunk and gateway names.
``trunk_devices``
    Exact names of trunks and gateways.

When neither ``trunk_device_pattern`` nor ``trunk_devices`` is set, every
device whose name does not start with a phone prefix is taken for a trunk or
gateway. When either is set, they alone say what a trunk is. The direction
hint is then: destination a trunk → outbound (also when the origin is a trunk
too: a call forwarded or transferred back out costs like an outbound one);
origin a trunk → inbound; both ends phones → internal; otherwise (a device
name is empty, e.g. a call that never got routed) no hint.
"""

from __future__ import annotations

import re
from operator import itemgetter
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
from ..csvkit import check_option_names, epoch_to_utc, new_record, parse_in_batches, parse_one, string_list_option

DEFAULT_PHONE_PREFIXES = (
    "SEP",  # SCCP/SIP desk phones (SEP + MAC)
    "CSF",  # Jabber for desktop
    "BOT",  # Jabber for Android
    "TCT",  # Jabber for iPhone
    "TAB",  # Jabber for tablets
    "ATA",  # analog telephone adaptors
    "CIPC",  # IP Communicator
    "AN",  # analog ports of VG gateways registered as phones (SCCP)
    "BAT",  # phones added by BAT with a dummy MAC
    "CiscoUM",  # Unity Connection voicemail ports
    "CFB",  # conference bridges
)

HEADER_FIRST = "cdrRecordType"

# Columns a row cannot be read without, and columns that may be missing
# (their value is then empty).
REQUIRED = (
    "globalCallID_callManagerId",
    "globalCallID_callId",
    "dateTimeOrigination",
    "callingPartyNumber",
    "originalCalledPartyNumber",
    "finalCalledPartyNumber",
    "dateTimeConnect",
    "dateTimeDisconnect",
    "duration",
    "origDeviceName",
    "destDeviceName",
)
OPTIONAL = (
    "lastRedirectDn",
    "outpulsedCalledPartyNumber",
    "clientMatterCode",
    "authCodeDescription",
    "authorizationCodeValue",
    "origCause_value",
    "destCause_value",
)

HEADER_SEEN = Skip("header line")
TYPE_LINE = Skip("column type line")
CMR = Skip("call management record (cdrRecordType 2)")
START_RECORD = Skip("start record (cdrRecordType 0)")

_TRUNK, _PHONE, _UNKNOWN = 1, 2, 0
_NO_ANSWER_CAUSES = frozenset({0, 16, 18, 19})
_CSV = {"skipinitialspace": True}
_OPTION_NAMES = ("phone_device_prefixes", "trunk_device_pattern", "trunk_devices")


class _Plan:
    """How to read the rows under one header line."""

    __slots__ = ("columns", "width", "pick", "pad", "missing")

    def __init__(self, columns: list[str]):
        self.columns = columns
        self.width = len(columns)
        index: dict[str, int] = {}
        for i, name in enumerate(columns):
            index.setdefault(name.lower(), i)
        self.missing = [name for name in REQUIRED if name.lower() not in index]
        # A missing optional column reads the empty string appended to the row.
        self.pad = any(name.lower() not in index for name in OPTIONAL)
        positions = [index.get(name.lower(), self.width) for name in REQUIRED + OPTIONAL]
        self.pick = itemgetter(*positions)


def _string_list(options: dict[str, Any], key: str) -> list[str] | None:
    return string_list_option(options, key, "cisco_ucm", '["SEP", "CSF"]')


class CiscoUcmDriver(Driver):
    name = "cisco_ucm"
    brand = "Cisco"
    models = "Unified Communications Manager 10.x–15.x"
    transport = "CDR flat files pushed by SFTP/FTP (CDR Repository Manager billing server)"
    description = "Reads the CDR files of Cisco Unified CM by the column names of their header line."

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._phone_prefixes = tuple(_string_list(options, "phone_device_prefixes") or DEFAULT_PHONE_PREFIXES)
        self._trunk_names = frozenset(_string_list(options, "trunk_devices") or ())
        pattern = options.get("trunk_device_pattern")
        self._trunk_re = re.compile(pattern) if pattern else None
        self._explicit_trunks = bool(self._trunk_names or self._trunk_re)
        self._kinds: dict[str, int] = {"": _UNKNOWN}
        self._plan: _Plan | None = None

    # --- options ---------------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "cisco_ucm")
        _string_list(options, "phone_device_prefixes")
        _string_list(options, "trunk_devices")
        pattern = options.get("trunk_device_pattern")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise DriverConfigError(
                    "cisco_ucm option 'trunk_device_pattern' must be a regular expression string"
                )
            try:
                re.compile(pattern)
            except re.error as exc:
                raise DriverConfigError(
                    f"cisco_ucm option 'trunk_device_pattern' is not a valid regular expression: {exc}"
                ) from None

    # --- state -------------------------------------------------------------------
    def get_state(self) -> list[str] | None:
        return list(self._plan.columns) if self._plan else None

    def set_state(self, state: Any) -> None:
        if state and isinstance(state, list):
            self._plan = _Plan([str(name) for name in state])
        else:
            self._plan = None

    # --- parsing -----------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _row(self, row: list[str]) -> Outcome:
        plan = self._plan
        if row[0] != "1" or plan is None or len(row) != plan.width or plan.missing:
            return self._not_plain(row)
        if plan.pad:
            row.append("")
        (cm_id, call_id, origination, calling, original_called, final_called, connect, disconnect,
         duration, orig_device, dest_device, redirecting, outpulsed, cmc, auth_desc, auth_value,
         orig_cause, dest_cause) = plan.pick(row)
        try:
            t_orig = int(origination)
            t_connect = int(connect)
            t_disc = int(disconnect)
            talk = int(duration)
        except ValueError:
            return self._bad_number(origination, connect, disconnect, duration)
        if t_orig <= 0 or t_connect < 0 or t_disc < 0:
            return Reject(
                f"negative or zero instant: dateTimeOrigination {t_orig}, dateTimeConnect {t_connect}, "
                f"dateTimeDisconnect {t_disc}"
            )
        try:
            start = epoch_to_utc(t_orig)
            answer = epoch_to_utc(t_connect) if t_connect else None
        except (ValueError, OverflowError, OSError):
            return Reject(f"instant out of range: dateTimeOrigination {t_orig}, dateTimeConnect {t_connect}")
        if answer is not None:
            ring = t_connect - t_orig
            disposition = ANSWERED
        else:
            ring = t_disc - t_orig if t_disc else 0
            disposition = self._unanswered(orig_cause, dest_cause)
        orig_device = orig_device.strip()
        dest_device = dest_device.strip()
        original_called = original_called.strip()
        final_called = final_called.strip()
        # Direction (see the module docstring): destination trunk → outbound,
        # origin trunk → inbound, phone to phone → internal.
        kinds = self._kinds
        dest_kind = kinds.get(dest_device)
        if dest_kind is None:
            dest_kind = self._kind(dest_device)
        if dest_kind == _TRUNK:
            direction = OUTBOUND
        else:
            orig_kind = kinds.get(orig_device)
            if orig_kind is None:
                orig_kind = self._kind(orig_device)
            if orig_kind == _TRUNK:
                direction = INBOUND
            elif orig_kind == _PHONE and dest_kind == _PHONE:
                direction = INTERNAL
            else:
                direction = None
        # What was called: for an outbound call, the digits that left the system
        # (outpulsedCalledPartyNumber, present when a transformation changed
        # them), else the number that finally took the call — after a forward
        # to an outside number that is the outside number, which is what the
        # carrier charges for. For inbound and internal calls, the number the
        # caller dialled (the DID or extension), which stays put when the call
        # is forwarded; the forward target is still in final_called.
        if direction == OUTBOUND:
            called = outpulsed.strip() or final_called or original_called
        else:
            called = original_called or final_called
        return new_record(
            start,
            talk if talk > 0 else 0,
            ring if ring > 0 else 0,
            answer,
            calling.strip(),
            called,
            original_called,
            final_called,
            redirecting.strip(),
            orig_device,
            dest_device,
            direction,
            cmc.strip() or auth_desc.strip() or auth_value.strip(),
            f"{cm_id.strip()}-{call_id.strip()}",
            disposition,
            f"{cm_id.strip()}-{call_id.strip()}" if call_id.strip() else "",
        )

    def _not_plain(self, row: list[str]) -> Outcome:
        """Rows that are not a well-formed call row under a complete header."""
        kind = row[0].strip() if row else ""
        if kind == HEADER_FIRST:
            self._plan = _Plan([name.strip() for name in row])
            return HEADER_SEEN
        if kind.upper().startswith("INTEGER"):
            return TYPE_LINE
        if kind == "2":
            return CMR
        if kind == "0":
            return START_RECORD
        if kind.lstrip("0") != "1":
            return Reject(f"not a Cisco CDR row: cdrRecordType is {kind[:40]!r}, expected 1")
        plan = self._plan
        if plan is None:
            return Reject(
                'no header line seen: a Cisco CDR file starts with the "cdrRecordType",… line '
                "naming its columns, and rows cannot be read before it"
            )
        if len(row) != plan.width:
            return Reject(f"{len(row)} fields where the current header has {plan.width} columns")
        if plan.missing:
            return Reject("the current header line lacks the column(s) " + ", ".join(plan.missing))
        row[0] = "1"  # a padded record type (" 1", "01"): read it as a plain row
        return self._row(row)

    @staticmethod
    def _bad_number(origination: str, connect: str, disconnect: str, duration: str) -> Reject:
        for name, value in (("dateTimeOrigination", origination), ("dateTimeConnect", connect),
                            ("dateTimeDisconnect", disconnect), ("duration", duration)):
            try:
                int(value)
            except ValueError:
                return Reject(f"{name} is not a whole number: {value[:40]!r}")
        return Reject("unreadable number")  # not reached

    @staticmethod
    def _unanswered(orig_cause: str, dest_cause: str) -> str:
        causes = []
        for text in (dest_cause, orig_cause):
            try:
                causes.append(int(text))
            except ValueError:
                causes.append(0)
        if 17 in causes:
            return BUSY
        if causes[0] in _NO_ANSWER_CAUSES and causes[1] in _NO_ANSWER_CAUSES:
            return NO_ANSWER
        return FAILED

    # --- direction ---------------------------------------------------------------
    def _kind(self, device: str) -> int:
        kind = self._kinds.get(device)
        if kind is None:
            if self._explicit_trunks:
                trunk = device in self._trunk_names or bool(self._trunk_re and self._trunk_re.search(device))
            else:
                trunk = not device.startswith(self._phone_prefixes)
            kind = _TRUNK if trunk else _PHONE
            if len(self._kinds) > 50_000:
                self._kinds = {"": _UNKNOWN}
            self._kinds[device] = kind
        return kind
