"""Asterisk ``cdr_csv`` call detail records (``Master.csv``).

One CSV line per call leg, without a header, in the fixed order of
``cdr_csv``::

    accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
    lastdata, start, answer, end, duration, billsec, disposition, amaflags,
    [uniqueid], [userfield], [peeraccount, linkedid, sequence]

``uniqueid`` and ``userfield`` are written when ``loguniqueid`` and
``loguserfield`` are on (the default); the last three when ``newcdrcolumns``
is on. The layout is therefore picked from the number of fields of each line:
16, 17 or 18 without, 19, 20 or 21 with the ``newcdrcolumns`` columns. With
17 or 20 fields one of uniqueid/userfield is missing: the field is taken for
a uniqueid when it looks like one (``1690325492.2``), else for a userfield.
(This is not the ``cdr_custom`` order, whose Master.csv starts with clid; read
those files with the ``generic_csv`` driver.)

What becomes what
-----------------
* start/answer are local times of the site (``DriverOptions.timezone``), or
  UTC with option ``usegmtime: true``.
* disposition: ANSWERED, NO ANSWER, BUSY, FAILED; CONGESTION counts as busy.
  Anything else: answered when billsec is above 0, else failed.
* talk and answer come from billsec AND the disposition (:func:`leg_outcome`):
  an ANSWERED row has talk = billsec, ring = duration − billsec and its
  answer instant (empty: none). Every other row was not answered: talk 0, no
  answer instant (several Asterisk versions fill ``answer`` with the start and
  billsec with the duration on NO ANSWER rows), ring = duration. An ANSWERED
  row with no destination channel was answered by the dialplan only
  (Playback, Background, VoiceMail, Read, Wait, Hangup…, or a Dial or Queue
  that connected nobody): no phone took it, so it is a missed call
  (no answer, talk 0, ring = duration) — except in a conference (ConfBridge,
  MeetMe), paging or spying application, where the caller talks with people
  although no destination channel is named.
* calling = src (or the number in clid when src is empty); called =
  original_called = dst; account_code = accountcode; pbx_call_id = linkedid
  when present (it groups the legs of one call), else uniqueid.
* final_called = the phone the leg reached, when dstchannel names a numbered
  phone other than dst (``PJSIP/202`` for a ring group dialled as 600); never
  a trunk (a technology of ``trunk_technologies`` such as ``DAHDI/1``, a peer
  of ``trunk_peers``) and never on an outbound row, whose destination channel
  is the outside line even when its peer is a number (``SIP/5550100``).
* orig_device/dest_device = channel/dstchannel without the per-call suffix
  (``PJSIP/carrier-0000001a`` → ``PJSIP/carrier``).

Direction hint
--------------
A channel is a *trunk* when its technology is in ``trunk_technologies``
(default DAHDI, Zap, mISDN — PRI/analog lines; an FXS phone on DAHDI will be
mistaken for a trunk, list your technologies if that matters) or its peer is
in ``trunk_peers``; it is a *phone* when its peer is all digits (``PJSIP/1001``).
When ``dstchannel`` is empty the first target of a ``Dial`` in ``lastdata``
stands in for it. Then, first match wins:

1. destination a trunk → outbound (also a call from a trunk that is forwarded
   back out: the site pays for that leg);
2. source a trunk → inbound;
3. ``dcontext`` in ``inbound_contexts`` or ending in one of
   ``inbound_context_suffixes`` → inbound;
4. ``dcontext`` in ``outbound_contexts`` → outbound;
5. source and destination phones → internal;
6. otherwise no hint: the Miner decides from the site's extension plan.

Options (``DriverOptions.options``)
-----------------------------------
``usegmtime`` (bool, false), ``inbound_contexts`` (list, default
from-pstn, from-trunk, from-did), ``inbound_context_suffixes`` (list, default
-pstn, -trunk), ``outbound_contexts`` (list, default empty), ``trunk_peers``
(list of peer/endpoint names, compared case-insensitively), ``trunk_technologies``
(list, default DAHDI, Zap, mISDN).
"""

from __future__ import annotations

import datetime as dt
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
from ..csvkit import LocalClock, check_option_names, new_record, parse_in_batches, parse_one, string_list_option

