"""Asterisk CDRs whose columns are chosen by the site: ``cdr_custom`` mappings
(``Master.csv => ${CSV_QUOTE(${CDR(clid)})},…``), ``cdr_adaptive_odbc`` tables
and the FreePBX ``asteriskcdrdb.cdr`` table exported as CSV.

One CSV line per call leg. The columns are NAMED: option ``columns`` lists
them in the order of the file, or option ``preset`` picks a stock set:

* ``cdr_custom`` (the default) — the stock ``cdr_custom.conf`` Master.csv
  mapping: clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata,
  start, answer, end, duration, billsec, disposition, amaflags, accountcode,
  uniqueid, userfield, sequence;
* ``freepbx`` — the FreePBX 13+ ``cdr`` table: calldate, clid, src, dst,
  dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec,
  disposition, amaflags, accountcode, uniqueid, userfield, did,
  recordingfile, cnum, cnam, outbound_cnum, outbound_cnam, dst_cnam, linkedid,
  peeraccount, sequence.

A header line naming the columns (as a table export writes) is skipped and
its names are used for the lines after it, whatever the options say; that
column list is the driver's state. A header is taken as such when it names
``start`` or ``calldate`` and only Asterisk CDR columns or columns of the
``columns`` option (so another product's header is not mistaken for one).
Column names of ``columns`` the driver does not know are carried and ignored.

What becomes what
-----------------
* start = ``start`` (else ``calldate``), answer = ``answer`` (empty, NULL or
  ``0000-00-00 00:00:00``: not answered); local times of the site, or UTC
  with ``usegmtime: true``; a Unix epoch (``${CDR(start,u)}``) is also read.
* disposition: ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (= busy).
* talk and answer need billsec AND the disposition, as in ``asterisk_csv``
  (:func:`~calltally.drivers.asterisk_csv.driver.leg_outcome`): an ANSWERED
  row has talk = billsec (else end − answer) and ring = duration − billsec
  (duration absent: end − start); a NO ANSWER, BUSY or FAILED row has talk 0,
  no answer instant (even when ``answer`` is filled) and its whole duration as
  ring. An ANSWERED row whose ``dstchannel`` is empty was only answered by the
  dialplan (Playback, VoiceMail, Hangup, a Dial or Queue that connected
  nobody…): a missed call, not answered (conferences excepted). Without a
  ``dstchannel`` column the disposition is taken as it is.
* calling = src (else cnum, else the number in clid); called = did when
  there is one (the number the outside caller dialled), else dst;
  original_called = called; final_called = the phone the row reached when
  dstchannel names a numbered phone other than the number called (ring groups),
  else dst when it differs from did; never a trunk channel (``DAHDI/1``, a
  peer of ``trunk_peers``) and never on an outbound row.
* orig_device/dest_device = channel/dstchannel without the per-call suffix;
  account_code = accountcode; pbx_call_id = linkedid, else uniqueid.

Direction hint (first match wins)
---------------------------------
1. ``outbound_cnum`` non-empty → outbound (FreePBX sets it on trunk calls);
2. destination channel (or the Dial target) a trunk → outbound;
3. ``did`` non-empty, or source channel a trunk → inbound;
4. ``dcontext`` in ``inbound_contexts`` / ending in ``inbound_context_suffixes``
   → inbound; in ``outbound_contexts`` → outbound;
5. both channels phones (all-digit peers such as ``PJSIP/1001``) → internal;
6. otherwise no hint.
A trunk is a channel whose technology is in ``trunk_technologies`` (DAHDI,
Zap, mISDN by default) or whose peer is in ``trunk_peers``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..asterisk_csv.driver import (
    _PHONE,
    _TRUNK,
    AsteriskChannels,
    device_of,
    dial_target,
    is_int,
    leg_outcome,
    number_in_clid,
)
from ..base import (
    ANSWERED,
    INBOUND,
    INTERNAL,
    OUTBOUND,
    Driver,
    DriverConfigError,
    Outcome,
    Reject,
    Skip,
)
from ..csvkit import check_option_names, epoch_to_utc, new_record, parse_in_batches, parse_one, string_list_option

PRESETS: dict[str, tuple[str, ...]] = {
    "cdr_custom": (
        "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end",
        "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "sequence",
    ),
    "freepbx": (
        "calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "duration",
        "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "did", "recordingfile", "cnum",
        "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam", "linkedid", "peeraccount", "sequence",
    ),
}
KNOWN_COLUMNS = frozenset(PRESETS["cdr_custom"]) | frozenset(PRESETS["freepbx"]) | {"end"}
_USED = ("start", "calldate", "answer", "end", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp",
         "lastdata", "duration", "billsec", "disposition", "accountcode", "uniqueid", "linkedid", "did",
         "outbound_cnum", "cnum")
_LIST_OPTIONS = ("inbound_contexts", "inbound_context_suffixes", "outbound_contexts", "trunk_peers",
                 "trunk_technologies")
_OPTION_NAMES = ("columns", "preset", "usegmtime") + _LIST_OPTIONS
_EMPTY_TIMES = frozenset({"", "NULL", "\\N", "0000-00-00 00:00:00"})
_CSV: dict[str, Any] = {}
HEADER = Skip("header line")


def column_key(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def _list_option(options: dict[str, Any], key: str) -> list[str] | None:
    return string_list_option(options, key, "asterisk_custom", '["src", "dst", "start"]')


def _columns_option(options: dict[str, Any]) -> tuple[str, ...]:
    columns = _list_option(options, "columns")
    preset = options.get("preset")
    if columns is not None and preset is not None:
        raise DriverConfigError("asterisk_custom: give either 'columns' or 'preset', not both")
    if columns is None:
        if preset is None:
            return PRESETS["cdr_custom"]
        if preset not in PRESETS:
            raise DriverConfigError(
                f"asterisk_custom option 'preset' must be one of {', '.join(sorted(PRESETS))} "
                f"(or list the columns in option 'columns'), not {preset!r}"
            )
        return PRESETS[preset]
    keys = tuple(column_key(c) for c in columns)
    if len(set(keys)) != len(keys):
        raise DriverConfigError("asterisk_custom option 'columns' names a column twice")
    if "start" not in keys and "calldate" not in keys:
        raise DriverConfigError(
            "asterisk_custom option 'columns' must include 'start' or 'calldate' (the call's start time)"
        )
    return keys


def _is_header(row: list[str], extra: frozenset[str] = frozenset()) -> bool:
    """Whether ``row`` names Asterisk CDR columns: all of them known (or among
    the site's ``columns``), a start time among them. Another product's
    header (Grandstream's AcctId…) is not taken."""
    keys = [column_key(c) for c in row]
    if ("start" not in keys and "calldate" not in keys) or len(set(keys)) != len(keys):
        return False
    return all(k in KNOWN_COLUMNS or k in extra for k in keys)




class AsteriskCustomDriver(AsteriskChannels, Driver):
    name = "asterisk_custom"
    brand = "Asterisk"
    models = "Asterisk cdr_custom, cdr_adaptive_odbc/cdr_mysql tables, FreePBX asteriskcdrdb.cdr exports"
    transport = "CSV file (cdr_custom Master.csv tail, or a table export)"
    description = "Reads Asterisk CDR lines whose columns are named by a template, a preset or a header line."

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        self._configured = _columns_option(options)
        self._site_columns = frozenset(self._configured)
        self._init_channels(options)
        self._from_header: tuple[str, ...] | None = None
        self._use(self._configured)

    def _use(self, columns: tuple[str, ...]) -> None:
        self._columns = columns
        self._width = len(columns)
        pos = {c: i for i, c in enumerate(columns)}
        self._at = tuple(pos.get(c, -1) for c in _USED)
        self._has_dstchannel = "dstchannel" in pos

    # --- options and state ---------------------------------------------------------
    @classmethod
    def detection_options(cls) -> list[dict[str, Any]]:
        """The presets, tried by ``calltally drivers detect`` (a header line chooses for itself)."""
        return [{}, {"preset": "freepbx"}]

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "asterisk_custom")
        if not isinstance(options.get("usegmtime", False), bool):
            raise DriverConfigError("asterisk_custom option 'usegmtime' must be true or false, as in cdr.conf")
        for key in _LIST_OPTIONS:
            _list_option(options, key)
        _columns_option(options)

    def get_state(self) -> Any:
        return {"columns": list(self._from_header)} if self._from_header else None

    def set_state(self, state: Any) -> None:
        columns = state.get("columns") if isinstance(state, dict) else None
        if isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns):
            self._from_header = tuple(columns)
            self._use(self._from_header)
        else:
            self._from_header = None
            self._use(self._configured)

    # --- parsing ---------------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _time(self, text: str) -> dt.datetime:
        if text[:1].isdecimal() and "-" not in text and ":" not in text:
            return epoch_to_utc(float(text))
        return self._clock.parse_iso(text.strip())

    def _row(self, row: list[str]) -> Outcome:
        width = len(row)
        if width != self._width:
            return self._odd_row(row)
        (start_text, calldate, answer_text, end_text, clid, src, dst, dcontext, channel, dstchannel, lastapp,
         lastdata, duration_text, billsec_text, disposition_text, account, uniqueid, linkedid, did,
         outbound_cnum, cnum) = [row[i] if i >= 0 else "" for i in self._at]
        if not start_text:
            start_text = calldate
        if not start_text[:1].isdecimal() and _is_header(row, self._site_columns):
            return self._adopt(row)
        try:
            start = self._time(start_text)
        except (ValueError, OverflowError, OSError):
            return Reject(f"unreadable start time {start_text[:40]!r}")
        answer = end = None
        if answer_text not in _EMPTY_TIMES:
            try:
                answer = self._time(answer_text)
            except (ValueError, OverflowError, OSError):
                if answer_text.strip():
                    return Reject(f"unreadable answer time {answer_text[:40]!r}")
        if end_text not in _EMPTY_TIMES:
            try:
                end = self._time(end_text)
            except (ValueError, OverflowError, OSError):
                if end_text.strip():
                    return Reject(f"unreadable end time {end_text[:40]!r}")
        try:
            if billsec_text:
                billsec = int(billsec_text)
            else:
                billsec = int((end - answer).total_seconds()) if end and answer else 0
            if duration_text:
                duration = int(duration_text)
            else:
                duration = int((end - start).total_seconds()) if end else billsec
        except ValueError:
            which, text = ("billsec", billsec_text) if is_int(duration_text) else ("duration", duration_text)
            return Reject(f"{which} is not a whole number of seconds: {text[:40]!r}")
        if duration < 0 or billsec < 0:
            return Reject(f"negative duration ({duration}) or billsec ({billsec})")
        orig_device = device_of(channel)
        dest_device = device_of(dstchannel)
        did = did.strip()
        dst = dst.strip()
        direction = None
        if outbound_cnum.strip():
            direction = OUTBOUND
        else:
            target = dest_device
            if not target and lastapp.strip().lower() == "dial":
                target = dial_target(lastdata)
            dest_kind = self._kind(target)
            orig_kind = self._kind(orig_device)
            if dest_kind == _TRUNK:
                direction = OUTBOUND
            elif did or orig_kind == _TRUNK:
                direction = INBOUND
            else:
                context = dcontext.strip()
                if context in self._inbound_contexts or (self._inbound_suffixes and
                                                         context.endswith(self._inbound_suffixes)):
                    direction = INBOUND
                elif context in self._outbound_contexts:
                    direction = OUTBOUND
                elif orig_kind == _PHONE and dest_kind == _PHONE:
                    direction = INTERNAL
        called = did or dst
        call_id = linkedid.strip() or uniqueid.strip()
        if dest_device and disposition_text == "ANSWERED":
            # The usual row, answered by the channel it names: what leg_outcome gives it, without the call.
            disposition, talk, ring = ANSWERED, billsec, (duration - billsec if duration > billsec else 0)
        else:
            disposition, talk, ring, answer = leg_outcome(
                disposition_text, duration, billsec, answer, lastapp, dest_device if self._has_dstchannel else None)
        final = self._reached(dest_device, called, direction)
        if not final and did and dst != did and direction != OUTBOUND:
            final = dst
        return new_record(
            start,
            talk,
            ring,
            answer,
            src.strip() or cnum.strip() or number_in_clid(clid),
            called,
            called,
            final,
            "",
            orig_device,
            dest_device,
            direction,
            account.strip(),
            call_id,
            disposition,
            call_id,
        )

    def _odd_row(self, row: list[str]) -> Outcome:
        if _is_header(row, self._site_columns):
            return self._adopt(row)
        return Reject(
            f"{len(row)} fields; the configured Asterisk CDR columns are {self._width} "
            f"({', '.join(self._columns[:4])}…)"
        )

    def _adopt(self, row: list[str]) -> Outcome:
        self._from_header = tuple(column_key(c) for c in row)
        self._use(self._from_header)
        return HEADER


