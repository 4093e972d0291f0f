"""Avaya IP Office SMDR (Station Message Detail Recording), releases 4.x to 12.x.

An IP Office writes one comma-separated line per call *segment*, over TCP (it
pushes to a listener, or a collector connects to it and reads), without
quotes and, except in files some collectors write, without a header line.
The fields sit at fixed positions; releases only ever append new ones (30
fields up to 8.x, 34 from 9.0, 35 from 11.0 with the SMDR record time, more
on later releases), so lines are read by position and any number of fields
from 17 (through Park Time) on is accepted; the ones a short line lacks read
as empty. A header line (``Call Start,Connected Time,…``) is skipped.

====  ==============================  ====  ================================
 #    field                            #    field
====  ==============================  ====  ================================
 1    Call Start (local time)          12   Party1Device
 2    Connected Time ``HH:MM:SS``      13   Party1Name
 3    Ring Time (s)                    14   Party2Device
 4    Caller                           15   Party2Name
 5    Direction ``I``/``O``            16   Hold Time (s)
 6    Called Number                    17   Park Time (s)
 7    Dialled Number                   18   AuthValid
 8    Account                          19   AuthCode
 9    Is Internal ``1``/``0``          20-27  ISDN advice of charge
 10   Call ID                          28-30  External Targeting Cause,
 11   Continuation                            Targeter Id, Targeted Number
====  ==============================  ====  ================================

A party device is ``E<extension>``, ``T<9000 + line>`` (a trunk line) or
``V<…>`` (voicemail, conference, tones: ``V8000``). Internal calls are written
with Direction ``O``; an inbound record names the extension (or voicemail)
that had the segment as Party1 and the line as Party2.

What becomes what
-----------------
* start = Call Start, in the site's time zone (every segment of a call has
  the call's start); pbx_call_id = Call ID (shared by the segments of one
  call: transfers, forwards, voicemail).
* talk = Connected Time + Hold Time + Park Time: the time the segment held
  its line after it was answered, which is what a carrier bills (Connected
  Time alone leaves held and parked time out). ring = Ring Time.
  disposition: answered when talk > 0, else no answer (SMDR does not tell
  busy from unanswered).
* account_code = Account, else AuthCode when AuthValid is 1.
* orig_device / dest_device = the party devices as the PBX orders them:
  Party1 → Party2 on ``O`` records, Party2 → Party1 on ``I`` records (the
  line is Party2 there), e.g. ``T9005`` → ``E212``.

Direction hint, first match wins:

1. Is Internal = 1 → internal (also calls between the nodes of a network);
2. both parties lines → outbound: an outside call sent back out (forwarded,
   transferred, or routed to an outside number) costs an outgoing line;
3. Direction ``I`` → inbound;
4. one party a line → outbound;
5. a short code starting with ``*`` or ``#`` (voicemail, features) →
   internal;
6. otherwise (e.g. a dial that got no line) no hint: the Miner decides from
   the site's extension plan.

Numbers
-------
* outbound and no hint: called = External Targeted Number (where a forward or transfer
  sent the call), else Dialled Number (what the user dialled, outside-line
  access code included, which the site's access codes take off), else Called
  Number (the digits after short-code processing); original_called = Called
  Number; final_called = External Targeted Number. calling = the extension
  of the segment's own party (``E222`` → ``222``), else Caller; when Caller
  names another extension (a transferred segment), it goes to redirecting.
  A line-to-line segment of an ``I`` call (a forward to an outside number)
  keeps the outside Caller as calling and has the number that was called
  (Called Number) as redirecting: the Miner charges the forward to it.
* inbound: calling = Caller (the CLI, empty when withheld); called = Called
  Number, else Dialled Number; original_called = Dialled Number (the DDI as
  received), else Called Number; final_called = the extension that had the
  segment (``E212`` → ``212``), empty for voicemail.
* internal: calling = Caller, else the own party's extension;
  called = Called Number, else Dialled Number; final_called = the extension
  that answered.

The driver has no options.
"""

from __future__ import annotations

from typing import Any

from ..base import ANSWERED, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, Driver, DriverConfigError, Outcome, Reject, Skip
from ..csvkit import LocalClock, new_record, parse_in_batches, parse_one

MIN_FIELDS = 17  # Call Start … Park Time
WIDTH = 30  # Call Start … External Targeted Number: a shorter row is padded to this
HEADER = Skip("header line")
_CSV: dict[str, Any] = {}
_PAD = ("",) * WIDTH


def _seconds(text: str) -> int | None:
    """``HH:MM:SS`` (hours may exceed 99) → seconds; None when unreadable."""
    hours, sep1, rest = text.strip().partition(":")
    minutes, sep2, seconds = rest.partition(":")
    if not (sep1 and sep2 and hours.isdecimal() and minutes.isdecimal() and seconds.isdecimal()):
        return None
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def _whole(text: str) -> int | None:
    """A count of seconds; empty reads as 0, anything but digits as None."""
    text = text.strip()
    if not text:
        return 0
    return int(text) if text.isdecimal() else None


