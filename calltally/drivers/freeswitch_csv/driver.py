"""FreeSWITCH ``mod_cdr_csv`` call detail records.

One line per call leg (per A-leg with the stock ``legs="a"``), written
through a template of ``${variable}`` references chosen in
``cdr_csv.conf.xml``. Option ``template`` tells the driver which one the site
uses: ``"example"`` (the default, the stock default template, 15 fields),
``"sql"`` (the stock ``INSERT INTO cdr VALUES (…);`` template, 13 fields), the
template text itself (``"${caller_id_number}","${destination_number}",…``)
or the list of variable names in order. Variables the driver does not use
are carried and ignored; a start time (``start_stamp``, ``start_epoch`` or
``start_uepoch``) is required.

What becomes what
-----------------
* start/answer from ``*_stamp`` (local time of the site, or UTC with
  ``utc_times: true``), or ``*_epoch`` / ``*_uepoch``; an empty answer (or an
  epoch of 0) means unanswered.
* Stamps as FreeSWITCH writes them (``2020-02-10 22:41:07``), and as a
  spreadsheet writes them when someone opened the file and saved it again:
  ``/``, ``.`` or ``-`` between the parts, no zero padding, seconds left out,
  an optional AM/PM (``2020/2/10 22:41``). A date that starts with its
  4-digit year is always read as year, month, day. A date with its year last
  (``10/02/2020 22:41``, ``2/10/20 22:41``) is day first or month first
  depending on the spreadsheet's language, which the driver cannot know:
  option ``date_order`` says which (``DMY`` or ``MDY``); without it such a
  stamp is rejected with a message saying so.
  ``calltally drivers detect`` tries both and proposes the one that makes
  the sample plausible. (A spreadsheet also drops the leading zeros of
  numbers it takes for numbers: those cannot be put back.)
* talk = billsec; ring = duration − billsec (worked out from the instants
  when the template lacks them).
* disposition: answered when there is an answer time or talk time;
  otherwise from hangup_cause: USER_BUSY → busy; NO_ANSWER,
  NO_USER_RESPONSE, ORIGINATOR_CANCEL, ALLOTTED_TIMEOUT, NORMAL_CLEARING →
  no answer; any other cause → failed.
* calling = caller_id_number (else ani); called = original_called =
  destination_number; final_called = callee_id_number (or
  last_sent_callee_id_number, dialed_user) when it differs, and then
  redirecting = destination_number (the call was forwarded or transferred).
* orig_device = the profile of channel_name (``sofia/external``);
  dest_device = ``gateway/<sip_gateway_name>`` when the call left through a
  gateway, else the profile of ``last_bridge_to``/dialed_user's ``user/<n>``.
* account_code = accountcode; pbx_call_id = call_uuid when the template has
  it (the A-leg's uuid, shared by both legs), else uuid.

Direction hint (first match wins)
---------------------------------
1. ``call_direction`` (as FusionPBX sets it): inbound, outbound, local/internal;
2. context in ``inbound_contexts`` (default ``public``) → inbound;
3. the call went out through a gateway (``sip_gateway_name``) → outbound;
4. context in ``internal_contexts`` (default ``default``, the users'
   context): ``direction`` when it says outbound or internal (FreeSWITCH's
   own ``direction`` is ``inbound`` on every A-leg and says nothing); else,
   with option ``extension_digits`` set, a destination of at most that many
   digits → internal, a longer one → outbound; else no hint;
5. other contexts: ``direction`` when it says inbound, outbound or internal.
"""

from __future__ import annotations

import datetime as dt
import re
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
from ..csvkit import (
    LocalClock,
    check_option_names,
    epoch_to_utc,
    new_record,
    parse_in_batches,
    parse_one,
    string_list_option,
)