DEFAULT_INBOUND_CONTEXTS = ("from-pstn", "from-trunk", "from-did")
DEFAULT_INBOUND_SUFFIXES = ("-pstn", "-trunk")
DEFAULT_TRUNK_TECHNOLOGIES = ("DAHDI", "Zap", "mISDN")

COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
HEADER = Skip("header line")

_DISPOSITIONS = {
    "ANSWERED": ANSWERED,
    "NO ANSWER": NO_ANSWER,
    "NOANSWER": NO_ANSWER,
    "BUSY": BUSY,
    "CONGESTION": BUSY,
    "FAILED": FAILED,
}
# Dialplan applications in which the caller talks with people although the CDR
# names no destination channel: an ANSWERED row of theirs is a real answer.
TALK_WITHOUT_PEER = frozenset({"confbridge", "meetme", "page", "chanspy", "extenspy"})
_TRUNK, _PHONE, _UNKNOWN = 1, 2, 0
_CSV: dict[str, Any] = {}
_LIST_OPTIONS = ("inbound_contexts", "inbound_context_suffixes", "outbound_contexts", "trunk_peers",
                 "trunk_technologies")
_OPTION_NAMES = ("usegmtime",) + _LIST_OPTIONS


def _looks_like_uniqueid(text: str) -> bool:
    head, dot, tail = text.strip().partition(".")
    return bool(dot) and head.isdecimal() and tail.isdecimal()


def _layout(width: int, row: list[str]) -> tuple[int, int] | None:
    """(uniqueid index, linkedid index) for a row of ``width`` fields; -1 when
    absent; None when no cdr_csv layout has that many fields."""
    if width == 18:
        return 16, -1
    if width == 21:
        return 16, 19
    if width == 16:
        return -1, -1
    if width == 17:
        return (16 if _looks_like_uniqueid(row[16]) else -1), -1
    if width == 19:
        return -1, 17
    if width == 20:
        return (16 if _looks_like_uniqueid(row[16]) else -1), 18
    return None


def reached_phone(dest_device: str, dst: str) -> str:
    """The numbered phone a row reached when it is not the number dialled.

    A ring group or hunt list rings phones for a number that is no phone (600):
    each row's dstchannel names its phone (``PJSIP/202``, ``Local/202@from-queue``).
    """
    reached = dest_device.partition("/")[2].partition("@")[0]
    return reached if reached != dst and reached.isdecimal() else ""


def leg_outcome(
    disposition_text: str, duration: int, billsec: int, answer: dt.datetime | None, lastapp: str,
    dstchannel: str | None,
) -> tuple[str, int, int, dt.datetime | None]:
    """(disposition, talk, ring, answer) of one Asterisk CDR row.

    Talk time needs both billsec and the disposition: some Asterisk versions
    fill ``answer`` (with the start) and billsec (with the duration) on rows
    that were NOT answered, so only an ANSWERED row keeps them; any other row
    rang for its whole duration. An ANSWERED row without a destination channel
    (``dstchannel`` empty; None when the file has no such column) was only
    answered by the dialplan (a Playback, a VoiceMail, a Hangup, a Queue the
    caller left): nobody took the call, so it counts as not answered — unless
    ``lastapp`` is an application where the caller talks with people without a
    peer channel (a conference).
    """
    disposition = _DISPOSITIONS.get(disposition_text)
    if disposition is None:
        disposition = _DISPOSITIONS.get(disposition_text.strip().upper())
        if disposition is None:
            disposition = ANSWERED if billsec > 0 else FAILED
    if disposition == ANSWERED:
        if dstchannel is None or dstchannel or lastapp.strip().lower() in TALK_WITHOUT_PEER:
            ring = duration - billsec
            return ANSWERED, billsec, (ring if ring > 0 else 0), answer
        disposition = NO_ANSWER
    return disposition, 0, duration, None


def device_of(channel: str) -> str:
    """A channel name without its per-call suffix: ``SIP/carrier-0000001a`` →
    ``SIP/carrier``, ``Local/100@ctx-00000003;2`` → ``Local/100@ctx``,
    ``DAHDI/1-1`` → ``DAHDI/1``."""
    channel = channel.strip()
    if channel.endswith((";1", ";2")):
        channel = channel[:-2]
    head, dash, tail = channel.rpartition("-")
    if dash and "/" in head and tail.isalnum():
        return head
    return channel