def _is_line(device: str) -> bool:
    return device[:1] == "T" and device[1:].isdecimal()


def _extension_of(device: str) -> str:
    """``E222`` → ``222``; anything else → ""."""
    return device[1:] if device[:1] == "E" and len(device) > 1 else ""


class AvayaIpoDriver(Driver):
    name = "avaya_ipo"
    brand = "Avaya"
    models = "IP Office 500 V2, Server Edition, IP Office 4.x–12.x"
    transport = "SMDR over TCP (the IP Office pushes, or a collector connects to it)"
    description = "Reads Avaya IP Office SMDR lines (30–35+ comma-separated fields), with or without a header."
    # Every segment of a call carries the call's start; the segments follow each other.
    legs_in_sequence = True

    def __init__(self, config=None):
        super().__init__(config)
        self._clock = LocalClock(self.config.timezone)

    # --- options ---------------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        if options:
            raise DriverConfigError(
                f"avaya_ipo has no options (got {', '.join(sorted(map(str, options)))}); "
                "the SMDR fields sit at fixed positions"
            )

    # --- parsing -----------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _row(self, row: list[str]) -> Outcome:
        width = len(row)
        if width < MIN_FIELDS:
            if row[0].strip().lower().startswith("call start"):
                return HEADER
            return Reject(f"{width} fields; an IP Office SMDR line has 30 to 35 (at least {MIN_FIELDS})")
        if width < WIDTH:
            row = row + list(_PAD[width:])
        (start_text, connected_text, ring_text, caller, direction, called_no, dialled, account, internal_flag,
         call_id, _continuation, party1, _name1, party2, _name2, hold_text, park_text, auth_valid,
         auth_code) = row[:19]
        try:
            start = self._clock.parse_iso(start_text.strip().replace("/", "-"))
        except ValueError:
            if start_text.strip().lower().startswith("call start"):
                return HEADER
            return Reject(f"unreadable Call Start {start_text[:40]!r}; expected YYYY/MM/DD HH:MM:SS")
        connected = _seconds(connected_text)
        if connected is None:
            return Reject(f"unreadable Connected Time {connected_text[:40]!r}; expected HH:MM:SS")
        ring, hold, park = _whole(ring_text), _whole(hold_text), _whole(park_text)
        if ring is None or hold is None or park is None:
            for which, text, value in (("Ring", ring_text, ring), ("Hold", hold_text, hold), ("Park", park_text, park)):
                if value is None:
                    return Reject(f"{which} Time is not a whole number of seconds: {text[:40]!r}")
        direction = direction.strip().upper()
        if direction != "I" and direction != "O":
            return Reject(f"Direction is {direction[:20]!r}; expected I or O")
        party1, party2 = party1.strip(), party2.strip()
        orig, dest = (party2, party1) if direction == "I" else (party1, party2)
        caller, called_no, dialled = caller.strip(), called_no.strip(), dialled.strip()
        targeted = row[29].strip()
        orig_line, dest_line = _is_line(orig), _is_line(dest)
        redirecting = final_called = ""
        if internal_flag.strip() == "1":
            hint = INTERNAL
        elif orig_line and dest_line:
            hint = OUTBOUND
        elif direction == "I":
            hint = INBOUND
        elif orig_line or dest_line:
            hint = OUTBOUND
        elif called_no[:1] in ("*", "#"):
            hint = INTERNAL
        else:
            hint = None
        if hint == OUTBOUND or hint is None:
            own = _extension_of(orig)
            calling = own or caller
            if own and caller and caller != own:
                redirecting = caller  # transferred to this extension by the caller
            elif direction == "I" and orig_line:
                redirecting = called_no  # an outside call forwarded back out by the number it called
            called = targeted or dialled or called_no
            original_called = called_no or dialled
            final_called = targeted
        elif hint == INBOUND:
            calling = caller
            called = called_no or dialled
            original_called = dialled or called_no
            final_called = _extension_of(dest)
        else:
            calling = caller or _extension_of(orig)
            called = called_no or dialled
            original_called = dialled or called_no
            final_called = _extension_of(dest)
        talk = connected + hold + park
        account = account.strip()
        if not account and auth_valid.strip() == "1":
            account = auth_code.strip()
            if account.lower() == "n/a":
                account = ""
        return new_record(
            start,
            talk,
            ring,
            None,
            calling,
            called,
            original_called,
            final_called,
            redirecting,
            orig,
            dest,
            hint,
            account,
            call_id.strip(),
            ANSWERED if talk else NO_ANSWER,
            call_id.strip(),
        )