TEMPLATES: dict[str, tuple[str, ...]] = {
    "example": (
        "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
        "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec",
        "write_codec",
    ),
    "sql": (
        "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
        "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode",
    ),
}
_USED = ("caller_id_number", "ani", "destination_number", "context", "start_stamp", "start_epoch", "start_uepoch",
         "answer_stamp", "answer_epoch", "answer_uepoch", "end_stamp", "end_epoch", "end_uepoch", "duration",
         "billsec", "hangup_cause", "uuid", "call_uuid", "accountcode", "callee_id_number",
         "last_sent_callee_id_number", "dialed_user", "channel_name", "sip_gateway_name", "last_bridge_to",
         "call_direction", "direction")
_STARTS = ("start_stamp", "start_epoch", "start_uepoch")
_OPTION_NAMES = ("template", "utc_times", "inbound_contexts", "internal_contexts", "extension_digits", "date_order")
_ORDERS = ("YMD", "DMY", "MDY")
# A stamp as a spreadsheet writes it back: 2020/2/10 22:41, 10.02.2020 22:41:07, 2/10/20 10:41 PM.
_LOOSE_STAMP = re.compile(
    r"\s*(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d*)?)?"
    r"\s*(?:([AaPp])\.?[Mm]\.?)?\s*"
)
_VAR = re.compile(r"\$\{([^}]*)\}")
_DIRECTIONS = {"inbound": INBOUND, "outbound": OUTBOUND, "internal": INTERNAL, "local": INTERNAL}
_NO_ANSWER_CAUSES = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT",
                               "NORMAL_CLEARING", "LOSE_RACE", "PICKED_OFF"})
_BUSY_CAUSES = frozenset({"USER_BUSY"})
_CSV: dict[str, Any] = {"skipinitialspace": True}
_SQL_HEAD = "INSERT INTO"
HEADER = Skip("header line")


class YearLast(ValueError):
    """A stamp writes its year last and the site's date order is not known."""

    HINT = ("the date does not start with its 4-digit year: set option date_order to DMY (day first) or MDY "
            "(month first), as the spreadsheet that saved the file wrote dates")


def template_variables(template: Any) -> tuple[str, ...]:
    """The variable names of a ``template`` option; raises DriverConfigError."""
    if template is None:
        return TEMPLATES["example"]
    if isinstance(template, str):
        if template in TEMPLATES:
            return TEMPLATES[template]
        names = [n.strip() for n in _VAR.findall(template)]
        if not names:
            raise DriverConfigError(
                "freeswitch_csv option 'template' must be example, sql, the template text "
                "(\"${caller_id_number}\",\"${destination_number}\",…) or the list of its variable names"
            )
    else:
        value = string_list_option({"template": template}, "template", "freeswitch_csv",
                                   '["caller_id_number", "destination_number", "start_stamp"]')
        names = [v.strip().removeprefix("${").removesuffix("}").strip() for v in value or ()]
    if not any(n in _STARTS for n in names):
        raise DriverConfigError(
            "freeswitch_csv option 'template' must include a start time: start_stamp, start_epoch or start_uepoch"
        )
    return tuple(names)


def _profile(channel: str) -> str:
    """``sofia/external/0612@1.2.3.4`` → ``sofia/external``."""
    parts = channel.strip().split("/", 2)
    return "/".join(parts[:2]) if len(parts) >= 2 else channel.strip()