def dial_target(lastdata: str) -> str:
    """The device of the first target of a Dial: ``PJSIP/0039…@carrier,60`` →
    ``PJSIP/carrier``; ``SIP/carrier/0039…`` → ``SIP/carrier``;
    ``DAHDI/g0/0039…`` → ``DAHDI/g0``; ``PJSIP/1001`` → ``PJSIP/1001``."""
    target = lastdata.split(",", 1)[0].split("&", 1)[0].strip()
    tech, slash, rest = target.partition("/")
    if not slash:
        return ""
    peer = rest.rsplit("@", 1)[1] if "@" in rest else rest.split("/", 1)[0]
    return f"{tech}/{peer}"


def number_in_clid(clid: str) -> str:
    start = clid.rfind("<")
    end = clid.rfind(">")
    if 0 <= start < end:
        return clid[start + 1:end].strip()
    return "" if '"' in clid else clid.strip()


def _list_option(options: dict[str, Any], key: str) -> list[str] | None:
    return string_list_option(options, key, "asterisk_csv", '["from-pstn"]')


class AsteriskChannels:
    """What Asterisk drivers share: telling trunks from phones by channel, and
    inbound from outbound by dialplan context (both cached per value)."""

    def _init_channels(self, options: dict[str, Any]) -> None:
        self._clock = LocalClock(self.config.timezone, utc=bool(options.get("usegmtime", False)))
        contexts = _list_option(options, "inbound_contexts")
        self._inbound_contexts = frozenset(DEFAULT_INBOUND_CONTEXTS if contexts is None else contexts)
        suffixes = _list_option(options, "inbound_context_suffixes")
        self._inbound_suffixes = tuple(DEFAULT_INBOUND_SUFFIXES if suffixes is None else suffixes)
        self._outbound_contexts = frozenset(_list_option(options, "outbound_contexts") or ())
        self._trunk_peers = frozenset(p.lower() for p in _list_option(options, "trunk_peers") or ())
        self._trunk_techs = frozenset(
            t.lower() for t in _list_option(options, "trunk_technologies") or DEFAULT_TRUNK_TECHNOLOGIES
        )
        self._contexts: dict[str, str | None] = {}
        self._kinds: dict[str, int] = {"": _UNKNOWN}
        self._phones: dict[str, str] = {}  # device → the numbered phone it is ('' for none or a trunk)

    def _kind(self, device: str) -> int:
        kind = self._kinds.get(device)
        if kind is None:
            tech, _, peer = device.partition("/")
            if tech.lower() in self._trunk_techs or peer.lower() in self._trunk_peers:
                kind = _TRUNK
            elif peer.isdecimal():
                kind = _PHONE
            else:
                kind = _UNKNOWN
            if len(self._kinds) > 50_000:
                self._kinds = {"": _UNKNOWN}
            self._kinds[device] = kind
        return kind

    def _context(self, dcontext: str) -> str | None:
        found = self._contexts.get(dcontext, "")
        if found == "":
            suffixes = self._inbound_suffixes
            if dcontext in self._inbound_contexts or (suffixes and dcontext.endswith(suffixes)):
                found = INBOUND
            elif dcontext in self._outbound_contexts:
                found = OUTBOUND
            else:
                found = None
            if len(self._contexts) > 10_000:
                self._contexts.clear()
            self._contexts[dcontext] = found
        return found

    def _reached(self, dest_device: str, called: str, direction: str | None) -> str:
        """The phone a row reached (:func:`reached_phone`), never a trunk and
        never on an outbound row: there the destination is the outside line."""
        if direction == OUTBOUND:
            return ""
        phone = self._phones.get(dest_device)
        if phone is None:
            phone = reached_phone(dest_device, "")
            if phone and self._kind(dest_device) == _TRUNK:
                phone = ""
            if len(self._phones) > 50_000:
                self._phones.clear()
            self._phones[dest_device] = phone
        return phone if phone != called else ""

    def _direction(self, dcontext: str, orig_device: str, dest_device: str) -> str | None:
        dest = self._kind(dest_device)
        if dest == _TRUNK:
            return OUTBOUND
        orig = self._kind(orig_device)
        if orig == _TRUNK:
            return INBOUND
        by_context = self._context(dcontext)
        if by_context is not None:
            return by_context
        if orig == _PHONE and dest == _PHONE:
            return INTERNAL
        return None