class FreeswitchCsvDriver(Driver):
    name = "freeswitch_csv"
    brand = "FreeSWITCH"
    models = "FreeSWITCH 1.6–1.10 mod_cdr_csv (also FusionPBX with a cdr_csv template)"
    transport = "CSV files of mod_cdr_csv (Master.csv or per-template files, tail or copy)"
    description = "Reads FreeSWITCH mod_cdr_csv lines through the stock or the site's ${variable} template."

    def __init__(self, config=None):
        super().__init__(config)
        options = self.config.options
        names = template_variables(options.get("template"))
        self._width = len(names)
        pos: dict[str, int] = {}
        for i, n in enumerate(names):
            pos.setdefault(n, i)
        self._at = tuple(pos.get(n, -1) for n in _USED)
        self._clock = LocalClock(self.config.timezone, utc=bool(options.get("utc_times", False)))
        inbound = string_list_option(options, "inbound_contexts", "freeswitch_csv", '["public"]')
        internal = string_list_option(options, "internal_contexts", "freeswitch_csv", '["default"]')
        self._inbound_contexts = frozenset(["public"] if inbound is None else inbound)
        self._internal_contexts = frozenset(["default"] if internal is None else internal)
        self._ext_digits = options.get("extension_digits")
        self._order = str(options.get("date_order", "YMD")).upper()
        self._loose: dict[str, dt.datetime] = {}
        self._unwrapped = False  # parse_many has already unwrapped the lines it hands to parse

    @classmethod
    def detection_options(cls) -> list[dict[str, Any]]:
        """The stock templates, tried by ``calltally drivers detect``."""
        return [{}, {"template": "sql"}]

    #: ``calltally drivers detect`` also reads a sample with each of these date orders
    #: (a file saved again by a spreadsheet may write its dates day first or month first).
    detection_date_forms = ("date_order", ("DMY", "MDY"))

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, _OPTION_NAMES, "freeswitch_csv")
        template_variables(options.get("template"))
        if not isinstance(options.get("utc_times", False), bool):
            raise DriverConfigError("freeswitch_csv option 'utc_times' must be true or false")
        digits = options.get("extension_digits")
        if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 9):
            raise DriverConfigError(
                "freeswitch_csv option 'extension_digits' must be the length of the site's extensions (1 to 9)"
            )
        for key in ("inbound_contexts", "internal_contexts"):
            string_list_option(options, key, "freeswitch_csv", '["public"]')
        order = options.get("date_order", "YMD")
        if not isinstance(order, str) or order.upper() not in _ORDERS:
            raise DriverConfigError(
                "freeswitch_csv option 'date_order' must be DMY (10/02/2020: day first) or MDY (2/10/2020: month "
                "first) for dates a spreadsheet wrote with the year last, or YMD (the default: year first)"
            )

    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw if self._unwrapped else self._unwrap(raw), self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        unwrap = self._unwrap
        self._unwrapped = True
        try:
            return parse_in_batches(self, [unwrap(raw) for raw in raws], self._row, _CSV)
        finally:
            self._unwrapped = False

    @staticmethod
    def _unwrap(raw: bytes) -> bytes:
        """The values of an ``INSERT INTO cdr VALUES (…);`` line (the sql template)."""
        if raw[:3] == b"\xef\xbb\xbf":
            raw = raw[3:]
        if raw[:11].upper() == b"INSERT INTO":
            head, paren, rest = raw.partition(b"(")
            if paren:
                rest = rest.rstrip(b"\r \t")
                if rest.endswith(b";"):
                    rest = rest[:-1].rstrip()
                if rest.endswith(b")"):
                    rest = rest[:-1]
                return rest
        return raw

    def _instant(self, stamp: str, epoch: str, uepoch: str) -> dt.datetime | None:
        """The instant of a stamp/epoch/uepoch triple; None when unset; raises ValueError."""
        if stamp:
            try:
                return self._clock.parse_iso(stamp)
            except ValueError:  # not as FreeSWITCH writes it: perhaps as a spreadsheet wrote it back
                return self._clock.to_utc(self._loose_stamp(stamp))
        if epoch and epoch != "0":
            return epoch_to_utc(int(epoch))
        if uepoch and uepoch != "0":
            return epoch_to_utc(int(uepoch) / 1_000_000)
        return None

    def _loose_stamp(self, stamp: str) -> dt.datetime:
        """A naive local instant from a stamp a spreadsheet rewrote; raises
        ValueError (with what to change when the date order is unknown)."""
        found = self._loose.get(stamp)
        if found is not None:
            return found
        match = _LOOSE_STAMP.fullmatch(stamp)
        if match is None:
            raise ValueError(stamp)
        first, second, third, hour, minute, seconds, half = match.groups()
        if len(first) >= 3:
            year, month, day = first, second, third
        elif self._order == "DMY":
            day, month, year = first, second, third
        elif self._order == "MDY":
            month, day, year = first, second, third
        else:  # 10/02/2020 or 2/10/20: only the site knows which part is the day
            raise YearLast(stamp)
        hours = int(hour)
        if half is not None:
            if not 1 <= hours <= 12:
                raise ValueError(stamp)
            hours = hours % 12 + (12 if half in "Pp" else 0)
        found = dt.datetime(int(year) + (2000 if len(year) <= 2 else 0), int(month), int(day), hours, int(minute),
                            int(seconds or 0))
        if len(self._loose) > 10_000:
            self._loose.clear()
        self._loose[stamp] = found
        return found

    def _row(self, row: list[str]) -> Outcome:
        if len(row) != self._width:
            if len(row) > 2 and row[0].strip().lower() in ("caller_id_name", "caller_id_number"):
                return HEADER
            return Reject(f"{len(row)} fields; the configured FreeSWITCH template has {self._width}")
        (calling, ani, destination, context, start_stamp, start_epoch, start_uepoch, answer_stamp, answer_epoch,
         answer_uepoch, end_stamp, end_epoch, end_uepoch, duration_text, billsec_text, cause, uuid, call_uuid,
         account, callee, last_callee, dialed_user, channel_name, gateway, last_bridge_to, call_direction,
         direction) = [row[i].strip() if i >= 0 else "" for i in self._at]
        try:
            start = self._instant(start_stamp, start_epoch, start_uepoch)
        except (ValueError, OverflowError, OSError) as exc:
            if start_stamp.lower() == "start_stamp":
                return HEADER
            hint = f"; {YearLast.HINT}" if isinstance(exc, YearLast) else ""
            return Reject(f"unreadable start time {(start_stamp or start_epoch or start_uepoch)[:40]!r}{hint}")
        if start is None:
            return Reject("no start time")
        try:
            answer = self._instant(answer_stamp, answer_epoch, answer_uepoch)
        except (ValueError, OverflowError, OSError):
            return Reject(f"unreadable answer time {(answer_stamp or answer_epoch or answer_uepoch)[:40]!r}")
        try:
            end = self._instant(end_stamp, end_epoch, end_uepoch)
        except (ValueError, OverflowError, OSError):
            return Reject(f"unreadable end time {(end_stamp or end_epoch or end_uepoch)[:40]!r}")
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
            which, text = ("duration", duration_text) if billsec_text.lstrip("-").isdecimal() else (
                "billsec", billsec_text)
            return Reject(f"{which} is not a whole number of seconds: {text[:40]!r}")
        if duration < 0 or billsec < 0:
            return Reject(f"negative duration ({duration}) or billsec ({billsec})")
        if answer is not None or billsec > 0:
            disposition = ANSWERED
        elif cause in _BUSY_CAUSES:
            disposition = BUSY
        elif cause in _NO_ANSWER_CAUSES or not cause:
            disposition = NO_ANSWER
        else:
            disposition = FAILED
        final = callee or last_callee or dialed_user
        if final == destination:
            final = ""
        if gateway:
            dest_device = f"gateway/{gateway}"
        elif last_bridge_to and "/" in last_bridge_to:
            dest_device = _profile(last_bridge_to)
        elif dialed_user:
            dest_device = f"user/{dialed_user}"
        else:
            dest_device = ""
        direction_hint = self._direction(context, call_direction, direction, gateway, destination)
        ring = duration - billsec
        return new_record(
            start,
            billsec,
            ring if ring > 0 else 0,
            answer,
            calling or ani,
            destination,
            destination,
            final,
            destination if final else "",
            _profile(channel_name) if channel_name else "",
            dest_device,
            direction_hint,
            account,
            call_uuid or uuid,
            disposition,
        )

    def _direction(self, context: str, call_direction: str, direction: str, gateway: str,
                   destination: str) -> str | None:
        if call_direction:
            told = _DIRECTIONS.get(call_direction.lower())
            if told is not None:
                return told
        if context in self._inbound_contexts:
            return INBOUND
        if gateway:
            return OUTBOUND
        told = _DIRECTIONS.get(direction.lower()) if direction else None
        if context in self._internal_contexts:
            if told in (OUTBOUND, INTERNAL):
                return told
            digits = self._ext_digits
            if digits and destination.isdecimal():
                return INTERNAL if len(destination) <= digits else OUTBOUND
            return None
        return told