class AsteriskCsvDriver(AsteriskChannels, Driver):
    name = "asterisk_csv"
    brand = "Asterisk"
    models = "Asterisk 1.8–22 cdr_csv (FreePBX, Issabel, Vicidial…)"
    transport = "Master.csv file (tail or periodic copy)"
    description = "Reads Asterisk cdr_csv Master.csv lines, with or without newcdrcolumns."

    def __init__(self, config=None):
        super().__init__(config)
        self._init_channels(self.config.options)

    # --- options ---------------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "asterisk_csv")
        if not isinstance(options.get("usegmtime", False), bool):
            raise DriverConfigError(
                "asterisk_csv option 'usegmtime' must be true or false, as usegmtime in cdr.conf [csv]"
            )
        for key in _LIST_OPTIONS:
            _list_option(options, key)

    # --- parsing -----------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _row(self, row: list[str]) -> Outcome:
        width = len(row)
        layout = _layout(width, row)
        if layout is None:
            if row and row[0].strip().lower() == "accountcode":
                return HEADER
            return Reject(
                f"{width} fields; an Asterisk cdr_csv line has 16 to 18, or 19 to 21 with newcdrcolumns"
            )
        if row[0] and row[0].strip().lower() == "accountcode" and row[1].strip().lower() == "src":
            return HEADER
        (account, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
         start_text, answer_text, end_text, duration_text, billsec_text, disposition_text) = row[:15]
        clock = self._clock
        try:
            start = clock.parse_iso(start_text)
        except ValueError:
            return Reject(f"unreadable start time {start_text[:40]!r}" + _custom_hint(row))
        answer = None
        if answer_text:
            try:
                answer = clock.parse_iso(answer_text)
            except ValueError:
                if answer_text.strip():
                    return Reject(f"unreadable answer time {answer_text[:40]!r}")
        if end_text:
            try:
                dt.datetime.fromisoformat(end_text)
            except ValueError:
                if end_text.strip():
                    return Reject(f"unreadable end time {end_text[:40]!r}" + _custom_hint(row))
        try:
            duration = int(duration_text)
            billsec = int(billsec_text)
        except ValueError:
            which, text = ("billsec", billsec_text) if is_int(duration_text) else ("duration", duration_text)
            return Reject(f"{which} is not a whole number of seconds: {text[:40]!r}")
        if duration < 0 or billsec < 0:
            return Reject(f"negative duration ({duration}) or billsec ({billsec})")
        uid_at, linked_at = layout
        call_id = ""
        if linked_at >= 0:
            call_id = row[linked_at].strip()
        if not call_id and uid_at >= 0:
            call_id = row[uid_at].strip()
        orig_device = device_of(channel)
        dest_device = device_of(dstchannel)
        dcontext = dcontext.strip()
        target = dest_device
        if not target and lastapp.strip().lower() == "dial":
            target = dial_target(lastdata)  # not connected: where the Dial was going
        direction = self._direction(dcontext, orig_device, target)
        src = src.strip() or number_in_clid(clid)
        dst = dst.strip()
        if dest_device and disposition_text == "ANSWERED":
            # The usual row, answered by the channel it names: what leg_outcome gives it, without the call.
            disposition, talk, ring = ANSWERED, billsec, (duration - billsec if duration > billsec else 0)
        else:
            disposition, talk, ring, answer = leg_outcome(disposition_text, duration, billsec, answer, lastapp,
                                                          dest_device)
        return new_record(
            start,
            talk,
            ring,
            answer,
            src,
            dst,
            dst,
            self._reached(dest_device, dst, direction),
            "",
            orig_device,
            dest_device,
            direction,
            account.strip(),
            call_id,
            disposition,
            call_id,
        )

def is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _custom_hint(row: list[str]) -> str:
    """A hint for lines in cdr_custom's default order (clid first, start in
    the 9th field), which some sites also call Master.csv."""
    try:
        dt.datetime.fromisoformat(row[8].strip())
    except (ValueError, IndexError):
        return ""
    return "; the line looks like cdr_custom's order (clid first): read it with the generic_csv driver"
